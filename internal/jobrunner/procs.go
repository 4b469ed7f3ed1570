package jobrunner

import (
	"os"
	"runtime"
	"sync"
)

// A run is one pipeline: the page being written and, at most, one fetch
// ahead (Ahead), plus net/http's reader and writer goroutines. It needs one
// processor (P) at a time. With more, every hand-off between those
// goroutines may wake another OS thread (a futex wake and a context switch,
// dear on a virtual machine), idle processors spin looking for work, and
// the runtime's monitor wakes every 20 µs to take processors back from
// threads in system calls: on the reference machine (2 vCPUs, a local
// server sharing them) a 1,000,000-record run spent about 30 % more CPU
// with 2 processors than with 1, and took longer (docs/performance.md,
// "Job runs"). The network and the writing still overlap: a fetch ahead
// sends its request before the page is written (FetchAhead yields), and
// the server works while connctl writes.
//
// oneProc sets GOMAXPROCS to 1 for the length of a run and returns the
// function that restores it when the last run in the process ends. A
// GOMAXPROCS set in the environment is the user's choice and is kept.
func oneProc() (restore func()) {
	if os.Getenv("GOMAXPROCS") != "" {
		return func() {}
	}
	procs.Lock()
	defer procs.Unlock()
	if procs.runs == 0 {
		procs.saved = runtime.GOMAXPROCS(1)
	}
	procs.runs++
	return sync.OnceFunc(func() {
		procs.Lock()
		defer procs.Unlock()
		if procs.runs--; procs.runs == 0 {
			runtime.GOMAXPROCS(procs.saved)
		}
	})
}

var procs struct {
	sync.Mutex
	runs  int // runs under way in this process
	saved int // GOMAXPROCS before the first of them
}
