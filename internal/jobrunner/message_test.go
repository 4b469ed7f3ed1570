package jobrunner

import (
	"context"
	"errors"
	"testing"
)

func TestWithPrefix(t *testing.T) {
	f := &Failure{Reason: ReasonAuth, Message: "401 unauthorized"}
	got := WithPrefix("jira", f)
	var g *Failure
	if !errors.As(got, &g) || g.Message != "jira: 401 unauthorized" || g.Reason != ReasonAuth {
		t.Fatalf("got %v", got)
	}
	if again := WithPrefix("jira", got); again.Error() != got.Error() {
		t.Errorf("prefixed twice: %v", again)
	}
	if err := WithPrefix("jira", context.Canceled); err != context.Canceled {
		t.Errorf("a non-Failure changed: %v", err)
	}
}

func TestClip(t *testing.T) {
	if got := Clip("  a \n b\tc ", 10); got != "a b c" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("äöüäöü", 3); got != "äöü…" {
		t.Errorf("Clip = %q", got)
	}
}
