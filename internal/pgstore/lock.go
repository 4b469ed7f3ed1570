package pgstore

import (
	"context"
	"fmt"
)

// refreshLock is the advisory lock namespace of token refreshes.
const refreshLock = 0x72667368

// LockRefresh takes the team-wide lock on refreshing connection connID's
// OAuth token (a session advisory lock, on a connection of its own), so
// that of several machines refreshing at once one calls the provider and
// the others, re-reading after the lock, use its token. It waits until ctx
// ends. unlock releases it; the database releases it too if this process
// dies.
func (db *DB) LockRefresh(ctx context.Context, connID string) (unlock func(), err error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, db.connErr(err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, int32(refreshLock), connID); err != nil {
		// A cancelled wait may leave the connection in doubt: drop it.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("lock the refresh of connection %s in the team store %s: %w", connID, db.site, db.connErr(err))
	}
	return func() {
		if _, err := conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1, hashtext($2))`, int32(refreshLock), connID); err != nil {
			_ = conn.Conn().Close(context.Background())
		}
		conn.Release()
	}, nil
}
