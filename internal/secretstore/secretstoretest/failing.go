package secretstoretest

import (
	"context"
	"errors"
	"fmt"

	"github.com/connctl/connctl/internal/secretstore"
)

// Failing is a Store whose every call returns Err, for example
// secretstore.ErrUnavailable to act out a missing keyring.
type Failing struct {
	Err error
}

var _ secretstore.Store = (*Failing)(nil)

// NewFailing returns a Store whose every call returns err.
func NewFailing(err error) *Failing { return &Failing{Err: err} }

// Name returns "failing".
func (f *Failing) Name() string { return "failing" }

// Get returns f.Err.
func (f *Failing) Get(context.Context, string, string) (string, error) { return "", f.Err }

// Set returns f.Err.
func (f *Failing) Set(context.Context, string, string, string) error { return f.Err }

// Delete returns f.Err.
func (f *Failing) Delete(context.Context, string, string) error { return f.Err }

// Blocking is a Store whose every call blocks until its context is done, like
// a keyring waiting on an unlock prompt nobody answers. When the context's
// deadline passes the error wraps secretstore.ErrTimeout (as a real Keyring's
// does) and context.DeadlineExceeded; when it is cancelled the error wraps
// context.Canceled only. Give it a context that ends.
type Blocking struct{}

var _ secretstore.Store = (*Blocking)(nil)

// NewBlocking returns a Blocking store.
func NewBlocking() *Blocking { return &Blocking{} }

// Name returns "blocking".
func (*Blocking) Name() string { return "blocking" }

// Get blocks until ctx is done.
func (*Blocking) Get(ctx context.Context, _, _ string) (string, error) { return "", block(ctx) }

// Set blocks until ctx is done.
func (*Blocking) Set(ctx context.Context, _, _, _ string) error { return block(ctx) }

// Delete blocks until ctx is done.
func (*Blocking) Delete(ctx context.Context, _, _ string) error { return block(ctx) }

func block(ctx context.Context) error {
	<-ctx.Done()
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", secretstore.ErrTimeout, err)
	}
	return err
}
