// Package secretstoretest holds fakes of secretstore.Store for tests: Memory
// for unit tests, FileFake for end-to-end scripts that run connctl several
// times, and Failing and Blocking for error and timeout paths. The fakes
// check keys and sizes as the real stores do. They store secrets in plain
// text, so only test code may import this package; the shipped binary must
// never be able to select one of them.
package secretstoretest

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/connctl/connctl/internal/secretstore"
)

// Memory is a goroutine-safe in-memory Store.
type Memory struct {
	mu    sync.Mutex
	items map[string]string
}

var _ secretstore.Store = (*Memory)(nil)

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{items: map[string]string{}}
}

// Name returns "memory".
func (m *Memory) Name() string { return "memory" }

// Get returns the secret for connID and kind or an error wrapping
// secretstore.ErrNotFound.
func (m *Memory) Get(ctx context.Context, connID, kind string) (string, error) {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[key]
	if !ok {
		return "", notFound(key)
	}
	return v, nil
}

// Set stores value for connID and kind.
func (m *Memory) Set(ctx context.Context, connID, kind, value string) error {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if err := secretstore.CheckSize(key, value); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[key] = value
	return nil
}

// Delete removes the secret for connID and kind, or returns an error wrapping
// secretstore.ErrNotFound.
func (m *Memory) Delete(ctx context.Context, connID, kind string) error {
	key, err := secretstore.ItemKey(connID, kind)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[key]; !ok {
		return notFound(key)
	}
	delete(m.items, key)
	return nil
}

// Items returns a copy of everything stored, keyed "<connID>/<kind>", so a
// test can assert what was written and that nothing else was.
func (m *Memory) Items() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.items)
}

func notFound(key string) error {
	return fmt.Errorf("%w: %s", secretstore.ErrNotFound, key)
}
