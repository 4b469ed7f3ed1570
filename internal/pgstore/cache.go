package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

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
// and decodes lazily from it (list decodes one connection at a time). One
// that finds another generation reads which tuple each row is (id, xmin,
// version), copies the rows the file holds as they are, still encoded,
// and reads only the others (loadDelta). The definitions never hold a
// secret, so neither does the cache; it is private to its user all the
// same (0600, in a 0700 folder).
//
// The layout:
//
//	teamCacheMagic, the CRC-32C of the rest (4 bytes, little-endian: a
//	damaged file is never used), generation (uvarint length and bytes),
//	row details (uvarint length and bytes: per connection, then per job,
//	in stored order: id, updated_by and updated_host as strings, version,
//	updated_at as Unix nanoseconds and xmin as varints), then the snapshot
//	(configstore.EncodeSnapshot under the generation) to the end.
const teamCacheMagic = "connctl team cache 1\n"

// castagnoli is CRC-32C's table, made on first use: crc32 builds its
// tables when asked, and no command that never reads a cache should pay
// for them at start-up (TestInitCost).
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// cached is a cache file checked from end to end: its snapshot, and the
// details of its rows.
type cached struct {
	gen  string
	file []byte // the whole file
	snap *configstore.Snapshot
	meta []byte // the row details, checked; decoded by rows
}

type cachedRow struct {
	id string
	m  rowMeta
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

// generation reads the definitions' generation, or "" when this user
// cannot: the table is missing (a schema before migration 3) or the
// user's role may not read it (a team that grants per table). No copy is
// kept then, and every read reads every row, as before migration 3.
func generation(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (string, error) {
	var gen string
	err := q.QueryRow(ctx, `SELECT generation FROM connctl_definitions_state`).Scan(&gen)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "42501") { // undefined_table, insufficient_privilege
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
	if err != nil {
		return nil
	}
	return parseCache(b)
}

// parseCache checks b, a whole cache file, and returns it to be read; nil
// when it is damaged. b must not change afterwards.
func parseCache(b []byte) *cached {
	if len(b) < len(teamCacheMagic)+4 || string(b[:len(teamCacheMagic)]) != teamCacheMagic {
		return nil
	}
	body := b[len(teamCacheMagic):]
	if binary.LittleEndian.Uint32(body) != crc32.Checksum(body[4:], castagnoli()) {
		return nil
	}
	r := metaReader{b: body[4:]}
	gen := r.str()
	meta := r.bytes(int(r.uvarint()))
	if r.bad || gen == "" {
		return nil
	}
	snap, err := configstore.OpenSnapshot(gen, r.b)
	if err != nil {
		return nil
	}
	// The row details must decode, one per connection and job, before
	// the file is used: rows never fails.
	n, k := snap.ConnectionCount()+snap.JobCount(), 0
	for mr := (metaReader{b: meta, skip: true}); len(mr.b) > 0; k++ {
		if mr.row(); mr.bad || k == n {
			return nil
		}
	}
	if k != n {
		return nil
	}
	return &cached{gen: gen, file: b, snap: snap, meta: meta}
}

// indexedRow is what loadDelta needs of a cached row: its id (pointing
// into the file), the tuple it was read from, and its details as encoded.
type indexedRow struct {
	id            string
	xmin, version int64
	meta          []byte
}

// index reads the row details without copying them.
func (c *cached) index() []indexedRow {
	out := make([]indexedRow, 0, c.snap.ConnectionCount()+c.snap.JobCount())
	for mr := (metaReader{b: c.meta, skip: true}); len(mr.b) > 0; {
		start := mr.b
		n := mr.uvarint()
		id := unsafe.String(unsafe.SliceData(mr.b), int(n)) // c.file never changes
		mr.b = mr.b[n:]
		mr.str() // updated_by
		mr.str() // updated_host
		version := mr.varint()
		mr.varint() // updated_at
		xmin := mr.varint()
		out = append(out, indexedRow{id: id, xmin: xmin, version: version, meta: start[:len(start)-len(mr.b)]})
	}
	return out
}

// rows decodes the row details: connections, then jobs, in stored order.
func (c *cached) rows() []cachedRow {
	out := make([]cachedRow, 0, c.snap.ConnectionCount()+c.snap.JobCount())
	for mr := (metaReader{b: c.meta}); len(mr.b) > 0; {
		id, m := mr.row()
		m.job = len(out) >= c.snap.ConnectionCount()
		out = append(out, cachedRow{id, m})
	}
	return out
}

// teamCacheWriter assembles a cache file: the row details as they are added,
// then the snapshot.
type teamCacheWriter struct{ meta []byte }

func (w *teamCacheWriter) row(id string, m rowMeta) {
	w.meta = appendStr(w.meta, id)
	w.meta = appendStr(w.meta, m.by)
	w.meta = appendStr(w.meta, m.host)
	w.meta = binary.AppendVarint(w.meta, m.version)
	w.meta = binary.AppendVarint(w.meta, m.at.UnixNano())
	w.meta = binary.AppendVarint(w.meta, m.xmin)
}

func (w *teamCacheWriter) file(gen string, snap []byte) []byte {
	b := make([]byte, 0, len(teamCacheMagic)+4+len(gen)+len(w.meta)+len(snap)+20)
	b = append(b, teamCacheMagic...)
	b = append(b, 0, 0, 0, 0)
	b = appendStr(b, gen)
	b = appendStr(b, string(w.meta))
	b = append(b, snap...)
	binary.LittleEndian.PutUint32(b[len(teamCacheMagic):], crc32.Checksum(b[len(teamCacheMagic)+4:], castagnoli()))
	return b
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
	var w teamCacheWriter
	for i := range doc.Connections {
		w.row(doc.Connections[i].ID, rows[doc.Connections[i].ID])
	}
	for i := range doc.Jobs {
		w.row(doc.Jobs[i].ID, rows[doc.Jobs[i].ID])
	}
	writeCacheFile(path, w.file(gen, snap))
}

// writeCacheFile writes a cache file made by teamCacheWriter, best effort.
func writeCacheFile(path string, b []byte) {
	if path == "" || os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	_ = atomicfile.Write(path, b, atomicfile.Options{TempPattern: ".team-*.tmp", NoSync: true})
}

// materialize decodes c whole: the Document and the details of its rows.
func (c *cached) materialize() (*configstore.Document, map[string]rowMeta) {
	doc := c.snap.Document()
	cr := c.rows()
	rows := make(map[string]rowMeta, len(cr))
	for i := range doc.Connections {
		m := cr[i].m
		m.name = doc.Connections[i].Name
		rows[doc.Connections[i].ID] = m
	}
	for i := range doc.Jobs {
		m := cr[len(doc.Connections)+i].m
		m.name = doc.Jobs[i].Name
		rows[doc.Jobs[i].ID] = m
	}
	return doc, rows
}

// loadDelta reads the definitions at generation gen (tx's snapshot) given
// old, the cache of an earlier one: which tuple each row is (id, xmin,
// version; whoever wrote it and however, a new tuple has a new xmin), then
// whole only the rows old does not hold as they are. Those it holds are
// copied into the new cache still encoded. decoded counts the rows read
// whole.
func loadDelta(ctx context.Context, tx pgx.Tx, old *cached, gen string) (c *cached, decoded int, err error) {
	oldRows := old.index()
	at := make(map[string]int, len(oldRows))
	for i := range oldRows {
		at[oldRows[i].id] = i
	}
	nOld := old.snap.ConnectionCount()
	var sb configstore.SnapshotBuilder
	sb.Grow(len(old.file))
	w := teamCacheWriter{meta: make([]byte, 0, len(old.meta)+256)}
	for _, table := range []string{"connctl_connections", "connctl_jobs"} {
		job := table == "connctl_jobs"
		type item struct {
			id   string
			from int // in old.rows, or -1: read whole
		}
		var items []item
		var need []string
		r, err := tx.Query(ctx, `SELECT id, xmin::text::bigint, version FROM `+table+` ORDER BY position`)
		if err != nil {
			return nil, 0, err
		}
		for r.Next() {
			var id string
			var xmin, version int64
			if err := r.Scan(&id, &xmin, &version); err != nil {
				r.Close()
				return nil, 0, err
			}
			from, ok := at[id]
			if !ok || (from >= nOld) != job || oldRows[from].xmin != xmin || oldRows[from].version != version {
				from = -1
				need = append(need, id)
			}
			items = append(items, item{id, from})
		}
		if err := r.Err(); err != nil {
			return nil, 0, err
		}
		whole := map[string]rowMeta{}
		if len(need) > 0 {
			r, err := tx.Query(ctx, `SELECT id, body, version, updated_by, updated_host, updated_at, xmin::text::bigint FROM `+table+` WHERE id = ANY($1)`, need)
			if err != nil {
				return nil, 0, err
			}
			for r.Next() {
				var id string
				var m rowMeta
				if err := r.Scan(&id, &m.body, &m.version, &m.by, &m.host, &m.at, &m.xmin); err != nil {
					r.Close()
					return nil, 0, err
				}
				whole[id] = m
			}
			if err := r.Err(); err != nil {
				return nil, 0, err
			}
		}
		for _, it := range items {
			if it.from >= 0 {
				if job {
					sb.CopyJob(old.snap, it.from-nOld)
				} else {
					sb.CopyConnection(old.snap, it.from)
				}
				w.meta = append(w.meta, oldRows[it.from].meta...)
				continue
			}
			m, ok := whole[it.id]
			if !ok {
				return nil, 0, fmt.Errorf("row %s vanished from its snapshot", it.id)
			}
			decoded++
			if job {
				var j configstore.Job
				if err := json.Unmarshal(m.body, &j); err != nil {
					return nil, 0, fmt.Errorf("job %s: %w", it.id, err)
				}
				sb.AddJob(&j)
			} else {
				var c configstore.Connection
				if err := json.Unmarshal(m.body, &c); err != nil {
					return nil, 0, fmt.Errorf("connection %s: %w", it.id, err)
				}
				sb.AddConnection(&c)
			}
			w.row(it.id, m)
		}
	}
	snap, err := sb.Bytes(gen)
	if err != nil {
		return nil, 0, err
	}
	c = parseCache(w.file(gen, snap))
	if c == nil { // never: made by the code that parses it
		return nil, 0, errors.New("the local copy of the definitions could not be rebuilt")
	}
	return c, decoded, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// metaReader reads what teamCacheWriter wrote; bad says the bytes ended
// early or were malformed.
type metaReader struct {
	b    []byte
	bad  bool
	skip bool // check only: str returns ""
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

func (r *metaReader) str() string {
	b := r.bytes(int(r.uvarint()))
	if r.skip {
		return ""
	}
	return string(b)
}

func (r *metaReader) row() (string, rowMeta) {
	var m rowMeta
	id := r.str()
	m.by = r.str()
	m.host = r.str()
	m.version = r.varint()
	m.at = time.Unix(0, r.varint())
	m.xmin = r.varint()
	return id, m
}
