// Package pgstore keeps connctl's shared state in PostgreSQL, for a team:
// connection and job definitions (Definitions, a configstore.Definitions)
// and the activity log (Log, an activitylog.Log). Several admins on several
// machines open the same database (setting store.url); every write is a
// transaction, and a write based on a connection someone else changed since
// this process read it fails with a *ConflictError instead of overwriting
// it. The schema is applied by golang-migrate from the migrations embedded
// here, never destructively. Nothing here ever holds a secret: definitions
// only name their secrets, which stay in the secret store.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options say who writes: Who (the OS user) and Host (the machine) are kept
// with every row and activity this process writes.
type Options struct {
	Who  string
	Host string
	// Now is the clock for activities; nil: time.Now.
	Now func() time.Time
	// CacheDir is the folder of the local cache of the definitions (see
	// cache.go; the user's cache folder); "": none, every read reads
	// every row.
	CacheDir string
}

func (o *Options) fill() {
	if o.Who == "" {
		o.Who = "unknown"
	}
	if o.Host == "" {
		o.Host = "unknown"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// DB is an open team store: a small connection pool on one database, its
// schema up to date.
type DB struct {
	pool *pgxpool.Pool
	opts Options
	site string // host:port/database, for messages (never the password)
	// cacheKey names the local cache: the URL without its password.
	cacheKey string
	// cacheReads counts the reads answered by the local cache (tests).
	cacheReads atomic.Int64
	// bodiesRead counts the definitions read and decoded from their rows
	// by readers (tests).
	bodiesRead atomic.Int64
}

// ConnectTimeout bounds how long Open waits for the server.
const ConnectTimeout = 10 * time.Second

// Open connects to the database at rawURL (postgres://…) and applies the
// schema migrations it lacks. An unreachable server or a refused login is
// one line naming the server (never the password) and the fix.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	opts.fill()
	site := Site(rawURL)
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store.url is not a PostgreSQL URL (%s): write it as postgres://USER@HOST:PORT/DATABASE", scrub(err.Error(), rawURL))
	}
	cfg.MaxConns = 8
	cfg.MinConns = 0
	cfg.ConnConfig.ConnectTimeout = ConnectTimeout
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "connctl"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, unreachable(site, rawURL, err)
	}
	db := &DB{pool: pool, opts: opts, site: site, cacheKey: Redact(rawURL)}
	if err := db.prepare(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return db, nil
}

// latestSchema is the number of the newest migration this build has.
var latestSchema = func() int {
	entries, _ := migrations.ReadDir("migrations")
	n := 0
	for _, e := range entries {
		var v int
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err == nil && v > n {
			n = v
		}
	}
	return n
}()

func (db *DB) prepare(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	conn, err := db.pool.Acquire(cctx)
	if err != nil {
		return unreachable(db.site, "", err)
	}
	// The common case, a schema already up to date, costs one query.
	var version int
	var dirty bool
	err = conn.QueryRow(cctx, `SELECT version, dirty FROM `+MigrationsTable+` LIMIT 1`).Scan(&version, &dirty)
	conn.Release()
	if err == nil && !dirty && version >= latestSchema {
		return nil
	}
	if err := migrateUp(db.pool); err != nil {
		return fmt.Errorf("team store %s: %v: check that the store.url user may create tables in that database", db.site, scrub(err.Error(), ""))
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Site is where rawURL points, for messages: host:port/database, without
// the user's password (and without the user).
func Site(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		if cfg, err := pgconn.ParseConfig(rawURL); err == nil {
			return fmt.Sprintf("%s/%s", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)), cfg.Database)
		}
		return "(unparsable store.url)"
	}
	return u.Host + u.Path
}

// Redact is rawURL with its password replaced by xxxxx, for output that
// shows the setting.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// unreachable is the one-line error for a server that cannot be reached or
// refuses the login.
func unreachable(site, rawURL string, err error) error {
	reason := err.Error()
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pe):
		reason = pe.Message
	case errors.As(err, &ce):
		reason = deepest(ce).Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		reason = "no answer within " + ConnectTimeout.String()
	}
	reason = scrub(reason, rawURL)
	return fmt.Errorf("cannot reach the team store at %s (%s): start PostgreSQL there or correct store.url (or CONNCTL_STORE_URL)", site, reason)
}

// deepest is the innermost cause of err ("connection refused"), the
// first one of joined errors.
func deepest(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if es := u.Unwrap(); len(es) > 0 {
				next = es[0]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}

// scrub removes the password of rawURL from msg and folds it to one line.
func scrub(msg, rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// retryable reports whether err is a conflict with a concurrent
// transaction that running the transaction again resolves.
func retryable(err error) bool {
	if errors.Is(err, errStaleRow) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505", "23503": // serialization, deadlock, unique, foreign key
		return true
	}
	return false
}

// inTx runs fn in a transaction and commits it.
func (db *DB) inTx(ctx context.Context, opts pgx.TxOptions, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, opts)
	if err != nil {
		return db.connErr(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return db.connErr(err)
	}
	return nil
}

// connErr turns a lost connection into the one-line unreachable error.
func (db *DB) connErr(err error) error {
	if connLost(err) {
		return unreachable(db.site, "", err)
	}
	return err
}

// connLost reports whether err says the connection to the server failed
// or was cut (not an error the server answered with).
func connLost(err error) bool {
	var pe *pgconn.PgError
	var ce *ConflictError
	if err == nil || errors.As(err, &pe) || errors.As(err, &ce) || errors.Is(err, context.Canceled) {
		if errors.As(err, &pe) && (pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03") {
			return true // admin_shutdown, crash_shutdown, cannot_connect_now: the server is going or coming
		}
		return false
	}
	var nerr net.Error
	var connect *pgconn.ConnectError
	return errors.As(err, &connect) || errors.As(err, &nerr) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "conn closed")
}
