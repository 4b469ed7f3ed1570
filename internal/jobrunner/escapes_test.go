package jobrunner

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/connctl/connctl/internal/textsafe"
)

// A vendor's error text is quoted in run failures, which are printed and
// stored in the activity log: terminal controls in it are shown escaped,
// however the source built the error (#10 item 4).
func TestFailuresShowControlsEscaped(t *testing.T) {
	t.Parallel()
	const hostile = "bad \x1b]0;pwned\x07\x1b[2J\r\u202eevil\u009b31m"
	if got := Clip(hostile, 200); !textsafe.Safe(got) {
		t.Errorf("Clip(%q) = %q", hostile, got)
	}
	for _, err := range []error{
		&Failure{Reason: ReasonSourceError, Message: hostile},
		fmt.Errorf("page 2: %w", &Failure{Reason: ReasonAuth, Message: hostile}),
		errors.New(hostile),
	} {
		got := classify(context.Background(), err)
		var f *Failure
		if !errors.As(got, &f) || !textsafe.Safe(f.Message) {
			t.Errorf("classify(%q) = %#v: a raw control is left", err, got)
		}
	}
}
