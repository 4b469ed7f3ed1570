package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/connctl/connctl/internal/atomicfile"
	"github.com/connctl/connctl/internal/configstore"
)

// The local cache of a team store's definitions. Every statement that
// writes connctl_connections or connctl_jobs gives the database a new
// random generation (migration 3's triggers). A full read of the
// definitions reads the generation in the same snapshot as the rows and
// keeps them, in configstore's binary snapshot form, in a file of
// Options.CacheDir named after the store; the next process that finds the
// same generation in the database reads that file instead of every row,
// and decodes lazily from it (list decodes one connection at a time). The
// definitions never hold a secret, so neither does the cache; it is
// private to its user all the same (0600, in a 0700 folder).
//
// The layout:
//
//	teamCacheMagic, the CRC-32C of the rest (4 bytes, little-endian: a
//	damaged file is never used), generation (uvarint length and bytes), row details
//	(uvarint length and bytes: per connection, then per job, in stored
//	order: version as a varint, updated_by and updated_host as strings,
//	updated_at as a varint of Unix nanoseconds, xmin as a varint), then
//	the snapshot
//	(configstore.EncodeSnapshot under the generation) to the end.
const teamCacheMagic = "connctl team cache 1\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// cached is a cache file checked from end to end: its snapshot, and the
// row details, decoded when the handle decodes its Document.
type cached struct {
	gen  string
	snap *configstore.Snapshot
	meta []byte
}

// cacheFile is where this store's definitions are cached, or "" (no
// CacheDir).
func (db *DB) cacheFile() string {
	if db.opts.CacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(db.cacheKey))
	return filepath.Join(db.opts.CacheDir, "team-"+hex.EncodeToString(sum[:8])+".cache")
}

// generation reads the definitions' generation, or "" when the database
// has none (its schema predates migration 3 and this user may not add
// it): no cache then.
func generation(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (string, error) {
	var gen string
	err := q.QueryRow(ctx, `SELECT generation FROM connctl_definitions_state`).Scan(&gen)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return "", nil
	}
	return gen, err
}

// readCache returns the cached definitions, of whatever generation, or
// nil when the file is missing or damaged.
func readCache(path string) *cached {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < len(teamCacheMagic)+4 || string(b[:len(teamCacheMagic)]) != teamCacheMagic {
		return nil
	}
	b = b[len(teamCacheMagic):]
	if binary.LittleEndian.Uint32(b) != crc32.Checksum(b[4:], castagnoli) {
		return nil
	}
	r := metaReader{b: b[4:]}
	gen := r.str()
	meta := r.bytes(int(r.uvarint()))
	if r.bad {
		return nil
	}
	snap, err := configstore.OpenSnapshot(gen, r.b)
	if err != nil {
		return nil
	}
	// The row details must decode, one per connection and job, before the
	// cache is used: materialize never fails.
	n := 0
	for mr := (metaReader{b: meta}); len(mr.b) > 0 && !mr.bad; n++ {
		mr.row()
		if mr.bad {
			return nil
		}
	}
	if n != snap.ConnectionCount()+snap.JobCount() {
		return nil
	}
	return &cached{gen: gen, snap: snap, meta: meta}
}

// writeCache keeps doc and rows, read at generation gen, in path. It is
// best effort: a cache that cannot be written is read from the database
// next time.
func writeCache(path, gen string, doc *configstore.Document, rows map[string]rowMeta) {
	if path == "" || gen == "" {
		return
	}
	snap, err := configstore.EncodeSnapshot(gen, doc)
	if err != nil {
		return
	}
	var meta []byte
	put := func(id string) {
		m := rows[id]
		meta = binary.AppendVarint(meta, m.version)
		meta = appendStr(meta, m.by)
		meta = appendStr(meta, m.host)
		meta = binary.AppendVarint(meta, m.at.UnixNano())
		meta = binary.AppendVarint(meta, m.xmin)
	}
	for i := range doc.Connections {
		put(doc.Connections[i].ID)
	}
	for i := range doc.Jobs {
		put(doc.Jobs[i].ID)
	}
	b := make([]byte, 0, len(teamCacheMagic)+len(gen)+len(meta)+len(snap)+24)
	b = append(b, teamCacheMagic...)
	b = append(b, 0, 0, 0, 0)
	b = appendStr(b, gen)
	b = appendStr(b, string(meta))
	b = append(b, snap...)
	binary.LittleEndian.PutUint32(b[len(teamCacheMagic):], crc32.Checksum(b[len(teamCacheMagic)+4:], castagnoli))
	if os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	_ = atomicfile.Write(path, b, atomicfile.Options{TempPattern: ".team-*.tmp", NoSync: true})
}

// materialize decodes c whole: the Document and the details of its rows.
func (c *cached) materialize() (*configstore.Document, map[string]rowMeta) {
	doc := c.snap.Document()
	rows := make(map[string]rowMeta, len(doc.Connections)+len(doc.Jobs))
	r := metaReader{b: c.meta}
	for i := range doc.Connections {
		m := r.row()
		m.name = doc.Connections[i].Name
		rows[doc.Connections[i].ID] = m
	}
	for i := range doc.Jobs {
		m := r.row()
		m.name, m.job = doc.Jobs[i].Name, true
		rows[doc.Jobs[i].ID] = m
	}
	return doc, rows
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// metaReader reads what writeCache wrote; bad says the bytes ended early
// or were malformed.
type metaReader struct {
	b   []byte
	bad bool
}

func (r *metaReader) uvarint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *metaReader) varint() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[k:]
	return n
}

func (r *metaReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.bad = true
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *metaReader) str() string { return string(r.bytes(int(r.uvarint()))) }

func (r *metaReader) row() rowMeta {
	var m rowMeta
	m.version = r.varint()
	m.by = r.str()
	m.host = r.str()
	m.at = time.Unix(0, r.varint())
	m.xmin = r.varint()
	return m
}

// reusable is the local cache of an earlier generation, decoded, for
// loadReusing: its rows, with the tuple each was read from.
type reusable struct {
	doc  *configstore.Document
	rows map[string]rowMeta
	at   map[string]int // in doc.Connections or doc.Jobs
}

func (c *cached) reusable() *reusable {
	doc, rows := c.materialize()
	o := &reusable{doc: doc, rows: rows, at: make(map[string]int, len(rows))}
	for i := range doc.Connections {
		o.at[doc.Connections[i].ID] = i
	}
	for i := range doc.Jobs {
		o.at[doc.Jobs[i].ID] = i
	}
	return o
}

// row returns what o holds of row id when it is the tuple m names (the
// same kind, xmin and version), with its body nil: the definition is
// then o's (connection, job).
func (o *reusable) row(id string, m rowMeta) (rowMeta, bool) {
	om, ok := o.rows[id]
	if !ok || om.job != m.job || om.xmin != m.xmin || om.version != m.version {
		return rowMeta{}, false
	}
	om.body = nil
	return om, true
}

func (o *reusable) connection(id string) configstore.Connection { return o.doc.Connections[o.at[id]] }
func (o *reusable) job(id string) configstore.Job               { return o.doc.Jobs[o.at[id]] }
