package configstore

import (
	"crypto/sha256"
	"errors"
)

// A Snapshot is a Document (connections and jobs, no settings) in the
// parse cache's binary form, for another Definitions backend that keeps a
// local copy of what it read (the team store, keyed by its generation).
// Like the parse cache it is checked from end to end when opened and
// decoded lazily: EachConnection and EachConnectionAt decode one
// connection at a time; Document decodes it whole. Its strings point into
// the bytes it was opened from, which must never change.
type Snapshot struct{ f *cacheFile }

// EncodeSnapshot encodes doc's connections and jobs (its settings are
// dropped) under key. An error means doc cannot be kept exactly (a time in
// a location MarshalBinary refuses); the caller then keeps no copy.
func EncodeSnapshot(key string, doc *Document) ([]byte, error) {
	sum := sha256.Sum256([]byte(key))
	return encodeCache(sum[:], nil, &Document{SchemaVersion: doc.SchemaVersion, Connections: doc.Connections, Jobs: doc.Jobs}, nil, 512*len(doc.Connections)+256*len(doc.Jobs)+256)
}

// OpenSnapshot checks b, which EncodeSnapshot made under key, and returns
// it to be read. Bytes made under another key, or damaged, are an error,
// never a panic.
func OpenSnapshot(key string, b []byte) (*Snapshot, error) {
	f, err := scanCache(b)
	if err != nil {
		return nil, err
	}
	if f.sum != sha256.Sum256([]byte(key)) {
		return nil, errors.New("snapshot of another generation")
	}
	if f.settings != nil {
		return nil, errBadCache
	}
	return &Snapshot{f: f}, nil
}

// Document decodes the whole snapshot; what it returns is the caller's.
func (s *Snapshot) Document() *Document {
	d, err := s.f.document()
	if err != nil { // never: OpenSnapshot checked these bytes with the same code
		panic("configstore: decoding a checked snapshot: " + err.Error())
	}
	return &d
}

// EachConnection calls fn with every connection in stored order, as
// Store.EachConnection does from its parse cache (fn may keep c's strings
// only).
func (s *Snapshot) EachConnection(fn func(c *Connection) error) error { return s.f.each(true, fn) }

// EachConnectionAt calls fn with the connections at the stored indices at,
// as Store.EachConnectionAt does.
func (s *Snapshot) EachConnectionAt(at []int, fn func(c *Connection) error) error {
	return s.f.eachAt(at, fn)
}

// ConnectionCount returns the number of connections, without decoding
// them.
func (s *Snapshot) ConnectionCount() int { return max(s.f.nConns, 0) }

// JobCount returns the number of jobs, without decoding them.
func (s *Snapshot) JobCount() int { return max(s.f.nJobs, 0) }
