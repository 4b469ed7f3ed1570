package pgstore

import (
	"context"
	"time"
)

// Crash closes the connections that hold l's live run locks without
// unlocking or finishing anything, as a killed process's would end.
func Crash(l *Log) {
	l.liveMu.Lock()
	defer l.liveMu.Unlock()
	for id, r := range l.live {
		r.mu.Lock()
		if r.conn != nil {
			_ = r.conn.Conn().Close(context.Background())
			r.conn.Release()
			r.conn = nil
		}
		r.mu.Unlock()
		delete(l.live, id)
	}
}

// SetWatchTimes sets how often l checks its runs' sessions and how long
// Finish retries, for tests.
func SetWatchTimes(l *Log, every, finishFor time.Duration) {
	l.checkEvery, l.finishFor = every, finishFor
}

// CacheReads is how many reads of the definitions db's local cache
// answered.
func CacheReads(db *DB) int64 { return db.cacheReads.Load() }

// BodiesRead is how many definitions db's readers read from their rows
// (not from the local cache).
func BodiesRead(db *DB) int64 { return db.bodiesRead.Load() }
