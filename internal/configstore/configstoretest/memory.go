package configstoretest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/connctl/connctl/internal/configstore"
)

// Memory is a set of definitions kept in memory, shared by the handles Open
// returns, as a database is by its clients. It keeps the rules of
// configstore.ValidateDocument and passes RunConformance, so tests of code
// that changes definitions can use it instead of a file.
type Memory struct {
	mu  sync.Mutex
	doc configstore.Document
}

// NewMemory returns empty definitions.
func NewMemory() *Memory {
	return &Memory{doc: configstore.Document{SchemaVersion: configstore.SchemaVersion}}
}

// Open returns a new handle, holding the definitions as they are now.
func (m *Memory) Open() *MemoryHandle {
	h := &MemoryHandle{m: m}
	_ = h.Reload()
	return h
}

// MemoryHandle is one client's view of a Memory.
type MemoryHandle struct {
	m   *Memory
	mu  sync.Mutex
	doc *configstore.Document
}

var _ configstore.Definitions = (*MemoryHandle)(nil)

// Document returns the definitions as last read or written.
func (h *MemoryHandle) Document() *configstore.Document {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.doc
}

// Connections returns every connection.
func (h *MemoryHandle) Connections() []configstore.Connection { return h.Document().Connections }

// Find returns the connection named name.
func (h *MemoryHandle) Find(name string) (*configstore.Connection, bool) {
	_, c := h.Document().Find(name)
	return c, c != nil
}

// Update applies fn to a copy of the shared definitions and keeps the
// result if fn succeeds and the result is valid.
func (h *MemoryHandle) Update(ctx context.Context, fn func(d *configstore.Document) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.m.mu.Lock()
	defer h.m.mu.Unlock()
	doc := clone(&h.m.doc)
	if err := fn(doc); err != nil {
		return err
	}
	doc.SchemaVersion = configstore.SchemaVersion
	if err := configstore.ValidateDocument("memory", doc); err != nil {
		return err
	}
	h.m.doc = *clone(doc)
	h.set(doc)
	return nil
}

// Reload takes the shared definitions as they are now.
func (h *MemoryHandle) Reload() error {
	h.m.mu.Lock()
	doc := clone(&h.m.doc)
	h.m.mu.Unlock()
	h.set(doc)
	return nil
}

func (h *MemoryHandle) set(doc *configstore.Document) {
	h.mu.Lock()
	h.doc = doc
	h.mu.Unlock()
}

// clone deep-copies d, so that no handle shares a map or a slice with the
// stored definitions.
func clone(d *configstore.Document) *configstore.Document {
	b, err := json.Marshal(d)
	if err != nil {
		panic(err) // a Document always encodes
	}
	var out configstore.Document
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return &out
}
