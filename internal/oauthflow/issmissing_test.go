package oauthflow

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// Issue #11: a server that promises RFC 9207's iss and omits it gets an
// error that says the parameter is missing, not `issuer ""`.
func TestMissingIssSaysSo(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	cfg := baseConfig(f, func(_ context.Context, u string) error {
		go func() {
			if resp, err := callback(u, func(q url.Values) { q.Del("iss") }); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	})
	cfg.Issuer, cfg.RequireIss = "http://127.0.0.1:4444", true
	_, err := Run(context.Background(), cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "issuer" || f.tokenCalls.Load() != 0 {
		t.Fatalf("got %v, %d token calls", err, f.tokenCalls.Load())
	}
	if !strings.Contains(err.Error(), `the authorization response lacks the iss parameter, which issuer "http://127.0.0.1:4444" promises to send`) || strings.Contains(err.Error(), `issuer ""`) {
		t.Fatalf("message: %v", err)
	}
}
