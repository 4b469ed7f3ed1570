package oauthflow

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// An authorization endpoint with a terminal control in it (a hand-edited
// config, a hostile discovery document) is never opened, sent or printed
// raw: the flow refuses it before it listens.
func TestAuthURLWithControlIsRefused(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	var printed strings.Builder
	opened := false
	cfg := baseConfig(f, func(context.Context, string) error { opened = true; return nil })
	cfg.AuthURL = f.srv.URL + "/authorize\x1b]0;pwned\a"
	cfg.Stderr = &printed
	_, err := Run(context.Background(), cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "endpoint" {
		t.Fatalf("got %v, want an endpoint error", err)
	}
	if want := "the authorization endpoint " + f.srv.URL + `/authorize\x1b]0;pwned\x07 contains a control character: refusing to use it`; err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	if opened || printed.Len() != 0 {
		t.Errorf("opened=%v, printed %q", opened, printed.String())
	}
}

// The URL line is printed through textsafe, so a control that reaches it
// some other way (a connection name, a parameter) shows escaped.
func TestVisitLineIsEscaped(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	var printed strings.Builder
	cfg := baseConfig(f, func(context.Context, string) error { return nil })
	cfg.Name = "crm\u202e"
	cfg.Stderr = &printed
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = Run(ctx, cfg)
	out := printed.String()
	if !strings.Contains(out, `authorize crm\u202e.`) {
		t.Errorf("printed %q, want the name escaped", out)
	}
	for _, c := range out {
		if c != '\n' && (c < 0x20 || c == 0x7f || c == 0x202e) {
			t.Fatalf("raw control %U printed: %q", c, out)
		}
	}
}
