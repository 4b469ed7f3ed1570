package pgstore

import "context"

// Crash closes the connections that hold l's live run locks without
// unlocking or finishing anything, as a killed process's would end.
func Crash(l *Log) {
	l.liveMu.Lock()
	defer l.liveMu.Unlock()
	for id, c := range l.live {
		_ = c.Conn().Close(context.Background())
		c.Release()
		delete(l.live, id)
	}
}
