package jsonexport

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/cobra"
)

// stopAfter is a context that is cancelled by the limit-th call of Done:
// it proves that a query is stopped while it runs, not only before, with no
// timing involved.
type stopAfter struct {
	context.Context
	calls atomic.Int64
	limit int64
	done  chan struct{}
	once  sync.Once
}

func newStopAfter(limit int64) *stopAfter {
	return &stopAfter{Context: context.Background(), limit: limit, done: make(chan struct{})}
}

func (c *stopAfter) Done() <-chan struct{} {
	if c.calls.Add(1) >= c.limit {
		c.once.Do(func() { close(c.done) })
	}
	return c.done
}

func (c *stopAfter) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

// TestJQStopsWhenCancelled: queries that never end (#10 item 10) stop when
// the command's context is done (Ctrl-C), through the context AddFlags
// wires in, and the error says it was cancelled (app maps that to 130).
func TestJQStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	for _, query := range []string{
		"def f: f; f",                      // endless recursion
		"repeat(.)",                        // endless output
		"last(range(1; infinite))",         // an endless loop producing nothing
		"[limit(1e12; repeat(1))] | 1",     // a huge array built in memory
		`until(false; .)`,                  // a loop whose condition never holds
		`def f(x): x | f(x+1); f(0)`,       // recursion with a growing argument
		`[.[] | until(false; .)] | length`, // endless inside each element
	} {
		t.Run(query, func(t *testing.T) {
			t.Parallel()
			var exp Exporter
			var writeErr error
			var out bytes.Buffer
			cmd := &cobra.Command{
				Use: "list", Args: cobra.NoArgs, SilenceUsage: true, SilenceErrors: true,
				RunE: func(*cobra.Command, []string) error {
					writeErr = exp.Write(&out, []conn{{Name: "a"}})
					return writeErr
				},
			}
			AddFlags(cmd, &exp, nil)
			cmd.SetArgs([]string{"--jq", query})
			ctx := newStopAfter(100_000)
			err := cmd.ExecuteContext(ctx)
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("--jq %q under a cancelled context: err = %v, want context.Canceled", query, err)
			}
			if out.Len() != 0 {
				t.Errorf("a stopped query wrote %q", out.String())
			}
			if ctx.calls.Load() < ctx.limit {
				t.Errorf("the query ended before it was cancelled (%d checks)", ctx.calls.Load())
			}
		})
	}
}

// TestJQWithoutContext: an exporter built by New (no command) still runs.
func TestJQWithoutContext(t *testing.T) {
	t.Parallel()
	e, err := New("", ".[0].name", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.Write(&out, []conn{{Name: "a"}}); err != nil || out.String() != "a\n" {
		t.Fatalf("Write = %q, %v", out.String(), err)
	}
}
