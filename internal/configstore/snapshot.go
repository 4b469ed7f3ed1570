package configstore

import (
	"crypto/sha256"
	"errors"
	"slices"
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

// connectionBytes is connection i as encoded.
func (s *Snapshot) connectionBytes(i int) []byte {
	end := s.f.connsEnd
	if i+1 < len(s.f.offsets) {
		end = s.f.offsets[i+1]
	}
	return s.f.conns[s.f.offsets[i]:end]
}

// jobBytes is job i as encoded.
func (s *Snapshot) jobBytes(i int) []byte { return s.f.jobs[s.f.jobOffs[i]:s.f.jobOffs[i+1]] }

// A SnapshotBuilder makes a snapshot of connections and jobs copied, still
// encoded, from another snapshot and of new ones encoded here, so that a
// backend whose copy is out of date by a few definitions neither decodes
// nor encodes the others. Connections and jobs are added in stored order;
// the connections list is never nil, the jobs list is nil when empty (as a
// Document read from the team store's rows).
type SnapshotBuilder struct {
	conns, jobs   cacheWriter
	nConns, nJobs int
	err           error
}

// Grow makes room for about n bytes of encoded definitions (the size of
// the snapshot being rebuilt), so that adding them copies each once.
func (b *SnapshotBuilder) Grow(n int) {
	b.conns.b = slices.Grow(b.conns.b, n)
}

// CopyConnection adds connection i of s (0 <= i < s.ConnectionCount()).
func (b *SnapshotBuilder) CopyConnection(s *Snapshot, i int) {
	b.conns.b = append(b.conns.b, s.connectionBytes(i)...)
	b.nConns++
}

// AddConnection adds c.
func (b *SnapshotBuilder) AddConnection(c *Connection) {
	if err := b.conns.connection(c); err != nil && b.err == nil {
		b.err = err
	}
	b.nConns++
}

// CopyJob adds job i of s (0 <= i < s.JobCount()).
func (b *SnapshotBuilder) CopyJob(s *Snapshot, i int) {
	b.jobs.b = append(b.jobs.b, s.jobBytes(i)...)
	b.nJobs++
}

// AddJob adds j.
func (b *SnapshotBuilder) AddJob(j *Job) {
	if err := b.jobs.job(j); err != nil && b.err == nil {
		b.err = err
	}
	b.nJobs++
}

// Bytes returns the snapshot under key, as EncodeSnapshot would encode the
// Document of what was added; an error as EncodeSnapshot's.
func (b *SnapshotBuilder) Bytes(key string) ([]byte, error) {
	if b.err != nil {
		return nil, b.err
	}
	sum := sha256.Sum256([]byte(key))
	w := &cacheWriter{b: make([]byte, 0, len(cacheMagic)+len(sum)+len(b.conns.b)+len(b.jobs.b)+32)}
	w.header(sum[:], "", SchemaVersion)
	w.count(b.nConns, false)
	w.b = append(w.b, b.conns.b...)
	w.uvarint(0) // no chunk digests
	w.count(b.nJobs, b.nJobs == 0)
	w.b = append(w.b, b.jobs.b...)
	return w.b, nil
}
