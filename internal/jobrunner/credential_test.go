package jobrunner

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// authLog records the Authorization header (and body) of each request and
// answers 401 to every request whose header is not want.
type authLog struct {
	mu     sync.Mutex
	seen   []string
	bodies []string
}

func (l *authLog) handler(want string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.seen = append(l.seen, r.Header.Get("Authorization"))
		l.bodies = append(l.bodies, string(b))
		l.mu.Unlock()
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"expired"}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}
}

func (l *authLog) headers() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.seen, " | ")
}

// tokens is a token function that counts its calls: the first token is
// "at-1", each forced one the next number.
type tokens struct {
	n      int
	forced int
	err    error // returned by forced calls when set
}

func (tk *tokens) token(_ context.Context, force bool) (string, error) {
	if force {
		tk.forced++
		if tk.err != nil {
			return "", tk.err
		}
		tk.n++
	} else if tk.n == 0 {
		tk.n = 1
	}
	return "at-" + string(rune('0'+tk.n)), nil
}

// accepting starts a server that answers 401 unless the Authorization
// header is want. It returns the server's log, URL and request count, and a
// client for it.
func accepting(t *testing.T, want string) (*authLog, string, *atomic.Int64, *HTTP) {
	t.Helper()
	log := &authLog{}
	srv, n := serve(t, log.handler(want))
	return log, srv.URL, n, NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil)
}

// oauthCred returns an OAuth Credential whose tokens come from tk.
func oauthCred(t *testing.T, tk *tokens, scheme string) *Credential {
	t.Helper()
	c, err := OAuthCredential(context.Background(), Request{Token: tk.token}, scheme)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func getter(ctx context.Context, u string) func() (*http.Request, error) {
	return func() (*http.Request, error) { return http.NewRequestWithContext(ctx, http.MethodGet, u, nil) }
}

func TestCredentialStaticNeverRefreshes(t *testing.T) {
	t.Parallel()
	log, u, n, h := accepting(t, "Basic good")
	ctx := context.Background()

	st, _, body, refreshed, err := StaticCredential("Basic good").Do(ctx, h, getter(ctx, u))
	if st != 200 || string(body) != `{"ok":true}` || refreshed || err != nil {
		t.Fatalf("good key: %d %q %v %v", st, body, refreshed, err)
	}
	st, _, body, refreshed, err = StaticCredential("Basic bad").Do(ctx, h, getter(ctx, u))
	var f *Failure
	if st != 401 || string(body) != `{"error":"expired"}` || refreshed || !errors.As(err, &f) || f.Reason != ReasonAuth {
		t.Fatalf("bad key: %d %q %v %#v", st, body, refreshed, err)
	}
	if n.Load() != 2 || log.headers() != "Basic good | Basic bad" {
		t.Errorf("%d requests, headers %s", n.Load(), log.headers())
	}
}

func TestCredentialOAuthRefreshesOnceAndKeepsTheNewToken(t *testing.T) {
	t.Parallel()
	log, u, _, h := accepting(t, "Bearer at-2")
	ctx := context.Background()
	tk := &tokens{}
	c := oauthCred(t, tk, "Bearer")

	st, _, body, refreshed, err := c.Do(ctx, h, getter(ctx, u))
	if st != 200 || string(body) != `{"ok":true}` || !refreshed || err != nil {
		t.Fatalf("first: %d %q %v %v", st, body, refreshed, err)
	}
	// The next request carries the renewed token and is not a refresh.
	st, _, _, refreshed, err = c.Do(ctx, h, getter(ctx, u))
	if st != 200 || refreshed || err != nil {
		t.Fatalf("second: %d %v %v", st, refreshed, err)
	}
	if got := log.headers(); got != "Bearer at-1 | Bearer at-2 | Bearer at-2" || tk.forced != 1 {
		t.Errorf("headers %s, %d forced refreshes", got, tk.forced)
	}
	if s := h.Stats(); s.Retries.Load() != 0 || s.Pages.Load() != 2 {
		t.Errorf("stats: %d retries, %d pages", s.Retries.Load(), s.Pages.Load())
	}
}

func TestCredentialSecond401IsFinalAndSaysRefreshed(t *testing.T) {
	t.Parallel()
	log, u, n, h := accepting(t, "Bearer never")
	ctx := context.Background()
	tk := &tokens{}
	st, _, body, refreshed, err := oauthCred(t, tk, "Zoho-oauthtoken").Do(ctx, h, getter(ctx, u))
	var f *Failure
	if st != 401 || string(body) != `{"error":"expired"}` || !refreshed || !errors.As(err, &f) || f.Reason != ReasonAuth {
		t.Fatalf("%d %q %v %#v", st, body, refreshed, err)
	}
	if n.Load() != 2 || tk.forced != 1 || log.headers() != "Zoho-oauthtoken at-1 | Zoho-oauthtoken at-2" {
		t.Errorf("%d requests, %d refreshes, headers %s", n.Load(), tk.forced, log.headers())
	}
}

func TestCredentialRefreshesOnlyOn401(t *testing.T) {
	t.Parallel()
	srv, n := serve(t, status(http.StatusForbidden))
	h := NewHTTP(srv.Client(), (&sleeps{}).sleep, nil, nil)
	ctx := context.Background()
	tk := &tokens{}
	st, _, _, refreshed, err := oauthCred(t, tk, "Bearer").Do(ctx, h, getter(ctx, srv.URL))
	if st != 403 || refreshed || err == nil || n.Load() != 1 || tk.forced != 0 {
		t.Errorf("%d %v %v after %d requests, %d refreshes", st, refreshed, err, n.Load(), tk.forced)
	}
}

func TestCredentialResendsTheBodyFromAFreshRequest(t *testing.T) {
	t.Parallel()
	log, u, _, h := accepting(t, "Bearer at-2")
	ctx := context.Background()
	c := oauthCred(t, &tokens{}, "Bearer")
	builds := 0
	build := func() (*http.Request, error) {
		builds++
		// No GetBody: h.Do alone could send this body only once.
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, io.MultiReader(strings.NewReader(`{"q":1}`)))
		if err == nil {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, err
	}
	st, _, _, refreshed, err := c.Do(ctx, h, build)
	if st != 200 || !refreshed || err != nil || builds != 2 {
		t.Fatalf("%d %v %v after %d builds", st, refreshed, err, builds)
	}
	if len(log.bodies) != 2 || log.bodies[0] != `{"q":1}` || log.bodies[1] != `{"q":1}` {
		t.Errorf("bodies %q", log.bodies)
	}
}

func TestCredentialReturnsTokenAndBuildErrorsAsTheyAre(t *testing.T) {
	t.Parallel()
	_, u, n, h := accepting(t, "Bearer never")
	ctx := context.Background()

	// A refresh the run cannot make: AccessToken's own Failure, status 0.
	c, err := OAuthCredential(ctx, Request{Secrets: map[string]string{SecretAccessToken: "stale"}}, "Bearer")
	if err != nil {
		t.Fatal(err)
	}
	st, hd, body, refreshed, err := c.Do(ctx, h, getter(ctx, u))
	var f *Failure
	if st != 0 || hd != nil || body != nil || refreshed || !errors.As(err, &f) || f.Message != "the access token was rejected and this run cannot refresh it" {
		t.Errorf("no Token func: %d %v %q %v %#v", st, hd, body, refreshed, err)
	}

	// A failing token function is returned as is.
	boom := &Failure{Reason: ReasonNetwork, Message: "POST login.example/token: connection refused"}
	tk := &tokens{err: boom}
	c = TokenCredential("Bearer", tk.token)
	if st, _, _, _, err := c.Do(ctx, h, getter(ctx, u)); st != 0 || err != boom {
		t.Errorf("failing refresh: %d %#v", st, err)
	}

	// The first token of a TokenCredential is asked for at the first Do.
	first := TokenCredential("Bearer", func(context.Context, bool) (string, error) { return "", boom })
	if st, _, _, _, err := first.Do(ctx, h, getter(ctx, u)); st != 0 || err != boom {
		t.Errorf("failing first token: %d %#v", st, err)
	}

	// build's error, too, before anything is sent.
	bad := &Failure{Reason: ReasonConfig, Message: "vendor: bad URL"}
	before := n.Load()
	if st, _, _, _, err := StaticCredential("Basic x").Do(ctx, h, func() (*http.Request, error) { return nil, bad }); st != 0 || err != bad || n.Load() != before {
		t.Errorf("build error: %d %#v, %d requests", st, err, n.Load()-before)
	}
}

func TestCredentialStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	_, u, n, h := accepting(t, "Bearer never")

	// Cancelled during the refresh: the context's error, no second request.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := Request{Token: func(ctx context.Context, force bool) (string, error) {
		if force {
			cancel()
			return "", ctx.Err()
		}
		return "at-1", nil
	}}
	c, err := OAuthCredential(ctx, req, "Bearer")
	if err != nil {
		t.Fatal(err)
	}
	st, _, _, refreshed, err := c.Do(ctx, h, getter(ctx, u))
	if st != 0 || refreshed || !errors.Is(err, context.Canceled) || n.Load() != 1 {
		t.Errorf("cancelled in refresh: %d %v %v after %d requests", st, refreshed, err, n.Load())
	}

	// Cancelled before: h.Do's cancellation, no refresh asked for.
	tk := &tokens{}
	st, _, _, _, err = oauthCred(t, tk, "Bearer").Do(ctx, h, getter(ctx, u))
	if st != 0 || !errors.Is(err, context.Canceled) || tk.forced != 0 {
		t.Errorf("cancelled before: %d %v, %d refreshes", st, err, tk.forced)
	}
}
