package connection

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/secretstore"
)

// Every change to one connection's secrets runs under that connection's
// lock (LockDir/<id>.conn.lock), so two connctl processes never interleave
// their secret store calls and config writes for the same connection: a
// delete cannot slip between an edit's secret write and its rollback. The
// lock is taken before the config lock and never the other way round; the
// OAuth refresh lock (<id>.lock, package authorization) is taken before it.
//
// Before a change writes secrets that no definition may end up naming, it
// writes a pending note (LockDir/<id>.pending) listing those kinds, and
// removes it once the config and the secret store agree again. A process
// killed in between leaves the note behind; the next create or delete
// sweeps it: under the connection's lock, every listed kind that the config
// does not name for that id (all of them when the id is no longer defined)
// is removed from the secret store. A note never holds a secret value.

// connLockTimeout bounds how long a change waits for another process
// working on the same connection.
const connLockTimeout = 30 * time.Second

func (mg *Manager) connLockPath(id string) string {
	return filepath.Join(mg.LockDir, id+".conn.lock")
}

func (mg *Manager) pendingPath(id string) string {
	return filepath.Join(mg.LockDir, id+".pending")
}

// lockConn takes the connection's lock, waiting for another process. With
// no LockDir (some unit tests) it does nothing.
func (mg *Manager) lockConn(ctx context.Context, id string) (func(), error) {
	if mg.LockDir == "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(mg.LockDir, 0o700); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	lock := flock.New(mg.connLockPath(id))
	lctx, cancel := context.WithTimeout(ctx, connLockTimeout)
	defer cancel()
	ok, err := lock.TryLockContext(lctx, 10*time.Millisecond)
	if err != nil || !ok {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("lock connection %s: %w", id, err)
		}
		return nil, fmt.Errorf("another connctl process is changing connection %s and has not finished (waited %s)", id, connLockTimeout)
	}
	return func() { _ = lock.Unlock() }, nil
}

// lockByName finds the connection named name, takes its lock and re-reads
// the config under it, so the caller works on the definition as it is now,
// not as it was when this process started.
func (mg *Manager) lockByName(ctx context.Context, name string) (*configstore.Connection, func(), error) {
	cur, ok := mg.Config.Find(name)
	if !ok {
		return nil, nil, NotFound(name)
	}
	cur, unlock, err := mg.lockID(ctx, cur.ID)
	if err != nil {
		return nil, nil, err
	}
	if cur == nil {
		unlock()
		return nil, nil, NotFound(name)
	}
	return cur, unlock, nil
}

// lockID takes the lock of connection id, re-reads the config and returns
// the connection as defined now (nil if it is gone).
func (mg *Manager) lockID(ctx context.Context, id string) (*configstore.Connection, func(), error) {
	unlock, err := mg.lockConn(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := mg.Config.Reload(); err != nil {
		unlock()
		return nil, nil, err
	}
	// A change to this connection that died midway is finished first, so
	// its pending note is not mixed with this change's.
	// If that fails (the store is unreachable), the change goes on and its
	// note keeps the old kinds for a later sweep.
	if _, err := os.Stat(mg.pendingPath(id)); mg.LockDir != "" && err == nil {
		reloaded := true
		if _, err := mg.sweepOne(ctx, id, &reloaded); err != nil {
			mg.keepNotes.Store(id, true)
		}
	}
	return mg.Config.Document().ConnectionByID(id), unlock, nil
}

type pendingNote struct {
	Kinds []string `json:"kinds"`
}

// notePending records that kinds of connection id may be left in the secret
// store without a definition naming them, until clearPending.
func (mg *Manager) notePending(id string, kinds []string) error {
	if mg.LockDir == "" || len(kinds) == 0 {
		return nil
	}
	if old, err := readPending(mg.pendingPath(id)); err == nil {
		kinds = union(old.Kinds, kinds)
	}
	b, err := json.Marshal(pendingNote{Kinds: kinds})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(mg.pendingPath(id), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("note pending secrets: %w", err)
	}
	_, werr := f.Write(b)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return fmt.Errorf("note pending secrets: %w", err)
	}
	return nil
}

func (mg *Manager) clearPending(id string) {
	if _, keep := mg.keepNotes.Load(id); keep || mg.LockDir == "" {
		return
	}
	_ = os.Remove(mg.pendingPath(id))
}

func readPending(path string) (pendingNote, error) {
	var n pendingNote
	b, err := os.ReadFile(path)
	if err != nil {
		return n, err
	}
	return n, json.Unmarshal(b, &n)
}

func union(a, b []string) []string {
	out := append([]string{}, a...)
	for _, k := range b {
		if !contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Sweep removes secrets left behind by changes whose process died before it
// finished (see the pending notes above). It skips connections another
// process is working on, and the connection except (the caller's own). It is
// best effort and returns how many secret items it removed.
func (mg *Manager) Sweep(ctx context.Context, except string) int {
	if mg.LockDir == "" {
		return 0
	}
	entries, err := os.ReadDir(mg.LockDir)
	if err != nil {
		return 0
	}
	removed := 0
	reloaded := false
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".pending")
		if !ok || id == except || !strings.HasPrefix(id, "conn_") {
			continue
		}
		lock := flock.New(mg.connLockPath(id))
		if got, err := lock.TryLock(); err != nil || !got {
			continue // its change is still running
		}
		n, err := mg.sweepOne(ctx, id, &reloaded)
		removed += n
		_ = lock.Unlock()
		if err != nil {
			return removed // the store or the config is unusable now; try next time
		}
	}
	return removed
}

func (mg *Manager) sweepOne(ctx context.Context, id string, reloaded *bool) (int, error) {
	note, err := readPending(mg.pendingPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		mg.clearPending(id) // a torn note names nothing usable
		return 0, nil
	}
	if !*reloaded {
		if err := mg.Config.Reload(); err != nil {
			return 0, err
		}
		*reloaded = true
	}
	var listed []string
	if c := mg.Config.Document().ConnectionByID(id); c != nil {
		listed = c.Secrets
	}
	var drop []string
	for _, k := range note.Kinds {
		if !contains(listed, k) {
			drop = append(drop, k)
		}
	}
	removed := 0
	if len(drop) > 0 {
		st, err := mg.Secrets()
		if err != nil {
			return 0, err
		}
		for _, k := range drop {
			err := st.Delete(ctx, id, k)
			if err != nil && !errors.Is(err, secretstore.ErrNotFound) {
				return removed, err
			}
			if err == nil {
				removed++
			}
		}
	}
	mg.clearPending(id)
	return removed, nil
}

// warnf reports a problem that did not stop the change.
func (mg *Manager) warnf(format string, args ...any) {
	if mg.Warnf != nil {
		mg.Warnf(format, args...)
	}
}
