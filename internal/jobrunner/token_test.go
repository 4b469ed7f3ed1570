package jobrunner

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestAccessTokenWithoutTokenFuncUsesSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := Request{Secrets: map[string]string{SecretAccessToken: "at-1"}}
	if tok, err := r.AccessToken(ctx, false); tok != "at-1" || err != nil {
		t.Errorf("AccessToken = %q, %v", tok, err)
	}
	var f *Failure
	if _, err := r.AccessToken(ctx, true); !errors.As(err, &f) || f.Reason != ReasonAuth {
		t.Errorf("forced without Token: %#v", err)
	}
	if _, err := (Request{}).AccessToken(ctx, false); !errors.As(err, &f) || f.Reason != ReasonAuth {
		t.Errorf("no token: %#v", err)
	}
}

func TestAccessTokenCallsTokenAndClassifiesErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var calls []bool
	r := Request{Secrets: map[string]string{SecretAccessToken: "stale"}, Token: func(_ context.Context, force bool) (string, error) {
		calls = append(calls, force)
		if force {
			return "at-2", nil
		}
		return "at-1", nil
	}}
	a, err1 := r.AccessToken(ctx, false)
	b, err2 := r.AccessToken(ctx, true)
	if a != "at-1" || b != "at-2" || err1 != nil || err2 != nil || len(calls) != 2 || calls[0] || !calls[1] {
		t.Errorf("tokens %q %q (%v %v), calls %v", a, b, err1, err2, calls)
	}

	for _, tc := range []struct {
		err    error
		reason string
		text   string
	}{
		{errors.New("connection \"crm\" needs reauthorization:\nthe provider rejected its refresh token (invalid_grant)"), ReasonAuth,
			`refresh the access token: connection "crm" needs reauthorization: the provider rejected its refresh token (invalid_grant)`},
		{&Failure{Reason: ReasonNetwork, Message: "POST login.example/token: connection refused"}, ReasonNetwork, "POST login.example/token: connection refused"},
	} {
		r := Request{Token: func(context.Context, bool) (string, error) { return "", tc.err }}
		_, err := r.AccessToken(ctx, true)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != tc.reason || f.Message != tc.text {
			t.Errorf("err = %#v, want %s %q", err, tc.reason, tc.text)
		}
	}
	empty := Request{Token: func(context.Context, bool) (string, error) { return "", nil }}
	if _, err := empty.AccessToken(ctx, false); err == nil || !strings.Contains(err.Error(), "no access token") {
		t.Errorf("empty token: %v", err)
	}
}

func TestAccessTokenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Request{Token: func(ctx context.Context, _ bool) (string, error) { return "", ctx.Err() }}
	if _, err := r.AccessToken(ctx, true); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}
