package configstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"
	"time"
	"unsafe"
)

// The parse cache's layout: a binary encoding of a Document, read without
// reflection (a tenth of the time go-json-experiment takes to decode the
// same Document as JSON, and no copy of any string). Every count is a
// uvarint, n+1 for a slice or map that may be nil (0 for nil); strings are a
// uvarint length and the bytes; times are a tag byte (0: UTC, then Unix
// seconds as a varint and nanoseconds as a uvarint; 1: time.MarshalBinary's
// bytes, for other locations; 2: a nil *time.Time).
//
//	cacheMagic, sha256 of the config, settings (tagged JSON, see
//	tagSettings), schema_version, connections, chunk digests (0 or
//	chunkSumLen bytes a connection, after a uvarint count), jobs
//
// A cache file ends with the CRC-32C of all that (4 bytes, little-endian:
// sealCache), so that a file damaged on disk or torn by a crash (it is
// written without fsync) is never read as definitions.
//
// TestParseCacheRoundTrip holds every field to a round trip, and
// FuzzDecodeCache holds the decoder to errors, never panics, on any bytes.
const cacheMagic = "connctl parse cache 4\n"

// castagnoli is CRC-32C's table, made on first use: crc32 builds its
// tables when asked, and no command that never reads a cache should pay
// for them at start-up (TestInitCost).
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// sealCache appends the CRC-32C trailer to b, a whole encoded cache.
func sealCache(b []byte) []byte {
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli()))
}

// unsealCache checks b's trailer and returns b without it.
func unsealCache(b []byte) ([]byte, bool) {
	if len(b) < 4 {
		return nil, false
	}
	body := b[:len(b)-4]
	return body, binary.LittleEndian.Uint32(b[len(body):]) == crc32.Checksum(body, castagnoli())
}

type cacheWriter struct{ b []byte }

func (w *cacheWriter) uvarint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }

// header writes what comes before the connections: the magic, the digest
// key, the settings and schema_version.
func (w *cacheWriter) header(sum []byte, settings string, schema int) {
	w.b = append(w.b, cacheMagic...)
	w.b = append(w.b, sum...)
	w.str(settings)
	w.b = binary.AppendVarint(w.b, int64(schema))
}

// count writes the length of a list that may be nil: n+1, or 0 for nil.
func (w *cacheWriter) count(n int, isNil bool) {
	if isNil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(n) + 1)
}

func (w *cacheWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *cacheWriter) strs(l []string) {
	if l == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(l)) + 1)
	for _, s := range l {
		w.str(s)
	}
}

// strMap writes m's entries in map order: the reader only rebuilds the map.
func (w *cacheWriter) strMap(m map[string]string) {
	if m == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(m)) + 1)
	for k, v := range m {
		w.str(k)
		w.str(v)
	}
}

func (w *cacheWriter) time(t time.Time) error {
	if t.Location() == time.UTC {
		w.b = append(w.b, 0)
		w.b = binary.AppendVarint(w.b, t.Unix())
		w.uvarint(uint64(t.Nanosecond()))
		return nil
	}
	b, err := t.MarshalBinary()
	if err != nil {
		return err
	}
	w.b = append(w.b, 1)
	w.str(string(b))
	return nil
}

func (w *cacheWriter) timePtr(t *time.Time) error {
	if t == nil {
		w.b = append(w.b, 2)
		return nil
	}
	return w.time(*t)
}

func (w *cacheWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// connection encodes c; an error means it cannot be cached exactly (the
// bytes written are then of no use).
func (w *cacheWriter) connection(c *Connection) error {
	var err error
	check := func(e error) {
		if err == nil {
			err = e
		}
	}
	w.str(c.ID)
	w.str(c.Name)
	w.str(c.Connector)
	w.str(c.Auth)
	w.strMap(c.Fields)
	w.strs(c.Secrets)
	w.str(c.SecretBackend)
	w.str(string(c.Status))
	w.str(c.StatusReason)
	w.str(c.Account)
	check(w.time(c.CreatedAt))
	check(w.time(c.UpdatedAt))
	check(w.timePtr(c.AuthorizedAt))
	w.bool(c.Unverified)
	if o := c.OAuth; o == nil {
		w.bool(false)
	} else {
		w.bool(true)
		w.strs(o.Scopes)
		check(w.timePtr(o.IssuedAt))
		check(w.timePtr(o.ExpiresAt))
		w.str(o.APIBase)
		w.str(o.Subject)
		w.str(o.Org)
		w.strMap(o.Extra)
	}
	return err
}

// job encodes j, as connection does a connection.
func (w *cacheWriter) job(j *Job) error {
	w.str(j.ID)
	w.str(j.Name)
	w.str(j.ConnectionID)
	w.str(j.Source)
	w.strMap(j.Params)
	w.str(j.Dest)
	w.str(j.Format)
	w.str(j.Mode)
	w.str(j.Schedule)
	w.str(j.NotifyOn)
	if err := w.time(j.CreatedAt); err != nil {
		return err
	}
	return w.time(j.UpdatedAt)
}

// encodeCache encodes c; an error means c cannot be cached exactly.
func encodeCache(sum []byte, settings []byte, doc *Document, sums []chunkSum, sizeHint int) ([]byte, error) {
	w := &cacheWriter{b: make([]byte, 0, sizeHint)}
	w.header(sum, string(settings), doc.SchemaVersion)
	var err error
	check := func(e error) {
		if err == nil {
			err = e
		}
	}
	w.count(len(doc.Connections), doc.Connections == nil)
	for i := range doc.Connections {
		check(w.connection(&doc.Connections[i]))
	}
	if len(sums) == len(doc.Connections) && len(sums) > 0 {
		w.uvarint(uint64(len(sums)))
		for i := range sums {
			w.b = append(w.b, sums[i][:]...)
		}
	} else {
		w.uvarint(0)
	}
	w.count(len(doc.Jobs), doc.Jobs == nil)
	for i := range doc.Jobs {
		check(w.job(&doc.Jobs[i]))
	}
	return w.b, err
}

var errBadCache = errors.New("bad parse cache")

// cacheReader reads what cacheWriter wrote. Strings point into b, which
// must never change: the whole cache file stays in memory as long as any
// of its strings does, in place of one allocation per string.
//
// A reader in scratch mode (scanCache, Store.EachConnection) checks and
// decodes the bytes exactly as otherwise but reuses, from one connection
// to the next, every map, slice, time pointer and OAuthState it returns
// (one of each per place in a connection: the slot counters, reset by
// connection and job), so reading a whole cache allocates almost nothing.
type cacheReader struct {
	b   []byte
	err error

	scratch                     bool
	maps                        [2]map[string]string
	lists                       [2][]string
	times                       [3]time.Time
	oauth                       OAuthState
	mapSlot, listSlot, timeSlot int
}

// reset starts the scratch slots again, for the next connection or job.
func (r *cacheReader) reset() { r.mapSlot, r.listSlot, r.timeSlot = 0, 0, 0 }

func (r *cacheReader) fail() {
	if r.err == nil {
		r.err = errBadCache
	}
	r.b = nil
}

func (r *cacheReader) uvarint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *cacheReader) varint() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[k:]
	return n
}

// count reads a count of items that take at least one byte each.
func (r *cacheReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.b))+1 {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *cacheReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *cacheReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	if n == 0 {
		return ""
	}
	s := unsafe.String(&r.b[0], int(n))
	r.b = r.b[n:]
	return s
}

func (r *cacheReader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	if r.scratch && r.listSlot < len(r.lists) {
		l := r.lists[r.listSlot][:0]
		if l == nil {
			l = make([]string, 0, 4) // empty, not nil, as make gives below
		}
		for range n - 1 {
			l = append(l, r.str())
		}
		r.lists[r.listSlot] = l
		r.listSlot++
		return l
	}
	l := make([]string, n-1)
	for i := range l {
		l[i] = r.str()
	}
	return l
}

func (r *cacheReader) strMap() map[string]string {
	n := r.count()
	if n == 0 || r.err != nil {
		return nil
	}
	var m map[string]string
	if r.scratch && r.mapSlot < len(r.maps) {
		if r.maps[r.mapSlot] == nil {
			r.maps[r.mapSlot] = map[string]string{}
		}
		m = r.maps[r.mapSlot]
		r.mapSlot++
		clear(m)
	} else {
		m = make(map[string]string, n-1)
	}
	for range n - 1 {
		k := r.str()
		m[k] = r.str()
	}
	if len(m) != n-1 {
		r.fail() // a key twice
	}
	return m
}

func (r *cacheReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *cacheReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

func (r *cacheReader) timeTagged(tag byte) time.Time {
	switch tag {
	case 0:
		sec := r.varint()
		ns := r.uvarint()
		if ns >= 1e9 {
			r.fail()
			return time.Time{}
		}
		return time.Unix(sec, int64(ns)).UTC()
	case 1:
		var t time.Time
		if t.UnmarshalBinary([]byte(r.str())) != nil {
			r.fail()
		}
		return t
	}
	r.fail()
	return time.Time{}
}

func (r *cacheReader) time() time.Time { return r.timeTagged(r.byte()) }

func (r *cacheReader) timePtr() *time.Time {
	tag := r.byte()
	if tag == 2 {
		return nil
	}
	t := r.timeTagged(tag)
	if r.scratch && r.timeSlot < len(r.times) {
		p := &r.times[r.timeSlot]
		r.timeSlot++
		*p = t
		return p
	}
	return &t
}

// connection reads one connection into x, which it resets first.
func (r *cacheReader) connection(x *Connection) {
	*x = Connection{}
	r.reset()
	x.ID = r.str()
	x.Name = r.str()
	x.Connector = r.str()
	x.Auth = r.str()
	x.Fields = r.strMap()
	x.Secrets = r.strs()
	x.SecretBackend = r.str()
	x.Status = Status(r.str())
	x.StatusReason = r.str()
	x.Account = r.str()
	x.CreatedAt = r.time()
	x.UpdatedAt = r.time()
	x.AuthorizedAt = r.timePtr()
	x.Unverified = r.bool()
	if r.bool() {
		o := &OAuthState{}
		if r.scratch {
			o = &r.oauth
			*o = OAuthState{}
		}
		o.Scopes = r.strs()
		o.IssuedAt = r.timePtr()
		o.ExpiresAt = r.timePtr()
		o.APIBase = r.str()
		o.Subject = r.str()
		o.Org = r.str()
		o.Extra = r.strMap()
		x.OAuth = o
	}
}

// job reads one job into j, which it resets first.
func (r *cacheReader) job(j *Job) {
	*j = Job{}
	r.reset()
	j.ID = r.str()
	j.Name = r.str()
	j.ConnectionID = r.str()
	j.Source = r.str()
	j.Params = r.strMap()
	j.Dest = r.str()
	j.Format = r.str()
	j.Mode = r.str()
	j.Schedule = r.str()
	j.NotifyOn = r.str()
	j.CreatedAt = r.time()
	j.UpdatedAt = r.time()
}

// cacheFile is a parse cache checked from end to end (scanCache) but not
// decoded: its settings are, and its connections and jobs are decoded when
// asked for, one at a time (each) or all at once (document). Strings point
// into buf, which must never change.
type cacheFile struct {
	buf      []byte
	sum      [32]byte
	schema   int
	settings map[string]any
	conns    []byte // from the first connection on
	nConns   int    // -1: no connections list (nil)
	offsets  []int  // where each connection starts in conns
	connsEnd int    // where the last one ends in conns
	sums     []byte // chunkSumLen bytes a connection, or none
	jobs     []byte // from the first job on
	nJobs    int    // -1: no jobs list (nil)
	jobOffs  []int  // where each job starts in jobs, and where the last ends
}

// scanCache checks b, a whole cache file, with the very code that decodes
// it (a reader in scratch mode), so a cacheFile it returns always decodes;
// what it rejects, decodeCache rejects too. Only the settings are decoded.
func scanCache(b []byte) (*cacheFile, error) {
	if len(b) < len(cacheMagic)+32 || string(b[:len(cacheMagic)]) != cacheMagic {
		return nil, errBadCache
	}
	r := &cacheReader{b: b[len(cacheMagic):], scratch: true}
	c := &cacheFile{buf: b}
	copy(c.sum[:], r.bytes(32))
	settings := r.str()
	c.schema = int(r.varint())
	n := r.count()
	if n > len(r.b)/16+1 { // a connection takes more than 16 bytes
		return nil, errBadCache
	}
	c.nConns, c.conns = n-1, r.b
	c.offsets = make([]int, 0, max(n-1, 0))
	var x Connection
	for range n - 1 {
		if r.err != nil {
			return nil, r.err
		}
		c.offsets = append(c.offsets, len(c.conns)-len(r.b))
		r.connection(&x)
	}
	c.connsEnd = len(c.conns) - len(r.b)
	if n := int(r.uvarint()); n > 0 {
		if n != max(c.nConns, 0) || n > len(r.b)/chunkSumLen {
			return nil, errBadCache
		}
		c.sums = r.bytes(n * chunkSumLen)
	}
	n = r.count()
	if n > len(r.b)/16+1 { // so does a job
		return nil, errBadCache
	}
	c.nJobs, c.jobs = n-1, r.b
	c.jobOffs = make([]int, 0, max(n, 1))
	var j Job
	for range n - 1 {
		if r.err != nil {
			return nil, r.err
		}
		c.jobOffs = append(c.jobOffs, len(c.jobs)-len(r.b))
		r.job(&j)
	}
	c.jobOffs = append(c.jobOffs, len(c.jobs)-len(r.b))
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errBadCache
	}
	s, err := untagSettings([]byte(settings))
	if err != nil {
		return nil, err
	}
	c.settings = s
	return c, nil
}

// each decodes the connections one at a time into one reused Connection
// and calls fn with it. Without scratch each connection has maps, slices
// and pointers of its own, which fn may keep; with scratch they are reused
// for the next connection too, and fn may keep only strings (they point
// into c.buf). fn never keeps the Connection pointer. each stops at fn's
// first error and returns it.
func (c *cacheFile) each(scratch bool, fn func(*Connection) error) error {
	r := &cacheReader{b: c.conns, scratch: scratch}
	var x Connection
	for range max(c.nConns, 0) {
		r.connection(&x)
		if r.err != nil {
			return r.err // never: scanCache read these bytes
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return nil
}

// eachAt is each (with scratch) for the connections at the stored
// indices at, in at's order, each decoded on its own from where scanCache
// found it starts; an index out of range is an error before fn is called.
func (c *cacheFile) eachAt(at []int, fn func(*Connection) error) error {
	for _, i := range at {
		if i < 0 || i >= max(c.nConns, 0) {
			return fmt.Errorf("configstore: connection %d of %d", i, max(c.nConns, 0))
		}
	}
	r := &cacheReader{scratch: true}
	var x Connection
	for _, i := range at {
		r.b, r.err = c.conns[c.offsets[i]:], nil
		r.connection(&x)
		if r.err != nil {
			return r.err // never: scanCache read these bytes
		}
		if err := fn(&x); err != nil {
			return err
		}
	}
	return nil
}

// document decodes the whole Document; its Settings are c's.
func (c *cacheFile) document() (Document, error) {
	d := Document{SchemaVersion: c.schema, Settings: c.settings}
	if c.nConns >= 0 {
		d.Connections = make([]Connection, 0, c.nConns)
	}
	err := c.each(false, func(x *Connection) error {
		d.Connections = append(d.Connections, *x)
		return nil
	})
	if err != nil {
		return Document{}, err
	}
	if c.nJobs >= 0 {
		d.Jobs = make([]Job, c.nJobs)
	}
	r := &cacheReader{b: c.jobs}
	for i := range d.Jobs {
		r.job(&d.Jobs[i])
	}
	if r.err != nil {
		return Document{}, r.err
	}
	return d, nil
}

// chunkSums returns the chunk digests of the connections, or nil.
func (c *cacheFile) chunkSums() []chunkSum {
	if len(c.sums) == 0 {
		return nil
	}
	out := make([]chunkSum, len(c.sums)/chunkSumLen)
	for i := range out {
		copy(out[i][:], c.sums[i*chunkSumLen:])
	}
	return out
}

// decodeCache decodes b (the whole cache file, which must not change
// afterwards: the Document's strings point into it).
func decodeCache(b []byte) (*parseCache, error) {
	f, err := scanCache(b)
	if err != nil {
		return nil, err
	}
	doc, err := f.document()
	if err != nil {
		return nil, err
	}
	return &parseCache{sum: f.sum, Doc: doc, sums: f.chunkSums()}, nil
}
