package jobrunner

import (
	"context"
	"runtime"
)

// Ahead is one fetch running in the background: a source that knows the
// next page's request before it has written the current page (a Link
// header, a cursor in the envelope) starts it with FetchAhead, writes the
// current page, then takes the next one with Wait. The network and the
// writing then overlap, one page deep; memory holds at most two pages.
//
// Only one fetch may be ahead at a time, and the source sends no other
// request while it is (HTTP's progress hook and pagination-loop check
// expect one request at a time). A source that stops before Wait (an
// error, a cancelled run) calls Stop, which cancels the fetch and waits
// for it to end, so that nothing runs on after Fetch returns.
type Ahead[T any] struct {
	done   chan struct{}
	cancel context.CancelFunc
	v      T
	err    error
}

// FetchAhead starts fetch in the background with a context derived from
// ctx. When ctx is already done it starts nothing, and Wait returns ctx's
// error.
func FetchAhead[T any](ctx context.Context, fetch func(context.Context) (T, error)) *Ahead[T] {
	a := &Ahead[T]{done: make(chan struct{})}
	if err := ctx.Err(); err != nil {
		a.err, a.cancel = err, func() {}
		close(a.done)
		return a
	}
	ctx, a.cancel = context.WithCancel(ctx)
	go func() {
		defer close(a.done)
		a.v, a.err = fetch(ctx)
	}()
	// Let the fetch send its request now, before the caller writes the
	// current page: with one processor (see oneProc) it would otherwise
	// start only when the caller waits for it, and the server would idle
	// while the page is written.
	runtime.Gosched()
	return a
}

// Wait waits for the fetch and returns what it returned.
func (a *Ahead[T]) Wait() (T, error) {
	<-a.done
	a.cancel()
	return a.v, a.err
}

// Stop cancels the fetch, if it is still running, and waits for it to
// end. Stop on a nil *Ahead, or after Wait, does nothing harmful.
func (a *Ahead[T]) Stop() {
	if a == nil {
		return
	}
	a.cancel()
	<-a.done
}
