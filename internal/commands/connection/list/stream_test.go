package list

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/jsonexport"
)

// variedConfig writes, after pad connections of the benchmarks' shape
// (pad 1,000 takes the file over the parse cache's threshold, so that a
// second Open reads connections lazily), connections of every kind list
// treats apart: names that sort differently by case and accents, several
// connectors (one unknown), every status, unverified keys, secrets kept in
// another backend (stranded), OAuth grants and saved key dates (forecasts,
// some near), hostile strings (controls, bidi, HTML, quotes) and the
// key-age setting.
func variedConfig(t *testing.T, pad int) string {
	t.Helper()
	path := writeConfig(t, pad)
	s, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"b", "A", "a-2", "Émile", "zed", "ZZ", "conn-00003x", "Ünïcode", "mid", "x1", "X2", "y"}
	connectors := []string{"s3", "salesforce", "jira", "legacy-thing", "zendesk", "s3"}
	statuses := []configstore.Status{configstore.StatusAuthorized, configstore.StatusAuthorized, configstore.StatusRevoked,
		configstore.StatusNeedsReauthorization, configstore.StatusNotAuthorized}
	err = s.Update(context.Background(), func(d *configstore.Document) error {
		d.Settings = map[string]any{"status": map[string]any{"key_max_age": "2160h"}}
		for i, name := range names {
			at := now.Add(-time.Duration(i*200) * time.Hour)
			c := configstore.Connection{
				ID: fmt.Sprintf("conn_v%02d", i), Name: name, Connector: connectors[i%len(connectors)],
				Status: statuses[i%len(statuses)], Account: fmt.Sprintf("acct-%d", i%3),
				CreatedAt: now.Add(-time.Duration(i%4) * time.Hour), UpdatedAt: now, Unverified: i%4 == 1,
				Secrets: []string{"secret"}, SecretBackend: []string{"keyring", "file"}[i%2],
			}
			if i%3 != 2 {
				c.AuthorizedAt = &at
			}
			if i%5 == 3 { // hostile strings: -o json escapes them as Write did
				c.Account = "\"q\" \\ <b>&amp;</b> \x1b[31m\u009b\u202e\u2028\x7f 🙂"
				c.Fields = map[string]string{"bucket": "<x>&\"q\"\\"}
			}
			if c.Connector == "salesforce" || c.Connector == "jira" {
				c.Auth = "oauth2"
				exp := now.Add(time.Duration(i) * time.Hour)
				c.OAuth = &configstore.OAuthState{Scopes: []string{"api"}, IssuedAt: &at, ExpiresAt: &exp, APIBase: "https://x.example"}
			}
			d.Connections = append(d.Connections, c)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestListMatchesEager: list reads connections one at a time and streams
// piped rows; for every flag, sort key, layout and format it prints exactly
// what the list that materialized every connection printed (eagerRun,
// oracle_test.go), on a config read whole (small) and one read lazily from
// its parse cache (large).
func TestListMatchesEager(t *testing.T) {
	t.Parallel()
	failed := map[string]int{"conn_v01": 2, "conn_v04": 7, "conn_0000000000000003": 1}
	var opts []Options
	for _, key := range append([]string{""}, SortKeys...) {
		opts = append(opts, Options{Sort: key}, Options{Sort: key, Limit: 3})
	}
	opts = append(opts,
		Options{Search: "a"}, Options{Search: "É"}, Options{Search: "nothing-matches"},
		Options{Connector: "s3"}, Options{Connector: "salesforce", Sort: "created"},
		Options{Status: "authorized"}, Options{Status: "unverified"}, Options{Status: "needs_reauthorization", Sort: "failed"},
		Options{Expiring: "14d"}, Options{Expiring: "400d", Sort: "status", Limit: 4}, Options{Expiring: "0d"},
	)
	for _, pad := range []int{3, 1000} {
		path := variedConfig(t, pad)
		for _, o := range opts {
			for _, format := range []string{"pipe", "tty", "json", "jq"} {
				o := o
				switch format {
				case "json":
					o.Export, _ = jsonexport.New(jsonexport.JSON, "", nil)
				case "jq":
					o.Export, _ = jsonexport.New(jsonexport.JSON, `.[] | [.name, .status, .status_reason, .expiry_at, .failed_24h] | @tsv`, nil)
				}
				got, gotErr := listWith(t, path, format == "tty", o, failed, run)
				want, wantErr := listWith(t, path, format == "tty", o, failed, eagerRun)
				if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
					t.Errorf("%d connections, %s, %+v:\ngot  %q (%v)\nwant %q (%v)", pad+12, format, o, got, gotErr, want, wantErr)
				}
			}
		}
	}
}

// listWith runs fn (run or eagerRun) with o over the config at path,
// returning stdout and stderr together.
func listWith(t *testing.T, path string, tty bool, o Options, failed map[string]int,
	fn func(context.Context, *Options) error) (string, error) {
	t.Helper()
	d, out := testDeps(path, tty)
	opts := withDeps(d, o)
	opts.FailedLastDay = func(context.Context) map[string]int { return failed }
	err := fn(context.Background(), opts)
	var errOut bytes.Buffer
	if b, ok := d.IO.ErrOut.(*bytes.Buffer); ok {
		errOut.Write(b.Bytes())
	}
	return out.String() + errOut.String(), err
}

// wholeReads is a config file that counts the calls that decode every
// connection at once.
type wholeReads struct {
	*configstore.Store
	calls *int
}

func (w wholeReads) Document() *configstore.Document { *w.calls++; return w.Store.Document() }

func (w wholeReads) Connections() []configstore.Connection { *w.calls++; return w.Store.Connections() }

func (w wholeReads) Find(name string) (*configstore.Connection, bool) {
	*w.calls++
	return w.Store.Find(name)
}

// TestListReadsOneAtATime: list (piped, on a terminal, as JSON) reads the
// connections through configstore.EachConnection only, never whole.
func TestListReadsOneAtATime(t *testing.T) {
	t.Parallel()
	path := variedConfig(t, 1000)
	for _, o := range []struct {
		tty  bool
		json bool
	}{{false, false}, {true, false}, {false, true}} {
		d, out := testDeps(path, o.tty)
		calls := 0
		d.Config = func() (configstore.Config, error) {
			s, err := configstore.Open(path, d.Getenv)
			return wholeReads{s, &calls}, err
		}
		opts := newOptions(d)
		if o.json {
			opts.Export, _ = jsonexport.New(jsonexport.JSON, "", nil)
		}
		if err := run(context.Background(), opts); err != nil {
			t.Fatal(err)
		}
		if out.Len() == 0 {
			t.Fatal("nothing listed")
		}
		if calls != 0 {
			t.Errorf("tty=%v json=%v: list read the whole config %d times", o.tty, o.json, calls)
		}
	}
}
