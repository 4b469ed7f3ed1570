package secretstoretest

import (
	"context"
	"sync"

	"github.com/connctl/connctl/internal/secretstore"
)

// Flaky wraps a Store and fails chosen calls, to inject a fault at every
// step of a change. Calls are numbered from 1 in the order they arrive.
type Flaky struct {
	Store secretstore.Store
	// FailAt is the number of the first call that fails (0: none).
	FailAt int
	// Persist makes every call from FailAt on fail (the store went away),
	// not only call FailAt.
	Persist bool
	// WriteThenFail makes a failing Set store the value before returning
	// the error, like a keyring that timed out after it had written.
	WriteThenFail bool
	// Err is the error of a failing call (secretstore.ErrUnavailable if nil).
	Err error
	// Before, when set, runs before every call with its number, its
	// operation ("get", "set" or "delete") and the secret kind.
	Before func(n int, op, kind string)
	// After, when set, runs after every call with its number.
	After func(n int, op, kind string)

	mu    sync.Mutex
	calls int
}

var _ secretstore.Store = (*Flaky)(nil)

// Calls returns how many calls the store has seen.
func (f *Flaky) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// Name returns the wrapped store's name.
func (f *Flaky) Name() string { return f.Store.Name() }

func (f *Flaky) after(op, kind string) {
	if f.After != nil {
		f.After(f.Calls(), op, kind)
	}
}

func (f *Flaky) step(op, kind string) (bool, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	fail := f.FailAt > 0 && (n == f.FailAt || f.Persist && n > f.FailAt)
	err := f.Err
	f.mu.Unlock()
	if f.Before != nil {
		f.Before(n, op, kind)
	}
	if err == nil {
		err = secretstore.ErrUnavailable
	}
	return fail, err
}

// Get fails when its turn has come, else asks the wrapped store.
func (f *Flaky) Get(ctx context.Context, connID, kind string) (string, error) {
	defer f.after("get", kind)
	if fail, err := f.step("get", kind); fail {
		return "", err
	}
	return f.Store.Get(ctx, connID, kind)
}

// Set fails when its turn has come (after writing, with WriteThenFail),
// else asks the wrapped store.
func (f *Flaky) Set(ctx context.Context, connID, kind, value string) error {
	defer f.after("set", kind)
	fail, err := f.step("set", kind)
	if !fail {
		return f.Store.Set(ctx, connID, kind, value)
	}
	if f.WriteThenFail {
		_ = f.Store.Set(ctx, connID, kind, value)
	}
	return err
}

// Delete fails when its turn has come, else asks the wrapped store.
func (f *Flaky) Delete(ctx context.Context, connID, kind string) error {
	defer f.after("delete", kind)
	if fail, err := f.step("delete", kind); fail {
		return err
	}
	return f.Store.Delete(ctx, connID, kind)
}
