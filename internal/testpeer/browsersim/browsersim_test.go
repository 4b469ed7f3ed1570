package browsersim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeAuthServer is a tiny authorization server with the same shape of pages
// as Hydra's login app: /authorize sets a cookie and redirects to /login; the
// login form posts back; without the cookie it refuses; then it redirects to
// the client's redirect_uri with code or error.
func fakeAuthServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c1", Path: "/"})
		q := url.Values{"redirect_uri": {r.URL.Query().Get("redirect_uri")}, "state": {r.URL.Query().Get("state")}}
		http.Redirect(w, r, "/login?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><body class="login">
<form method="post" action="/login">
<input type="hidden" name="redirect_uri" value="%s">
<input type="hidden" name="state" value="%s">
<input type="checkbox" name="remember" value="yes">
<input type="text" name="user" value="alice">
<button type="submit" id="allow" name="action" value="allow">Sign in</button>
<button type="submit" id="deny" name="action" value="deny">Deny</button>
</form></body></html>`, r.URL.Query().Get("redirect_uri"), r.URL.Query().Get("state"))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("csrf"); err != nil || c.Value != "c1" {
			http.Error(w, "no csrf cookie", http.StatusForbidden)
			return
		}
		if r.PostFormValue("remember") != "" || r.PostFormValue("user") != "alice" {
			http.Error(w, "bad form: "+r.PostForm.Encode(), http.StatusBadRequest)
			return
		}
		q := url.Values{"state": {r.PostFormValue("state")}}
		if r.PostFormValue("action") == "allow" {
			q.Set("code", "the-code")
		} else {
			q.Set("error", "access_denied")
		}
		http.Redirect(w, r, r.PostFormValue("redirect_uri")+"?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid_request: the redirect_uri is not registered", http.StatusBadRequest)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// callback is the client's loopback server; it records the queries it gets.
func callback(t *testing.T) (*httptest.Server, chan url.Values) {
	t.Helper()
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		got <- r.URL.Query()
		if r.URL.Query().Has("error") {
			http.Error(w, "authorization failed: "+r.URL.Query().Get("error"), http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, "authorized - you can close this tab")
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func authURL(auth, cb *httptest.Server) string {
	return auth.URL + "/authorize?" + url.Values{
		"redirect_uri": {cb.URL + "/callback"}, "state": {"s1"}, "code_challenge_method": {"S256"},
	}.Encode()
}

func TestFollowAllow(t *testing.T) {
	auth := fakeAuthServer(t)
	cb, got := callback(t)
	res, err := Follow(t.Context(), authURL(auth, cb))
	if err != nil {
		t.Fatal(err)
	}
	q := <-got
	if q.Get("code") != "the-code" || q.Get("state") != "s1" {
		t.Errorf("callback got %v", q)
	}
	if res.StatusCode != 200 || !strings.Contains(res.Body, "authorized") {
		t.Errorf("result %d %q", res.StatusCode, res.Body)
	}
	if res.Query().Get("code") != "the-code" {
		t.Errorf("CallbackURL %q", res.CallbackURL)
	}
	if len(res.Pages) != 1 || res.Pages[0] != auth.URL+"/login" {
		t.Errorf("Pages %q", res.Pages)
	}
	select {
	case q := <-got:
		t.Errorf("callback loaded twice: %v", q)
	default:
	}
}

func TestFollowDeny(t *testing.T) {
	auth := fakeAuthServer(t)
	cb, got := callback(t)
	res, err := Follow(t.Context(), authURL(auth, cb), Deny())
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; q.Get("error") != "access_denied" {
		t.Errorf("callback got %v", q)
	}
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "access_denied") {
		t.Errorf("result %d %q", res.StatusCode, res.Body)
	}
}

func TestFollowStuckPageSaysWhereWithoutQuery(t *testing.T) {
	auth := fakeAuthServer(t)
	_, err := Follow(t.Context(), auth.URL+"/broken?state=secret-state&redirect_uri=http://127.0.0.1:1/callback")
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"/broken", "400", "not registered", `id="allow"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret-state") {
		t.Errorf("error quotes the query: %q", msg)
	}
}

func TestFollowCallbackDown(t *testing.T) {
	auth := fakeAuthServer(t)
	cb, _ := callback(t)
	u := authURL(auth, cb)
	cb.Close()
	_, err := Follow(t.Context(), u)
	if err == nil || !strings.Contains(err.Error(), "loading the callback") || strings.Contains(err.Error(), "the-code") {
		t.Fatalf("error %v", err)
	}
}

func TestCallbackMatcher(t *testing.T) {
	mustParse := func(s string) *url.URL {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	withRedirect := callbackMatcher(mustParse("http://127.0.0.1:4444/oauth2/auth?redirect_uri=" +
		url.QueryEscape("http://127.0.0.1:5555/callback")))
	noRedirect := callbackMatcher(mustParse("http://127.0.0.1:4444/oauth2/auth"))
	for _, c := range []struct {
		m    func(*url.URL) bool
		u    string
		want bool
	}{
		{withRedirect, "http://127.0.0.1:5555/callback?code=x", true},
		{withRedirect, "http://127.0.0.1:5556/callback?code=x", false},
		{withRedirect, "http://127.0.0.1:5555/other?code=x", false},
		{withRedirect, "http://127.0.0.1:3000/login?login_challenge=x", false},
		{noRedirect, "http://127.0.0.1:5555/cb?code=x", true},
		{noRedirect, "http://localhost:5555/cb?error=access_denied", true},
		{noRedirect, "http://[::1]:5555/cb?code=x", true},
		{noRedirect, "http://127.0.0.1:4444/cb?code=x", false}, // the server's own port
		{noRedirect, "http://127.0.0.1:3000/login?login_challenge=x", false},
		{noRedirect, "http://example.com:5555/cb?code=x", false},
	} {
		if got := c.m(mustParse(c.u)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.u, got, c.want)
		}
	}
}

func TestRun(t *testing.T) {
	auth := fakeAuthServer(t)
	cb, got := callback(t)
	u := authURL(auth, cb)
	log := filepath.Join(t.TempDir(), "browser.log")
	t.Setenv(LogEnv, log)

	var stderr bytes.Buffer
	if code := Run([]string{u}, &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	if q := <-got; q.Get("code") == "" {
		t.Errorf("allow: callback got %v", q)
	}

	// A failure page at the callback is still exit 0: the browser did its job.
	t.Setenv(DenyEnv, "1")
	if code := Run([]string{u}, &stderr); code != 0 || stderr.Len() != 0 {
		t.Fatalf("deny: exit %d, stderr %q", code, stderr.String())
	}
	if q := <-got; q.Get("error") != "access_denied" {
		t.Errorf("deny: callback got %v", q)
	}

	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if want := u + "\n" + u + "\n"; string(b) != want {
		t.Errorf("log %q, want %q", b, want)
	}

	if code := Run(nil, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage") {
		t.Errorf("no args: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := Run([]string{auth.URL + "/broken"}, &stderr); code != 1 || !strings.HasPrefix(stderr.String(), "browser-standin: ") {
		t.Errorf("broken: exit %d, stderr %q", code, stderr.String())
	}
}

func TestChromiumFakeServer(t *testing.T) {
	RequireChromium(t)
	t.Parallel() // each starts its own browser
	auth := fakeAuthServer(t)
	cb, got := callback(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := Chromium(ctx, authURL(auth, cb))
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; q.Get("code") != "the-code" {
		t.Errorf("callback got %v", q)
	}
	if res.StatusCode != 200 || !strings.Contains(res.Body, "authorized") || res.Query().Get("state") != "s1" {
		t.Errorf("result %+v", res)
	}
}

func TestChromiumDenyFakeServer(t *testing.T) {
	RequireChromium(t)
	t.Parallel() // each starts its own browser
	auth := fakeAuthServer(t)
	cb, got := callback(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := Chromium(ctx, authURL(auth, cb), Deny())
	if err != nil {
		t.Fatal(err)
	}
	if q := <-got; q.Get("error") != "access_denied" {
		t.Errorf("callback got %v", q)
	}
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "access_denied") {
		t.Errorf("result %+v", res)
	}
}

func TestChromiumStuckPage(t *testing.T) {
	RequireChromium(t)
	t.Parallel() // each starts its own browser
	auth := fakeAuthServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := Chromium(ctx, auth.URL+"/broken?state=secret-state&redirect_uri=http://127.0.0.1:1/callback")
	if err == nil || !strings.Contains(err.Error(), "not registered") || strings.Contains(err.Error(), "secret-state") {
		t.Fatalf("error %v", err)
	}
}
