package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/textsafe"
)

// hostileName is what a hostile provider says the account is called: a
// window title change (OSC 0 ended by BEL), a screen clear (CSI 2J), a
// carriage return that would overwrite the line, a right-to-left override
// that reorders what follows, and an 8-bit CSI (U+009B).
const hostileName = "mallory\x1b]0;pwned\x07\x1b[2J\r\u202egro.elpmaxe\u009b31m@example.org"

// hostileError is an OAuth error redirect's text: a terminal reset (RIS),
// a hyperlink (OSC 8), a clipboard write (OSC 52), a backspace run and a
// bell.
const (
	hostileCode        = "access_denied\x1bc"
	hostileDescription = "denied \x1b]8;;https://evil.example\x1b\\click here\x1b]8;;\x1b\\ \x1b]52;c;cm0gLXJmIH4=\x07\b\b\b\bok\a"
)

// hostileServer answers like a provider whose every string is an attack on
// the terminal: an OAuth server (authorize, token, userinfo) and
// Freshdesk's who-am-I (GET /api/v2/agents/me).
func hostileServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back := url.Values{"state": {q.Get("state")}}
		if q.Get("client_id") == "deny" {
			back.Set("error", hostileCode)
			back.Set("error_description", hostileDescription)
		} else {
			back.Set("code", "hostile-code")
		}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-CANARY-hostile", "token_type": "Bearer", "expires_in": 3600})
	})
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"sub": "u-1\x1b[H", "email": hostileName})
	})
	mux.HandleFunc("GET /api/v2/agents/me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 7, "contact": map[string]any{"email": hostileName, "name": "Mallory"}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// noRawControls fails when s holds a terminal control: anything but
// printable text, tabs and newlines.
func noRawControls(t *testing.T, what, s string) {
	t.Helper()
	if clean := textsafe.SanitizeLayout(s); clean != s {
		t.Errorf("%s holds raw terminal controls:\n%q\nwant it shown as:\n%q", what, s, clean)
	}
}

// TestAttackEscapes: text from a hostile provider never reaches the
// terminal, the config or any output format as terminal control (#10
// item 4). The account name is stored escaped and every view of it shows
// the escapes; JSON carries the same escaped text.
func TestAttackEscapes(t *testing.T) {
	t.Parallel()
	srv := hostileServer(t)
	c := newCLI(t)
	shown := textsafe.Sanitize(hostileName)

	// A key-based connection whose who-am-I names the hostile account.
	c.ok("fd-CANARY-key", "create", "--connector", "freshdesk", "--name", "fd", "--set", "domain=acme", "--set", "base_url="+srv.URL, "--secret-stdin")
	// An OAuth connection whose userinfo does.
	oauth := []string{"--connector", "oauth2", "--set", "auth_url=" + srv.URL + "/authorize", "--set", "token_url=" + srv.URL + "/token",
		"--set", "userinfo_url=" + srv.URL + "/userinfo", "--set", "redirect_uri=http://127.0.0.1:0/callback"}
	out := c.ok("", append([]string{"create", "--name", "oa", "--set", "client_id=good"}, oauth...)...)
	noRawControls(t, "create (OAuth) output", out)

	for _, name := range []string{"fd", "oa"} {
		code, stdout, stderr := c.run("", "test", name)
		if code != 0 {
			t.Fatalf("test %s: exit %d: %s", name, code, stderr)
		}
		noRawControls(t, "test "+name, stdout+stderr)
		if !strings.Contains(stdout, shown) {
			t.Errorf("test %s says %q, want the account shown as %q", name, stdout, shown)
		}
		_, stdout, _ = c.run("", "test", name, "-o", "json")
		noRawControls(t, "test -o json", stdout)
		if !strings.Contains(stdout, jsonString(shown)) {
			t.Errorf("test %s -o json says %q, want the account as %s", name, stdout, jsonString(shown))
		}
	}

	// What is stored is already escaped.
	cfg, err := os.ReadFile(filepath.Join(c.dir, "home", ".config", "connctl", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	noRawControls(t, "the config file", string(cfg))
	if strings.Contains(string(cfg), "pwned\a") || !strings.Contains(string(cfg), "pwned") {
		t.Errorf("the config file does not hold the account escaped:\n%s", cfg)
	}

	tty := append(append([]string(nil), c.env...), "CONNCTL_FORCE_TTY=200")
	views := [][]string{
		{"list"}, {"list", "-o", "json"}, {"list", "-o", "yaml"}, {"list", "-o", "csv"}, {"list", "-o", "tsv"},
		{"list", "--jq", ".[].account"}, {"show", "fd"}, {"show", "oa"}, {"show", "oa", "-o", "json"}, {"show", "fd", "-o", "yaml"},
		{"activities"}, {"activities", "-o", "json"},
	}
	for _, piped := range []bool{true, false} {
		env := c.env
		if !piped {
			c.env = tty
		}
		for _, v := range views {
			code, stdout, stderr := c.run("", v...)
			if code != 0 {
				t.Errorf("connctl %s: exit %d: %s", strings.Join(v, " "), code, stderr)
			}
			noRawControls(t, "connctl "+strings.Join(v, " ")+map[bool]string{true: " (piped)", false: " (terminal)"}[piped], stdout+stderr)
			if strings.HasPrefix(v[0], "list") || v[0] == "show" {
				if !strings.Contains(stdout, "pwned") {
					t.Errorf("connctl %s does not show the account: %q", strings.Join(v, " "), stdout)
				}
			}
		}
		c.env = env
	}

	// An OAuth error redirect's error and error_description are shown
	// escaped on stderr.
	code, stdout, stderr := c.run("", append([]string{"create", "--name", "denied", "--set", "client_id=deny"}, oauth...)...)
	if code == 0 {
		t.Fatalf("create with a refused authorization: exit 0")
	}
	noRawControls(t, "create (refused authorization)", stdout+stderr)
	if !strings.Contains(stderr, `\x1b]52;c;`) {
		t.Errorf("the refusal is not shown escaped: %q", stderr)
	}
	code, stdout, stderr = c.run("", append([]string{"create", "--name", "denied2", "--set", "client_id=deny", "-o", "json"}, oauth...)...)
	if code == 0 {
		t.Fatalf("create -o json with a refused authorization: exit 0")
	}
	noRawControls(t, "create -o json (refused authorization)", stdout+stderr)
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

// TestAttackEscapesFromFile: a config file written by someone else (a
// shared dotfiles repository, a hostile tool) holds terminal controls in a
// connection's account; connctl shows them escaped in every view and in
// its error lines. A name with a control in it is refused with a clear
// error that shows it escaped, and so is a field value
// (field_controls.txtar): connctl would send it or open it.
func TestAttackEscapesFromFile(t *testing.T) {
	t.Parallel()
	// YAML double-quoted escapes: \e is ESC, \a BEL, \r CR, \x9b an 8-bit
	// CSI, \u202e a right-to-left override.
	const conf = `schema_version: 1
connections:
  - id: conn_00000000000000a1
    name: %s
    connector: freshdesk
    auth: api_key
    account: "root\rmallory\u202e\x9b31m\e]0;pwned\a"
    fields: {domain: "acme", base_url: "http://127.0.0.1:1/"}
    status: authorized
    created_at: 2026-01-02T03:04:05Z
    updated_at: 2026-01-02T03:04:05Z
`
	views := [][]string{
		{"list"}, {"list", "-o", "json"}, {"list", "-o", "yaml"}, {"list", "-o", "csv"}, {"list", "-o", "tsv"},
		{"list", "--jq", `.[] | .name + "\t" + .account`}, {"show", "evil"}, {"show", "evil", "-o", "json"},
		{"test", "evil"}, {"test", "evil", "-o", "json"}, {"show", "nope\x1b[2J"},
	}
	for _, name := range []string{"evil", `"evil\e]0;pwned\a\e[2J"`} {
		c := newCLI(t)
		cfgDir := filepath.Join(c.dir, "home", ".config", "connctl")
		if err := os.MkdirAll(cfgDir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, "config.yaml"), []byte(fmt.Sprintf(conf, name)), 0o600); err != nil {
			t.Fatal(err)
		}
		tty := append(append([]string(nil), c.env...), "CONNCTL_FORCE_TTY=200")
		for _, piped := range []bool{true, false} {
			env := c.env
			if !piped {
				c.env = tty
			}
			for _, v := range views {
				code, stdout, stderr := c.run("", v...)
				noRawControls(t, "connctl "+strings.Join(v, " ")+map[bool]string{true: " (piped)", false: " (terminal)"}[piped], stdout+stderr)
				if name != "evil" {
					if code == 0 || !strings.Contains(stderr, `\x1b`) {
						t.Errorf("connctl %s with a control in a name: exit %d, %q; want a clear error", strings.Join(v, " "), code, stderr)
					}
				} else if v[0] == "list" && !strings.Contains(stdout, "mallory") {
					t.Errorf("connctl %s does not show the account: %q (%s)", strings.Join(v, " "), stdout, stderr)
				}
			}
			c.env = env
		}
	}
}
