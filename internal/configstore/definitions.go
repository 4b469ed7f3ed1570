package configstore

import (
	"context"
	"time"
)

// Definitions is where connection and job definitions live: today the YAML
// config file (*Store); a team backend (a database) is another
// implementation in its own package. Every implementation passes
// configstoretest.RunConformance.
//
// A handle keeps the definitions as last read or written; Reload catches up
// with other writers, and Update always starts from the current stored
// state, never from the handle's copy.
type Definitions interface {
	// Document returns the definitions as last read or written. It is a
	// snapshot that callers must not modify: a later Update or Reload
	// replaces it and leaves the returned one as it was.
	Document() *Document
	// Connections returns every connection, in stored order.
	Connections() []Connection
	// Find returns the connection named name, compared as NameKey does.
	Find(name string) (*Connection, bool)
	// Update applies fn to the current stored definitions (re-read under a
	// lock or in a transaction, so that concurrent Updates, in this process
	// or others, lose nothing) and stores the result at once and entirely,
	// or not at all: if fn fails, or the result breaks the rules of
	// ValidateDocument, nothing is stored, the handle is unchanged and the
	// error is returned (fn's own error unwrapped to it). fn may be called
	// again when the backend retries a conflicting transaction.
	Update(ctx context.Context, fn func(d *Document) error) error
	// Reload reads the stored definitions again (another writer may have
	// changed them).
	Reload() error
}

// Config is what a command opens: the definitions, and the settings that
// govern them. A *Store is both (one file); Join pairs another Definitions
// backend with the local file's settings.
type Config interface {
	Definitions

	// Get returns the effective value of a setting and where it came from.
	Get(key string) (SettingValue, error)
	// String, Int and Duration return a setting's effective value (Int
	// and Duration fall back to the default on an unusable value).
	String(key string) string
	Int(key string) int
	Duration(key string) time.Duration
	// All returns every setting's effective value.
	All() []SettingValue
	// Set and Unset change the settings section of the local file.
	Set(ctx context.Context, key, value string) error
	Unset(ctx context.Context, key string) error
}

// Join is the Config of definitions kept by another backend and the
// settings of the local config file.
func Join(defs Definitions, settings *SettingsView) Config {
	return joined{Definitions: defs, SettingsView: settings}
}

type joined struct {
	Definitions
	*SettingsView
}

// EachConnection reads the joined backend one connection at a time where
// it can (see the package's EachConnection).
func (j joined) EachConnection(fn func(c *Connection) error) error {
	return EachConnection(j.Definitions, fn)
}

// EachConnectionAt reads the joined backend's connections at the given
// stored indices (see the package's EachConnectionAt).
func (j joined) EachConnectionAt(at []int, fn func(c *Connection) error) error {
	return EachConnectionAt(j.Definitions, at, fn)
}

// ConnectionCount counts the joined backend's connections (see the
// package's ConnectionCount).
func (j joined) ConnectionCount() int { return ConnectionCount(j.Definitions) }

// ValidateDocument checks the rules every stored document keeps: each
// connection and job has a unique id and a valid name (ValidateName),
// unique ignoring case among its kind; connections have a connector and a
// known status and their field values are well formed; jobs refer to an
// existing connection. where names the store in messages (the file's path).
// Backends call it on the result of an Update's fn before storing it.
func ValidateDocument(where string, d *Document) error {
	if err := validateDocument(where, d); err != nil {
		return err
	}
	return checkFieldValues(where, nil, d)
}
