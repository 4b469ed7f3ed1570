package jobrunner

import (
	"runtime"
	"testing"
)

// Runs share one processor while any is under way, and the last to end
// gives back what there was; a GOMAXPROCS the user set is left alone.
func TestOneProc(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // the test may run under a GOMAXPROCS
	before := runtime.GOMAXPROCS(3)
	defer runtime.GOMAXPROCS(before)

	a := oneProc()
	b := oneProc()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS during two runs = %d, want 1", got)
	}
	a()
	a() // a second call does nothing
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("GOMAXPROCS after one of two runs ended = %d, want 1", got)
	}
	b()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS after both runs = %d, want 3 again", got)
	}

	t.Setenv("GOMAXPROCS", "3")
	c := oneProc()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("GOMAXPROCS=3 set by the user became %d during a run", got)
	}
	c()
}
