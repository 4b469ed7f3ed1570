package jobrunner

import (
	"context"
	"errors"
	"strings"
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

func TestJSONRequest(t *testing.T) {
	r, err := JSONRequest(context.Background(), "hubspot", "POST", "https://api.example/x", []byte(`{"a":1}`))
	if err != nil || r.Header.Get("Accept") != "application/json" || r.Header.Get("Content-Type") != "application/json" || r.GetBody == nil {
		t.Fatalf("POST: %+v, %v", r, err)
	}
	r, err = JSONRequest(context.Background(), "hubspot", "GET", "https://api.example/x", nil)
	if err != nil || r.Body != nil || r.Header.Get("Content-Type") != "" || r.Header.Get("Accept") != "application/json" {
		t.Fatalf("GET: %+v, %v", r, err)
	}
	_, err = JSONRequest(context.Background(), "hubspot", "GET", "http://a b/", nil)
	var f *Failure
	if !errors.As(err, &f) || f.Reason != ReasonConfig || !strings.HasPrefix(f.Message, "hubspot: bad URL: ") {
		t.Fatalf("bad URL: %v", err)
	}
}
