package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/connctl/connctl/internal/configstore"
)

// ConflictError is an Update refused because it would overwrite a change
// this handle has not seen: the connection (or job) was shown to the caller
// (Find, Connections, Document) at one version, and someone else stored
// another before the caller's change.
type ConflictError struct {
	Kind, Name string // "connection" or "job", and its name
	Who, Host  string // who changed it, on which machine
	At         time.Time
	Deleted    bool // it was deleted, not changed
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s was changed by %s on %s at %s; re-run the command",
		e.Kind, e.Name, e.Who, e.Host, e.At.UTC().Format(time.RFC3339))
}

// Definitions is a handle on the connection and job definitions of a team
// store, a configstore.Definitions. Like a *configstore.Store it keeps the
// definitions as last read or written; Update always starts from what is
// stored. It is safe for concurrent use.
//
// Writers are serialised by a transaction-scoped advisory lock, so an
// Update's fn sees every write committed before it; each row's version is
// checked again when it is written. The handle remembers the version of
// every connection and job it showed its caller since the last Reload: an
// Update that changes or deletes one that someone else has changed since is
// refused with a *ConflictError (never a silent overwrite), and the caller
// re-runs the command. Rows the caller never looked at are merged: fn
// always works on the current rows.
type Definitions struct {
	db *DB

	mu    sync.Mutex
	doc   *configstore.Document // nil while lazy holds the definitions
	rows  map[string]rowMeta    // of doc's connections and jobs, by id
	shown map[string]int64      // id -> the version shown to the caller
	// lazy is the local cache the definitions were read from, until
	// something needs them decoded whole (materialize).
	lazy *cached
	// gen is the generation the definitions were read at; "" after an
	// Update (the next Reload reads them again).
	gen string
}

var _ configstore.Definitions = (*Definitions)(nil)

// rowMeta is what the store keeps about a row besides the definition.
type rowMeta struct {
	version int64
	by      string
	host    string
	at      time.Time
	body    []byte // the stored JSON, to tell which rows fn changed (only during an Update)
	job     bool   // a job, not a connection
	name    string
	// xmin is the transaction that wrote the row as read (PostgreSQL's
	// system column): with the version, it tells the local cache's row
	// from a newer one, whoever wrote it and however.
	xmin int64
}

// Definitions opens a handle and reads the definitions.
func (db *DB) Definitions(ctx context.Context) (*Definitions, error) {
	d := &Definitions{db: db}
	if err := d.reload(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Document returns the definitions as last read or written; every
// connection and job in it counts as shown to the caller.
func (d *Definitions) Document() *configstore.Document {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.materialize()
	for id, m := range d.rows {
		if _, ok := d.shown[id]; !ok {
			d.shown[id] = m.version
		}
	}
	return d.doc
}

// Connections returns every connection, in the order they were created.
func (d *Definitions) Connections() []configstore.Connection { return d.Document().Connections }

// Find returns the connection named name, compared as configstore.NameKey
// does; it counts as shown to the caller.
func (d *Definitions) Find(name string) (*configstore.Connection, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.materialize()
	_, c := d.doc.Find(name)
	if c == nil {
		return nil, false
	}
	if _, ok := d.shown[c.ID]; !ok {
		d.shown[c.ID] = d.rows[c.ID].version
	}
	return c, true
}

// Reload reads the stored definitions again; what was shown before is
// forgotten (the caller works from what it reads next).
func (d *Definitions) Reload() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return d.reload(ctx)
}

func (d *Definitions) reload(ctx context.Context) error {
	path := d.db.cacheFile()
	var old *cached
	if path != "" {
		// The common case: nobody wrote since this machine last read. One
		// statement, its own snapshot: the cache of that generation holds
		// exactly the rows the database holds.
		gen, err := generation(ctx, d.db.pool)
		if err != nil {
			return d.db.readErr(err)
		}
		if gen == "" { // no generation to key a copy by: read every row
			path = ""
		}
		d.mu.Lock()
		current := gen != "" && gen == d.gen
		if current {
			d.shown = map[string]int64{}
		}
		d.mu.Unlock()
		if current {
			d.db.cacheReads.Add(1)
			return nil
		}
		if c := readCache(path); c != nil {
			if c.gen == gen {
				d.db.cacheReads.Add(1)
				d.setLazy(c)
				return nil
			}
			old = c // someone wrote since: read only what changed
		}
	}
	if old != nil {
		var c *cached
		var decoded int
		err := d.db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
			gen, err := generation(ctx, tx)
			if err != nil {
				return err
			}
			c, decoded, err = loadDelta(ctx, tx, old, gen)
			return err
		})
		if err != nil {
			return d.db.readErr(err)
		}
		d.db.bodiesRead.Add(int64(decoded))
		writeCacheFile(path, c.file)
		d.setLazy(c)
		return nil
	}
	var doc *configstore.Document
	var rows map[string]rowMeta
	var gen string
	// One snapshot for both tables and the generation: a reader never sees
	// half of a write, and caches the rows under their own generation.
	err := d.db.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if path != "" {
			if gen, err = generation(ctx, tx); err != nil {
				return err
			}
		}
		doc, rows, err = load(ctx, tx)
		return err
	})
	if err != nil {
		return d.db.readErr(err)
	}
	d.db.bodiesRead.Add(int64(len(rows)))
	for id, m := range rows {
		m.body = nil
		rows[id] = m
	}
	writeCache(path, gen, doc, rows)
	d.mu.Lock()
	d.doc, d.rows, d.shown, d.lazy, d.gen = doc, rows, map[string]int64{}, nil, gen
	d.mu.Unlock()
	return nil
}

// setLazy makes c, the local cache, what the handle holds.
func (d *Definitions) setLazy(c *cached) {
	d.mu.Lock()
	d.doc, d.rows, d.shown, d.lazy, d.gen = nil, nil, map[string]int64{}, c, c.gen
	d.mu.Unlock()
}

// materialize decodes the definitions read from the local cache, with d.mu
// held.
func (d *Definitions) materialize() {
	if d.doc == nil && d.lazy != nil {
		d.doc, d.rows = d.lazy.materialize()
		d.lazy = nil
	}
}

// EachConnection calls fn with every connection in stored order; read from
// the local cache, one at a time into reused memory, as
// configstore.Store.EachConnection does (fn may keep c's strings only).
// The connections do not count as shown to the caller: a command that
// changes one finds it first.
func (d *Definitions) EachConnection(fn func(c *configstore.Connection) error) error {
	d.mu.Lock()
	doc, lazy := d.doc, d.lazy
	d.mu.Unlock()
	if doc == nil && lazy != nil {
		return lazy.snap.EachConnection(fn)
	}
	return configstore.EachOf(doc.Connections, fn)
}

// EachConnectionAt calls fn with the connections at the stored indices
// at, in at's order, as configstore.Store.EachConnectionAt does.
func (d *Definitions) EachConnectionAt(at []int, fn func(c *configstore.Connection) error) error {
	d.mu.Lock()
	doc, lazy := d.doc, d.lazy
	d.mu.Unlock()
	if doc == nil && lazy != nil {
		return lazy.snap.EachConnectionAt(at, fn)
	}
	return configstore.EachAtOf(doc.Connections, at, fn)
}

// ConnectionCount returns the number of connections, without decoding
// them.
func (d *Definitions) ConnectionCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.doc == nil && d.lazy != nil {
		return d.lazy.snap.ConnectionCount()
	}
	return len(d.doc.Connections)
}

func (db *DB) readErr(err error) error {
	err = db.connErr(err)
	return fmt.Errorf("read the definitions from the team store %s: %w", db.site, err)
}

// load reads every connection and job with their row details.
func load(ctx context.Context, tx pgx.Tx) (*configstore.Document, map[string]rowMeta, error) {
	doc := &configstore.Document{SchemaVersion: configstore.SchemaVersion, Connections: []configstore.Connection{}}
	rows := map[string]rowMeta{}
	for _, table := range []string{"connctl_connections", "connctl_jobs"} {
		r, err := tx.Query(ctx, `SELECT id, body, version, updated_by, updated_host, updated_at, xmin::text::bigint FROM `+table+` ORDER BY position`)
		if err != nil {
			return nil, nil, err
		}
		for r.Next() {
			var id string
			var m rowMeta
			if err := r.Scan(&id, &m.body, &m.version, &m.by, &m.host, &m.at, &m.xmin); err != nil {
				r.Close()
				return nil, nil, err
			}
			if table == "connctl_connections" {
				var c configstore.Connection
				if err := json.Unmarshal(m.body, &c); err != nil {
					r.Close()
					return nil, nil, fmt.Errorf("connection %s: %w", id, err)
				}
				doc.Connections = append(doc.Connections, c)
				m.name = c.Name
			} else {
				var j configstore.Job
				if err := json.Unmarshal(m.body, &j); err != nil {
					r.Close()
					return nil, nil, fmt.Errorf("job %s: %w", id, err)
				}
				doc.Jobs = append(doc.Jobs, j)
				m.name, m.job = j.Name, true
			}
			rows[id] = m
		}
		if err := r.Err(); err != nil {
			return nil, nil, err
		}
	}
	return doc, rows, nil
}

// writeLock is the advisory lock that serialises writers of definitions.
const writeLock = 0x636f6e6e63746c01 // "connctl" 1

// maxAttempts bounds the retries of an Update that conflicted with a
// concurrent transaction (which the write lock makes rare).
const maxAttempts = 20

// Update applies fn to the stored definitions in a transaction and writes
// the rows it changed, or nothing: see configstore.Definitions. It returns
// a *ConflictError when fn changes or deletes a row that changed since the
// handle showed it to the caller.
func (d *Definitions) Update(ctx context.Context, fn func(doc *configstore.Document) error) error {
	for attempt := 1; ; attempt++ {
		err := d.update(ctx, fn)
		if err == nil || !retryable(err) || attempt == maxAttempts || ctx.Err() != nil {
			var ce *ConflictError
			if err != nil && !errors.As(err, &ce) && retryable(err) {
				err = fmt.Errorf("write to the team store %s: %w; re-run the command", d.db.site, err)
			}
			return err
		}
		time.Sleep(time.Duration(rand.IntN(10*attempt)+1) * time.Millisecond)
	}
}

type written struct {
	id      string
	version int64
	gone    bool
}

func (d *Definitions) update(ctx context.Context, fn func(doc *configstore.Document) error) error {
	var doc *configstore.Document
	var rows map[string]rowMeta
	var done []written
	d.mu.Lock()
	shown := maps.Clone(d.shown)
	d.mu.Unlock()
	err := d.db.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(writeLock)); err != nil {
			return err
		}
		var err error
		if doc, rows, err = load(ctx, tx); err != nil {
			return err
		}
		if err := fn(doc); err != nil {
			return &fnError{err}
		}
		doc.SchemaVersion = configstore.SchemaVersion
		if err := configstore.ValidateDocument("the team store "+d.db.site, doc); err != nil {
			return &fnError{err}
		}
		done, err = d.write(ctx, tx, doc, rows, shown)
		return err
	})
	var fe *fnError
	if errors.As(err, &fe) {
		return fe.err
	}
	if err != nil {
		return d.db.connErr(err)
	}
	// The handle now holds what was stored, with the versions written.
	now := time.Now()
	for _, w := range done {
		if w.gone {
			delete(rows, w.id)
			continue
		}
		m := rows[w.id]
		m.version, m.by, m.host, m.at = w.version, d.db.opts.Who, d.db.opts.Host, now
		rows[w.id] = m
	}
	for id, m := range rows {
		m.body = nil // only the Update that read them needs them
		rows[id] = m
	}
	d.mu.Lock()
	d.doc, d.rows, d.lazy = doc, rows, nil
	if len(done) > 0 {
		d.gen = ""
	}
	for _, w := range done {
		if _, ok := d.shown[w.id]; ok {
			if w.gone {
				delete(d.shown, w.id)
			} else {
				d.shown[w.id] = w.version
			}
		}
	}
	d.mu.Unlock()
	return nil
}

// fnError carries fn's or validation's error out of the transaction
// unchanged (never retried).
type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

// write stores the rows of doc that differ from rows (as read in this
// transaction) and deletes the missing ones. A row changed or deleted
// whose stored version is not the one shown to the caller is a conflict.
func (d *Definitions) write(ctx context.Context, tx pgx.Tx, doc *configstore.Document, rows map[string]rowMeta, shown map[string]int64) ([]written, error) {
	type item struct {
		id, nameKey, connID string
		name                string
		body                []byte
	}
	var conns, jobs []item
	keep := map[string]bool{}
	for _, c := range doc.Connections {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		conns = append(conns, item{id: c.ID, nameKey: configstore.NameKey(c.Name), name: c.Name, body: b})
		keep[c.ID] = true
	}
	for _, j := range doc.Jobs {
		b, err := json.Marshal(j)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, item{id: j.ID, nameKey: configstore.NameKey(j.Name), connID: j.ConnectionID, name: j.Name, body: b})
		keep[j.ID] = true
	}
	conflict := func(kind, id, name string, deleted bool) error {
		m := rows[id]
		if v, ok := shown[id]; ok && v != m.version {
			return &ConflictError{Kind: kind, Name: name, Who: m.by, Host: m.host, At: m.at, Deleted: deleted}
		}
		return nil
	}
	who, host := d.db.opts.Who, d.db.opts.Host
	var done []written
	// Jobs go first when deleted (they refer to connections) and last when
	// written (they may refer to a new connection).
	for _, table := range []struct {
		name, kind string
		items      []item
	}{{"connctl_jobs", "job", jobs}, {"connctl_connections", "connection", conns}} {
		for id, m := range rows {
			if keep[id] || m.job != (table.kind == "job") {
				continue
			}
			if err := conflict(table.kind, id, m.name, true); err != nil {
				return nil, err
			}
			tag, err := tx.Exec(ctx, `DELETE FROM `+table.name+` WHERE id = $1 AND version = $2`, id, m.version)
			if err != nil {
				return nil, err
			}
			if tag.RowsAffected() == 1 {
				done = append(done, written{id: id, gone: true})
			}
		}
	}
	// Names move between rows (a rename onto a name just freed): clear
	// the keys of changed rows first, then set them.
	for _, table := range []struct {
		name, kind string
		items      []item
	}{{"connctl_connections", "connection", conns}, {"connctl_jobs", "job", jobs}} {
		for _, it := range table.items {
			m, existed := rows[it.id]
			if existed && bytes.Equal(m.body, it.body) {
				continue
			}
			if existed {
				if err := conflict(table.kind, it.id, it.name, false); err != nil {
					return nil, err
				}
				if _, err := tx.Exec(ctx, `UPDATE `+table.name+` SET name_key = '#' || id WHERE id = $1`, it.id); err != nil {
					return nil, err
				}
			}
		}
		for _, it := range table.items {
			m, existed := rows[it.id]
			if existed && bytes.Equal(m.body, it.body) {
				continue
			}
			var version int64
			var err error
			if !existed {
				if table.kind == "job" {
					err = tx.QueryRow(ctx, `INSERT INTO connctl_jobs (id, name_key, connection_id, body, updated_by, updated_host) VALUES ($1, $2, $3, $4, $5, $6) RETURNING version`,
						it.id, it.nameKey, it.connID, it.body, who, host).Scan(&version)
				} else {
					err = tx.QueryRow(ctx, `INSERT INTO connctl_connections (id, name_key, body, updated_by, updated_host) VALUES ($1, $2, $3, $4, $5) RETURNING version`,
						it.id, it.nameKey, it.body, who, host).Scan(&version)
				}
			} else {
				set := `name_key = $3, body = $4, version = version + 1, updated_by = $5, updated_host = $6, updated_at = now()`
				args := []any{it.id, m.version, it.nameKey, it.body, who, host}
				if table.kind == "job" {
					set += `, connection_id = $7`
					args = append(args, it.connID)
				}
				err = tx.QueryRow(ctx, `UPDATE `+table.name+` SET `+set+` WHERE id = $1 AND version = $2 RETURNING version`, args...).Scan(&version)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil, errStaleRow
				}
			}
			if err != nil {
				return nil, err
			}
			done = append(done, written{id: it.id, version: version})
		}
	}
	return done, nil
}

// errStaleRow is a row changed by a writer that did not take the write
// lock (an older or foreign client): retried, as a serialization failure.
var errStaleRow = errors.New("a row changed while it was being written")
