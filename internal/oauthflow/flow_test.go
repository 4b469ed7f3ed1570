package oauthflow

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeAS is a minimal authorization server that records what it was sent.
type fakeAS struct {
	srv        *httptest.Server
	tokenCalls atomic.Int32
	mu         sync.Mutex
	challenge  string
	form       url.Values
	tokenReply func(w http.ResponseWriter, r *http.Request)
}

func newFakeAS(t *testing.T) *fakeAS {
	t.Helper()
	f := &fakeAS{}
	mux := http.NewServeMux()
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		f.tokenCalls.Add(1)
		_ = r.ParseForm()
		f.mu.Lock()
		f.form = r.PostForm
		f.mu.Unlock()
		if f.tokenReply != nil {
			f.tokenReply(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "AT-CANARY", "refresh_token": "RT-CANARY", "token_type": "Bearer", "expires_in": 3600, "instance_url": "https://acme.example"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// opener plays the browser: it reads the authorize URL and calls the
// callback with what the test wants.
type opener func(ctx context.Context, authURL string) error

func (o opener) Open(ctx context.Context, u string) error { return o(ctx, u) }

func callback(authURL string, edit func(q url.Values)) (*http.Response, error) {
	u, _ := url.Parse(authURL)
	q := u.Query()
	cb := url.Values{"code": {"the-code"}, "state": {q.Get("state")}}
	if edit != nil {
		edit(cb)
	}
	return http.Get(q.Get("redirect_uri") + "?" + cb.Encode())
}

// approve is a browser that follows the authorization URL straight to the
// callback, as a user who signs in at once.
func approve(_ context.Context, u string) error {
	go func() {
		if resp, err := callback(u, nil); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}

func baseConfig(f *fakeAS, o opener) Config {
	return Config{Name: "test", ClientID: "cid", AuthURL: f.srv.URL + "/authorize", TokenURL: f.srv.URL + "/token",
		Scopes: []string{"openid"}, AuthStyle: AuthInParams, Opener: o, Stderr: io.Discard}
}

func TestFlowSuccessUsesPKCEAndSameRedirect(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	var authURL string
	pages := make(chan string, 1)
	res, err := Run(context.Background(), baseConfig(f, func(ctx context.Context, u string) error {
		authURL = u
		go func() {
			resp, err := callback(u, nil)
			if err != nil {
				pages <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			pages <- string(b)
		}()
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Token.AccessToken != "AT-CANARY" || res.Token.RefreshToken != "RT-CANARY" {
		t.Fatalf("token %+v", res.Token)
	}
	q := mustQuery(t, authURL)
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("code_verifier") != "" {
		t.Fatalf("PKCE params: %v", q)
	}
	if !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") || !strings.HasSuffix(q.Get("redirect_uri"), "/callback") {
		t.Fatalf("redirect %q", q.Get("redirect_uri"))
	}
	f.mu.Lock()
	form := f.form
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(form.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
		t.Fatal("code_challenge is not S256 of the verifier sent at the token endpoint")
	}
	if form.Get("redirect_uri") != q.Get("redirect_uri") || form.Get("client_id") != "cid" {
		t.Fatalf("token form %v", form)
	}
	if len(q.Get("state")) < 43 {
		t.Fatalf("state too short: %q", q.Get("state"))
	}
	if p := <-pages; !strings.Contains(p, "test is authorized — you can close this tab") {
		t.Fatalf("success page: %s", p)
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Query()
}

func TestForgedStateIsIgnoredWithoutTokenCall(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	statuses := make(chan int, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := Run(ctx, baseConfig(f, func(_ context.Context, u string) error {
		go func() {
			resp, err := callback(u, func(q url.Values) { q.Set("state", "forged") })
			if err == nil {
				statuses <- resp.StatusCode
				resp.Body.Close()
			}
			resp, err = callback(u, func(q url.Values) { q.Del("state") })
			if err == nil {
				statuses <- resp.StatusCode
				resp.Body.Close()
			}
			cancel()
		}()
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the flow to keep waiting until cancelled, got %v", err)
	}
	if a, b := <-statuses, <-statuses; a != 400 || b != 400 {
		t.Fatalf("statuses %d %d", a, b)
	}
	if n := f.tokenCalls.Load(); n != 0 {
		t.Fatalf("%d token calls for a forged state", n)
	}
}

func TestAccessDeniedAndHostileDescription(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	bodies := make(chan string, 1)
	_, err := Run(context.Background(), baseConfig(f, func(_ context.Context, u string) error {
		go func() {
			resp, err := callback(u, func(q url.Values) {
				q.Del("code")
				q.Set("error", "access_denied")
				q.Set("error_description", "<script>alert(1)</script>\nsecond line")
			})
			if err != nil {
				bodies <- ""
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bodies <- string(b)
		}()
		return nil
	}))
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "denied" || strings.Contains(err.Error(), "\n") {
		t.Fatalf("got %v", err)
	}
	if body := <-bodies; !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("error description not escaped in the browser page")
	}
	if f.tokenCalls.Load() != 0 {
		t.Fatal("token call after access_denied")
	}
}

func TestTokenEndpoint500IsOneRequestAndNoBody(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = w.Write([]byte("<html>internal SECRET-CANARY dump</html>"))
	}
	_, err := Run(context.Background(), baseConfig(f, approve))
	if err == nil || !strings.Contains(err.Error(), "HTTP 500") || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("got %v", err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("%d token requests, want exactly 1 (no auth-style retry)", n)
	}
}

func TestTokenEndpointHangsUntilTimeout(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	release := make(chan struct{})
	defer close(release)
	f.tokenReply = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Run(ctx, baseConfig(f, approve))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func TestIssuerMismatchRejected(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	cfg := baseConfig(f, func(_ context.Context, u string) error {
		go func() {
			if resp, err := callback(u, func(q url.Values) { q.Set("iss", "https://evil.example") }); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	})
	cfg.Issuer = "https://good.example"
	_, err := Run(context.Background(), cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "issuer" || f.tokenCalls.Load() != 0 {
		t.Fatalf("got %v, %d token calls", err, f.tokenCalls.Load())
	}
	// Required but missing.
	cfg2 := baseConfig(f, approve)
	cfg2.Issuer, cfg2.RequireIss = "https://good.example", true
	if _, err := Run(context.Background(), cfg2); !errors.As(err, &fe) || fe.Kind != "issuer" {
		t.Fatalf("missing iss accepted: %v", err)
	}
}

func TestTimeoutFreesThePortAndNoBrowser(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	var printed strings.Builder
	opened := false
	cfg := baseConfig(f, func(context.Context, string) error { opened = true; return nil })
	cfg.NoBrowser = true
	cfg.Stderr = &printed
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "timeout" {
		t.Fatalf("got %v", err)
	}
	if opened {
		t.Fatal("--no-browser opened a browser")
	}
	out := printed.String()
	if !strings.Contains(out, "ssh -L") || !strings.Contains(out, "code_challenge=") {
		t.Fatalf("stderr: %s", out)
	}
	u := out[strings.Index(out, "  http")+2:]
	u = strings.SplitN(u, "\n", 2)[0]
	port := strings.TrimPrefix(mustQuery(t, u).Get("redirect_uri"), "http://127.0.0.1:")
	port = strings.TrimSuffix(port, "/callback")
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Fatal("listener still open after the flow ended")
	}
}

func TestBusyFixedPortIsAClearError(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := newFakeAS(t)
	cfg := baseConfig(f, nil)
	cfg.RedirectURI = fmt.Sprintf("http://127.0.0.1:%d/cb", l.Addr().(*net.TCPAddr).Port)
	_, err = Run(context.Background(), cfg)
	var fe *Error
	if !errors.As(err, &fe) || fe.Kind != "listen" || !strings.Contains(err.Error(), "redirect_uri") {
		t.Fatalf("got %v", err)
	}
}

func TestRejectsForeignHostHeader(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	got := make(chan int, 1)
	ctx, cancel := context.WithCancel(context.Background())
	_, _ = Run(ctx, baseConfig(f, func(_ context.Context, u string) error {
		go func() {
			q := mustQuery(t, u)
			req, _ := http.NewRequest("GET", q.Get("redirect_uri")+"?code=c&state="+url.QueryEscape(q.Get("state")), nil)
			req.Host = "evil.test"
			if resp, err := http.DefaultClient.Do(req); err == nil {
				got <- resp.StatusCode
				resp.Body.Close()
			}
			cancel()
		}()
		return nil
	}))
	if s := <-got; s != 400 || f.tokenCalls.Load() != 0 {
		t.Fatalf("status %d, %d token calls", s, f.tokenCalls.Load())
	}
}

// Microsoft's registered redirect is http://localhost with any port: the
// callback path is "/" and the port is chosen at run time.
func TestLocalhostRootRedirect(t *testing.T) {
	t.Parallel()
	f := newFakeAS(t)
	cfg := baseConfig(f, approve)
	cfg.RedirectURI = "http://localhost"
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.RedirectURI, "http://localhost:") {
		t.Fatalf("redirect %q", res.RedirectURI)
	}
}
