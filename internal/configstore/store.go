// Package configstore holds connection definitions and settings on disk: one
// YAML file, connections as a list (viper lowercases map keys, and names keep
// their case), written only under a lock, atomically, 0600 in a 0700 folder.
// A file that fails to parse is never written. It holds no secret.
//
// Callers reach connection and job definitions through the Definitions
// interface (the file is one implementation; configstoretest holds the
// suite every implementation passes) and settings through SettingsView.
package configstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/connctl/connctl/internal/atomicfile"
)

// Store is the config file, the file implementation of Definitions: its
// path and the document as last read or written. Its embedded SettingsView
// resolves the file's settings section, so a *Store is a whole Config. It
// is safe for concurrent use; several Stores, in this process or others,
// may share one file.
type Store struct {
	*SettingsView

	path   string
	getenv func(string) string

	mu sync.Mutex
	// doc is replaced, never changed in place: readers keep a snapshot.
	// It is nil while the parse cache (lazy) has not been decoded: the
	// connections are then read from it one at a time (EachConnection),
	// and decoded whole only when Document is called.
	doc      *Document
	lazy     *cacheFile
	settings *settingsDoc
	exists   bool
	sum      [sha256.Size]byte // of the file doc was read from or written as, when exists
}

// settingsDoc is the settings section of one read or write of the file: a
// new one each time, so that a SettingsView knows when to build its viper
// again without decoding every connection.
type settingsDoc struct {
	Settings map[string]any
}

var _ Config = (*Store)(nil)

// DefaultPath is $XDG_CONFIG_HOME/connctl/config.yaml (os.UserConfigDir).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find a config folder (%v): set CONNCTL_CONFIG or pass --config", err)
	}
	return filepath.Join(dir, "connctl", "config.yaml"), nil
}

// Open reads the config at path. A missing file is an empty config; a file
// that cannot be parsed is an error naming the file and the line.
func Open(path string, getenv func(string) string) (*Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	s := &Store{path: path, getenv: getenv}
	s.SettingsView = &SettingsView{file: s, getenv: getenv}
	r, err := readDocument(path, nil)
	if err != nil {
		return nil, err
	}
	s.set(r)
	return s, nil
}

// Path is the config file's path.
func (s *Store) Path() string { return s.path }

// Exists reports whether the file existed when last read.
func (s *Store) Exists() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exists
}

// Document returns the document as last read or written. Callers must not
// modify it; use Update. It is a snapshot: a later Update or Reload does not
// change it.
func (s *Store) Document() *Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.document()
}

// document is Document with s.mu held: it decodes the parse cache the
// first time.
func (s *Store) document() *Document {
	if s.doc == nil && s.lazy != nil {
		doc, err := s.lazy.document()
		if err != nil { // never: scanCache checked these bytes with the same code
			panic(fmt.Sprintf("configstore: decoding a checked parse cache: %v", err))
		}
		s.doc = &doc
	}
	return s.doc
}

// settingsDoc returns the settings as last read or written, without
// decoding the connections.
func (s *Store) settingsDoc() *settingsDoc {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings
}

// EachConnection calls fn with every connection, in file order, and stops
// at fn's first error, which it returns. When the parse cache was valid
// and Document has not been called, each connection is decoded from the
// cache in turn into memory reused for the next, so that a caller which
// keeps a few fields of each (list) neither holds every connection nor
// makes garbage of each. So c and what it points to (its maps, slices and
// pointers) are valid only during the call: fn must not modify them or
// keep them; it may keep c's strings, and copies of the rest.
func (s *Store) EachConnection(fn func(c *Connection) error) error {
	s.mu.Lock()
	doc, lazy := s.doc, s.lazy
	s.mu.Unlock()
	if doc == nil && lazy != nil {
		return lazy.each(true, fn)
	}
	return EachOf(doc.Connections, fn)
}

// EachConnectionAt calls fn with the connections at the stored indices at
// (their places in EachConnection's order), in at's order, and stops at
// fn's first error; an index out of range is an error before any call.
// Read lazily from the parse cache, each connection is decoded on its own
// (scanCache noted where each starts), so a caller writing connections in
// another order than the file's (list -o json, sorted) holds one at a
// time. What fn may keep is as for EachConnection.
func (s *Store) EachConnectionAt(at []int, fn func(c *Connection) error) error {
	s.mu.Lock()
	doc, lazy := s.doc, s.lazy
	s.mu.Unlock()
	if doc == nil && lazy != nil {
		return lazy.eachAt(at, fn)
	}
	return EachAtOf(doc.Connections, at, fn)
}

// ConnectionCount returns the number of connections, without decoding
// them.
func (s *Store) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc == nil && s.lazy != nil {
		return max(s.lazy.nConns, 0)
	}
	return len(s.doc.Connections)
}

// ConnectionCount returns the number of connections of defs, without
// decoding them where defs can (a *Store), for a caller sizing what it
// keeps of each.
func ConnectionCount(defs Definitions) int {
	if c, ok := defs.(interface{ ConnectionCount() int }); ok {
		return c.ConnectionCount()
	}
	return len(defs.Connections())
}

// EachOf calls fn with each of conns in turn and stops at fn's first
// error: EachConnection for a backend that holds its connections decoded.
func EachOf(conns []Connection, fn func(c *Connection) error) error {
	for i := range conns {
		if err := fn(&conns[i]); err != nil {
			return err
		}
	}
	return nil
}

// EachAtOf is EachOf for the connections at the indices at, in at's
// order; an index out of range is an error before any call.
func EachAtOf(conns []Connection, at []int, fn func(c *Connection) error) error {
	for _, i := range at {
		if i < 0 || i >= len(conns) {
			return fmt.Errorf("configstore: connection %d of %d", i, len(conns))
		}
	}
	for _, i := range at {
		if err := fn(&conns[i]); err != nil {
			return err
		}
	}
	return nil
}

// EachConnectionAt calls fn with the connections of defs at the stored
// indices at, in at's order, one at a time where defs can (a *Store
// reading its parse cache), else from defs.Connections(); see
// Store.EachConnectionAt.
func EachConnectionAt(defs Definitions, at []int, fn func(c *Connection) error) error {
	if e, ok := defs.(interface {
		EachConnectionAt([]int, func(*Connection) error) error
	}); ok {
		return e.EachConnectionAt(at, fn)
	}
	return EachAtOf(defs.Connections(), at, fn)
}

// EachConnection calls fn with every connection of defs, in stored order,
// one at a time where defs can (a *Store reading its parse cache), else
// from defs.Connections(); see Store.EachConnection for what fn may do.
func EachConnection(defs Definitions, fn func(c *Connection) error) error {
	if e, ok := defs.(interface {
		EachConnection(func(*Connection) error) error
	}); ok {
		return e.EachConnection(fn)
	}
	return EachOf(defs.Connections(), fn)
}

// Connections returns every connection, in file order.
func (s *Store) Connections() []Connection { return s.Document().Connections }

// Find returns the connection named name (case-insensitive).
func (s *Store) Find(name string) (*Connection, bool) {
	_, c := s.Document().Find(name)
	return c, c != nil
}

// set replaces the in-memory document with r's.
func (s *Store) set(r readResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.exists, s.sum = r.exists, r.sum
	if r.lazy != nil {
		s.doc, s.lazy = nil, r.lazy
		s.settings = &settingsDoc{Settings: r.lazy.settings}
		return
	}
	doc := r.doc
	s.doc, s.lazy = &doc, nil
	s.settings = &settingsDoc{Settings: doc.Settings}
}

// snapshot returns a deep copy of the document when it is the parse of
// the file whose digest is sum.
func (s *Store) snapshot(sum [sha256.Size]byte) (Document, bool) {
	s.mu.Lock()
	doc, lazy, exists, fromSum := s.doc, s.lazy, s.exists, s.sum
	s.mu.Unlock()
	if !exists || fromSum != sum {
		return Document{}, false
	}
	if doc != nil {
		return cloneDocument(doc), true
	}
	// Not decoded yet: a fresh decode is a copy that shares nothing
	// (its strings point into the cache's bytes, which never change).
	d, err := lazy.document()
	if err != nil {
		return Document{}, false
	}
	d.Settings = cloneSettings(d.Settings)
	return d, true
}

// ErrNotFound is wrapped by errors for unknown connection names.
var ErrNotFound = errors.New("not found")

// LockTimeout bounds how long a writer waits for another connctl process.
const LockTimeout = 30 * time.Second

// Update locks the file, re-reads it (another process may have changed it),
// applies fn and writes the result atomically. If fn fails, nothing is
// written. The in-memory document is replaced only on success.
func (s *Store) Update(ctx context.Context, fn func(d *Document) error) error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create config folder: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, LockTimeout)
	defer cancel()
	unlock, err := atomicfile.Lock(lctx, s.path)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("config file %s is locked by another connctl process (waited %s)", s.path, LockTimeout)
	}
	defer unlock()

	// Re-read the file: another process may have changed it. When it is
	// still the very bytes this Store read or wrote, start from a deep copy
	// of that document instead of parsing it again.
	r, err := readDocument(s.path, s)
	if err != nil {
		return err
	}
	doc, err := r.document()
	if err != nil {
		return err
	}
	if err := fn(&doc); err != nil {
		return err
	}
	doc.SchemaVersion = SchemaVersion
	if err := ValidateDocument(s.path, &doc); err != nil {
		return fmt.Errorf("refusing to write an invalid config: %w", err)
	}
	out, err := encodeDocument(&doc)
	if err != nil {
		return err
	}
	if err := writeAtomic(s.path, out, true); err != nil {
		return err
	}
	sum := sha256.Sum256(out)
	storeCached(s.path, len(out), sum, &doc, chunkSums(out))
	s.set(readResult{doc: doc, exists: true, sum: sum})
	return nil
}

var yamlLine = regexp.MustCompile(`^yaml: (line \d+: )?`)

// sumFile returns the SHA-256 and size of the file at path, reading it in
// pieces; ok is false if it cannot be read.
func sumFile(path string) (sum [sha256.Size]byte, size int64, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return sum, 0, false
	}
	defer f.Close() //nolint:errcheck // read only
	h := sha256.New()
	size, err = io.CopyBuffer(h, f, make([]byte, 64<<10))
	if err != nil {
		return sum, 0, false
	}
	h.Sum(sum[:0])
	return sum, size, true
}

// fromSnapshot returns a deep copy of from's document when it is the parse
// of the file whose digest is sum.
func fromSnapshot(from *Store, sum [sha256.Size]byte) (Document, bool) {
	if from == nil {
		return Document{}, false
	}
	return from.snapshot(sum)
}

// readResult is a parsed config file and the digest of its bytes: doc, or,
// when the parse cache was valid, lazy (not decoded yet).
type readResult struct {
	doc    Document
	lazy   *cacheFile
	exists bool
	sum    [sha256.Size]byte
}

// document returns r's Document, decoding the parse cache if need be.
func (r *readResult) document() (Document, error) {
	if r.lazy != nil {
		return r.lazy.document()
	}
	return r.doc, nil
}

// readDocument reads and parses the file at path. When from holds the
// parse of these very bytes (the file is unchanged since from read or
// wrote it), the result is a deep copy of that; else the parse cache is
// used when it was made from these bytes; else the file is parsed, and
// connections whose lines the parse cache knows are taken from it.
func readDocument(path string, from *Store) (readResult, error) {
	return readDocumentWith(path, from, spillIfBig)
}

// spillMode says when a cold read spills the cache it builds to disk
// (parseToCache's toDisk).
type spillMode int

const (
	spillIfBig  spillMode = iota // from bigConfig bytes on
	spillNever                   // in memory
	spillAlways                  // tests: whatever the size
)

// readDocumentWith is readDocument with the spill mode.
func readDocumentWith(path string, from *Store, spill spillMode) (readResult, error) {
	r := readResult{exists: true}
	var cache *cacheFile
	if sum, size, ok := sumFile(path); ok && size >= cacheThreshold {
		// A large file: its digest first, read in small pieces, so that
		// when the copy or the cache is valid the file is never held in
		// memory (a 145,672-connection config is 53 MB).
		r.sum = sum
		if doc, ok := fromSnapshot(from, sum); ok {
			r.doc = doc
			return r, nil
		}
		if cache = loadCacheFile(path, int(size)); cache.valid(sum) {
			r.lazy = cache
			return r, nil
		}
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return readResult{doc: Document{SchemaVersion: SchemaVersion}}, nil
	}
	if err != nil {
		return readResult{}, fmt.Errorf("read config file: %w", err)
	}
	if sum := sha256.Sum256(raw); sum != r.sum || cache == nil { // changed meanwhile, or small
		r.sum = sum
		if doc, ok := fromSnapshot(from, sum); ok {
			r.doc = doc
			return r, nil
		}
		if cache = loadCacheFile(path, len(raw)); cache.valid(sum) {
			r.lazy = cache
			return r, nil
		}
	}
	if len(raw) >= chunkedThreshold && len(bytes.TrimSpace(raw)) > 0 {
		// A large config: straight into a parse cache, read lazily, never
		// a whole Document (issue #17); else parsed as before.
		toDisk := spill == spillAlways || spill == spillIfBig && len(raw) >= bigConfig
		if lazy, ok := parseToCache(path, raw, r.sum, cache, toDisk); ok {
			if lazy == nil { // written to disk: read it back without the file's bytes
				size := len(raw)
				raw, cache = nil, nil
				// The file's bytes (53 MB at 145,672 connections) go back
				// to the system now, not at some later collection, before
				// the cache and whatever the command builds from it.
				debug.FreeOSMemory()
				if lazy = loadCacheFile(path, size); !lazy.valid(r.sum) {
					// Gone or replaced meanwhile (another connctl): again, in memory.
					return readDocumentWith(path, from, spillNever)
				}
			}
			r.lazy = lazy
			return r, nil
		}
	}
	var reuse map[chunkSum]*Connection
	if cache != nil && len(cache.sums) > 0 {
		if old, err := cache.document(); err == nil {
			sums := cache.chunkSums()
			reuse = make(map[chunkSum]*Connection, len(sums))
			for i := range sums {
				reuse[sums[i]] = &old.Connections[i]
			}
		}
	}
	doc, sums, err := parseDocument(path, raw, reuse)
	if err != nil {
		return readResult{}, err
	}
	storeCached(path, len(raw), r.sum, &doc, sums)
	r.doc = doc
	return r, nil
}

// parseDocument parses raw, the text of the config at path, and checks it.
// It also returns the chunk digests of its connections when it read them
// one at a time (see decodeChunked, which takes reuse).
func parseDocument(path string, raw []byte, reuse map[chunkSum]*Connection) (Document, []chunkSum, error) {
	var doc Document
	var sums []chunkSum
	if len(bytes.TrimSpace(raw)) == 0 {
		return doc, nil, fmt.Errorf("config file %s is empty: restore it from %s.bak or delete it to start afresh", path, path)
	}
	chunked := false
	if len(raw) >= chunkedThreshold {
		doc, sums, chunked = decodeChunked(raw, reuse)
	}
	if !chunked {
		if err := decodeWhole(path, raw, &doc); err != nil {
			return Document{}, nil, err
		}
	}
	if doc.SchemaVersion > SchemaVersion {
		return Document{}, nil, fmt.Errorf("config file %s has schema_version %d, newer than this connctl understands (%d): upgrade connctl", path, doc.SchemaVersion, SchemaVersion)
	}
	if doc.SchemaVersion < 0 {
		return Document{}, nil, fmt.Errorf("config file %s has an invalid schema_version %d", path, doc.SchemaVersion)
	}
	if doc.SchemaVersion == 0 {
		doc.SchemaVersion = SchemaVersion
	}
	if err := validateDocument(path, &doc); err != nil {
		return Document{}, nil, err
	}
	if err := checkFieldValues(path, raw, &doc); err != nil {
		return Document{}, nil, err
	}
	return doc, sums, nil
}

func validateDocument(path string, doc *Document) error {
	seenName := make(map[string]string, len(doc.Connections))
	seenID := make(map[string]bool, len(doc.Connections))
	for i := range doc.Connections {
		c := &doc.Connections[i]
		if c.ID == "" {
			return fmt.Errorf("config file %s: connection %d (%q) has no id", path, i+1, c.Name)
		}
		if seenID[c.ID] {
			return fmt.Errorf("config file %s: connection id %s appears twice", path, c.ID)
		}
		seenID[c.ID] = true
		if err := ValidateName(c.Name); err != nil {
			return fmt.Errorf("config file %s: connection %d: %w", path, i+1, err)
		}
		key := NameKey(c.Name)
		if other, dup := seenName[key]; dup {
			return fmt.Errorf("config file %s: connection names %q and %q differ only in case", path, other, c.Name)
		}
		seenName[key] = c.Name
		if c.Connector == "" {
			return fmt.Errorf("config file %s: connection %q has no connector", path, c.Name)
		}
		if _, err := ParseStatus(string(c.Status)); err != nil {
			return fmt.Errorf("config file %s: connection %q: %w", path, c.Name, err)
		}
	}
	jobNames := make(map[string]string, len(doc.Jobs))
	for i := range doc.Jobs {
		j := &doc.Jobs[i]
		if j.ID == "" || seenID[j.ID] {
			return fmt.Errorf("config file %s: job %d (%q) has no id or a duplicate one", path, i+1, j.Name)
		}
		seenID[j.ID] = true
		if err := ValidateName(j.Name); err != nil {
			return fmt.Errorf("config file %s: job %d: %s", path, i+1, strings.Replace(err.Error(), "connection name", "job name", 1))
		}
		key := NameKey(j.Name)
		if other, dup := jobNames[key]; dup {
			return fmt.Errorf("config file %s: job names %q and %q differ only in case", path, other, j.Name)
		}
		jobNames[key] = j.Name
		if doc.ConnectionByID(j.ConnectionID) == nil {
			return fmt.Errorf("config file %s: job %q uses connection id %q, which does not exist", path, j.Name, j.ConnectionID)
		}
	}
	return nil
}

// writeAtomic writes data through atomicfile (temp file 0600, fsync,
// rename, folder fsync), keeping the previous file as path.bak when backup
// is set, so a crash leaves either the old or the new file, never half.
//
// A symlinked path (a dotfiles setup) is written through: the temp file and
// the backup go beside the link's target, which the rename replaces, so the
// link stays a link.
func writeAtomic(path string, data []byte, backup bool) error {
	err := atomicfile.Write(path, data, atomicfile.Options{
		TempPattern:        ".config-*.tmp",
		Backup:             backup,
		FollowSymlink:      true,
		IgnoreDirSyncError: true,
	})
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Reload re-reads the file (another process may have changed it).
func (s *Store) Reload() error {
	r, err := readDocument(s.path, nil)
	if err != nil {
		return err
	}
	s.set(r)
	return nil
}

// decodeWhole decodes the whole file with yaml.v3; errors name the line.
func decodeWhole(path string, raw []byte, doc *Document) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil {
		msg := err.Error()
		line := ""
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line = strings.TrimSuffix(strings.TrimPrefix(m[1], "line "), ": ")
			msg = strings.TrimPrefix(msg, m[0])
		}
		msg = strings.ReplaceAll(msg, "\n", "; ")
		if line != "" {
			return fmt.Errorf("config file %s:%s cannot be read: %s (fix that line; connctl never rewrites a file it cannot read)", path, line, msg)
		}
		return fmt.Errorf("config file %s cannot be read: %s (connctl never rewrites a file it cannot read)", path, msg)
	}
	return nil
}
