package keycheck

import (
	"errors"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	in := &Call{sensitive: []string{"abc", "s3cr3t-value", "s3cr3t-value-longer"}}
	err := in.scrub(&Error{Kind: KindServer, Status: 500, Message: "x s3cr3t-value-longer y\ns3cr3t-value abc"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("scrub returned %T, want *Error", err)
	}
	if e.Message != "x [redacted] y [redacted] abc" || e.Kind != KindServer || e.Status != 500 {
		t.Fatalf("scrub = %+v", e)
	}
}

// A provider's text is cut to 160 characters; a secret straddling the cut
// must not survive in part.
func TestQuoteRedactsBeforeCutting(t *testing.T) {
	t.Parallel()
	secret := "SECRET-0123456789abcdef"
	in := &Call{sensitive: []string{secret}}
	got := in.Quote(strings.Repeat("x", 150) + secret + " tail")
	if strings.Contains(got, "SECRET-01") || len([]rune(got)) > 160 {
		t.Fatalf("quote = %q", got)
	}
}
