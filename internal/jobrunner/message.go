package jobrunner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/connctl/connctl/internal/textsafe"
)

// WithPrefix returns err with "name: " put before its message when err is
// itself a *Failure whose message does not start so already (a source's
// failures name the source); any other error is returned as it is.
func WithPrefix(name string, err error) error {
	var f *Failure
	if errors.As(err, &f) && f == err && !strings.HasPrefix(f.Message, name+": ") {
		return &Failure{Reason: f.Reason, Message: name + ": " + f.Message}
	}
	return err
}

// Clip collapses white space in a vendor's error text and cuts it to at
// most n runes, marking a cut with "…", so that it fits a one-line message.
// Terminal controls in it are shown escaped (package textsafe).
func Clip(s string, n int) string {
	s = textsafe.Sanitize(strings.Join(strings.Fields(s), " "))
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// JSONRequest builds a request to a JSON API: Accept: application/json and,
// with a body, the body as JSON (its GetBody set, so retries resend it). A
// URL that does not parse is a config Failure named after source.
func JSONRequest(ctx context.Context, source, method, u string, body []byte) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, &Failure{Reason: ReasonConfig, Message: source + ": bad URL: " + err.Error()}
	}
	r.Header.Set("Accept", "application/json")
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r, nil
}
