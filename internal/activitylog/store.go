package activitylog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// applicationID marks the database as connctl's ("cnct"), so that a SQLite
// file of another program at the same path is refused rather than written.
const applicationID = 0x636e6374

// busyTimeout is how long a statement waits for another process's write
// lock. Writes are short (one row, or a prune batch), so waiting this long
// means something is stuck.
const busyTimeout = 10 * time.Second

// migrations bring the schema from version i to i+1; PRAGMA user_version is
// the number applied. Append only: a released migration never changes.
//
// Times are INTEGER unix nanoseconds, UTC: they compare as numbers, so range
// conditions use the indexes, and they keep Go's precision. The indexes serve,
// in order: newest-first listing (the rowid, id, is the tie-breaker every
// index carries), listing by connection, listing by job, the status queries
// (failed since T; the failed count per connection, which it covers without
// reading the table), and the running runs of a job, which BeginRun checks
// (a partial index: it holds only running rows, however many runs a job has
// had).
var migrations = []string{
	`CREATE TABLE activities (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		type            TEXT    NOT NULL CHECK (type IN ('execution', 'update')),
		action          TEXT    NOT NULL,
		connection_id   TEXT    NOT NULL,
		connection_name TEXT    NOT NULL,
		job_id          TEXT    NOT NULL,
		job_name        TEXT    NOT NULL,
		status          TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled')),
		reason          TEXT    NOT NULL,
		message         TEXT    NOT NULL,
		who             TEXT    NOT NULL,
		started_at      INTEGER NOT NULL,
		finished_at     INTEGER,
		records         INTEGER NOT NULL,
		bytes           INTEGER NOT NULL,
		pages           INTEGER NOT NULL,
		retries         INTEGER NOT NULL,
		changes         TEXT,
		pid             INTEGER NOT NULL,
		host            TEXT    NOT NULL,
		proc_start      TEXT    NOT NULL
	) STRICT;
	CREATE INDEX activities_started    ON activities (started_at);
	CREATE INDEX activities_connection ON activities (connection_id, started_at);
	CREATE INDEX activities_job        ON activities (job_id, started_at);
	CREATE INDEX activities_status     ON activities (status, started_at, connection_id);
	CREATE INDEX activities_running    ON activities (job_id) WHERE status = 'running';
	CREATE TABLE checkpoints (
		job_id     TEXT    PRIMARY KEY,
		value      TEXT    NOT NULL,
		updated_at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;`,
	// without_cursor: records a run wrote that lacked the source's
	// incremental field, so they could not move the checkpoint.
	`ALTER TABLE activities ADD COLUMN without_cursor INTEGER NOT NULL DEFAULT 0;`,
	// subject_states: the last known health of each connection and job,
	// for notifications on a change (not on every run) and the auto-pause
	// of a job that keeps failing. Times are unix nanoseconds; 0 is none.
	`CREATE TABLE subject_states (
		subject     TEXT    NOT NULL CHECK (subject IN ('connection', 'job')),
		id          TEXT    NOT NULL,
		name        TEXT    NOT NULL,
		state       TEXT    NOT NULL,
		healthy     INTEGER NOT NULL,
		since       INTEGER NOT NULL,
		notified_at INTEGER NOT NULL,
		failures    INTEGER NOT NULL,
		paused_at   INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL,
		PRIMARY KEY (subject, id)
	) STRICT, WITHOUT ROWID;`,
}

// Store is the activity log. It is safe for concurrent use, and several
// processes may open the same file.
type Store struct {
	db         *sql.DB
	path       string
	host       string
	now        func() time.Time
	pruneBatch int // rows per prune transaction
}

// Option configures Open.
type Option func(*Store)

// WithClock sets the clock that gives finish times and the default start
// time (time.Now otherwise).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// CorruptError is a database file SQLite cannot read. The file is left as it
// is: nothing in this package deletes or rewrites it.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("activity log %s is damaged or not a SQLite database (%v); it was left untouched: move it aside to start a new one", e.Path, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// SchemaError is a database written by a newer connctl, or by another program.
type SchemaError struct {
	Path string
	Msg  string
}

func (e *SchemaError) Error() string { return fmt.Sprintf("activity log %s: %s", e.Path, e.Msg) }

// Open opens the activity log at path, creating it (and its folder, 0700) if
// needed, and brings its schema up to date. The file is 0600; WAL mode lets
// readers and a writer work at once, and a busy timeout makes writers from
// several processes wait for each other instead of failing. A file that is not
// a readable database gives a *CorruptError and is never modified.
func Open(path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("activity log: no path given")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("activity log: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("create the activity log folder: %w", err)
	}
	// Create the file ourselves, so that it is 0600 from the start; SQLite
	// would use 0644 and give the -wal and -shm files the same mode as it.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the activity log: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("open the activity log: %w", err)
	}

	host, _ := os.Hostname()
	s := &Store{path: abs, host: host, now: time.Now, pruneBatch: 10_000}
	for _, o := range opts {
		o(s)
	}
	// sql.Open connects lazily; migrate makes the first connection.
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, fmt.Errorf("open the activity log %s: %w", abs, err)
	}
	// A command does little at a time; a few connections let a reader and a
	// writer overlap without each goroutine holding a SQLite handle.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s.db = db
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		// A copied or restored file, now known to be ours: tighten it as
		// connctl would have made it.
		_ = os.Chmod(abs, 0o600)
	}
	return s, nil
}

// dsn is the SQLite URI of path with connctl's connection settings:
// busy_timeout first (the driver applies it before the others), WAL,
// synchronous=FULL (a checkpoint saved is still there after a power cut) and
// BEGIN IMMEDIATE (a transaction takes the write lock at once instead of
// failing with SQLITE_BUSY when it upgrades from a read).
func dsn(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x on Windows
	}
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	return fmt.Sprintf("file://%s?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate",
		p, busyTimeout.Milliseconds())
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close closes the database. The last connection to close folds the WAL back
// into the file.
func (s *Store) Close() error { return s.db.Close() }

// migrate applies the migrations not yet applied, in one transaction. The
// common case, an up-to-date file, only reads two pragmas.
func (s *Store) migrate(ctx context.Context) error {
	if v, app, err := s.firstVersions(ctx); err != nil {
		return s.fail("open", err)
	} else if app == applicationID && v == len(migrations) {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one process migrates, the others wait
	if err != nil {
		return s.fail("open", err)
	}
	defer tx.Rollback()
	v, app, err := s.versions(ctx, tx)
	if err != nil {
		return s.fail("open", err)
	}
	switch {
	case app != 0 && app != applicationID:
		return &SchemaError{Path: s.path, Msg: fmt.Sprintf("not a connctl activity log (SQLite application_id %#x)", app)}
	case v > len(migrations):
		return &SchemaError{Path: s.path, Msg: fmt.Sprintf("schema version %d is newer than this connctl knows (%d); upgrade connctl", v, len(migrations))}
	case app == 0:
		var tables int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
			return s.fail("open", err)
		}
		if tables > 0 {
			return &SchemaError{Path: s.path, Msg: "not a connctl activity log (a SQLite database with other tables)"}
		}
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return s.fail(fmt.Sprintf("migrate to schema version %d", i+1), err)
		}
	}
	// PRAGMA takes no parameters; both values are integers from this file.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d; PRAGMA application_id = %d", len(migrations), applicationID)); err != nil {
		return s.fail("migrate", err)
	}
	return s.fail("migrate", tx.Commit())
}

// firstVersions is versions on the first connection, which applies the
// connection's pragmas. Processes that open a new file at the same moment
// race to switch it to WAL, which takes an exclusive lock SQLite does not
// wait for: the losers get SQLITE_BUSY at once, whatever busy_timeout says.
// They try again, for up to busyTimeout, as busy_timeout would have them.
func (s *Store) firstVersions(ctx context.Context) (version, app int, err error) {
	deadline := time.Now().Add(busyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		version, app, err = s.versions(ctx, s.db)
		if err == nil || !isBusy(err) || time.Now().Add(delay).After(deadline) {
			return version, app, err
		}
		select {
		case <-ctx.Done():
			return 0, 0, err
		case <-time.After(delay + time.Duration(rand.Int64N(int64(delay)))):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) versions(ctx context.Context, q queryer) (version, app int, err error) {
	if err := q.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return 0, 0, err
	}
	if err := q.QueryRowContext(ctx, `PRAGMA application_id`).Scan(&app); err != nil {
		return 0, 0, err
	}
	return version, app, nil
}

// fail wraps a database error: a damaged file becomes a *CorruptError naming
// it, anything else says what failed and on which file.
func (s *Store) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return &CorruptError{Path: s.path, Err: err}
		}
	}
	return fmt.Errorf("activity log %s: %s: %w", s.path, op, err)
}
