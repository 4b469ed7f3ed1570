package status

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// saved is when the test's keys were saved (the injected clock's start).
var saved = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeFreshdesk answers /api/v2/agents/me by key: good is an agent, bad
// 401, slow 429, gone 404. It counts the calls in flight at once.
type fakeFreshdesk struct {
	mu             sync.Mutex
	inFlight, most int
	calls          int
}

func (f *fakeFreshdesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inFlight++
	f.calls++
	f.most = max(f.most, f.inFlight)
	f.mu.Unlock()
	defer func() { f.mu.Lock(); f.inFlight--; f.mu.Unlock() }()
	key, _, _ := r.BasicAuth()
	switch key {
	case "good":
		fmt.Fprint(w, `{"id": 1, "contact": {"email": "agent@acme.test"}}`)
	case "slow":
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	case "gone":
		http.NotFound(w, r)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// setup returns options on a config with one Freshdesk connection per key
// (named after it, then a number), saved at saved, and a clock set to now.
func setup(t *testing.T, srv string, now *time.Time, keys ...string) (*Options, *bytes.Buffer) {
	t.Helper()
	ios, _, out, _ := iostreams.Test()
	dir := t.TempDir()
	mem := secretstoretest.NewMemory()
	env := map[string]string{"XDG_STATE_HOME": filepath.Join(dir, "state")}
	clock := saved
	d := &deps.Deps{IO: ios, Getenv: func(k string) string { return env[k] }, Now: func() time.Time { return clock },
		HTTP: func() *http.Client { return http.DefaultClient }}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = sync.OnceValues(func() (configstore.Config, error) {
		return configstore.Open(filepath.Join(dir, "config.yaml"), d.Getenv)
	})
	d.Secrets = func() (secretstore.Store, error) { return mem, nil }
	mgr, err := d.Connections()
	if err != nil {
		t.Fatal(err)
	}
	ctr, _ := d.Catalog().Lookup("freshdesk")
	for i, k := range keys {
		if _, err := mgr.Create(context.Background(), connection.CreateRequest{Connector: ctr, Auth: ctr.DefaultAuth(),
			Name: fmt.Sprintf("%s%d", k, i), Fields: map[string]string{"domain": "acme", "base_url": srv},
			Secrets: map[string]string{"api_key": k}}); err != nil {
			t.Fatal(err)
		}
	}
	clock = *now
	exp, err := jsonexport.New(jsonexport.JSON, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Options{IO: ios, Now: d.Now, Authz: d.Authz, HTTP: d.HTTP, Failed: d.FailedLastDay,
		Concurrency: 4, Export: exp}, out
}

func results(t *testing.T, out *bytes.Buffer) map[string]Result {
	t.Helper()
	var rs []Result
	if err := json.Unmarshal(out.Bytes(), &rs); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	m := map[string]Result{}
	for _, r := range rs {
		m[r.Name] = r
	}
	return m
}

// Every state a check can end in, its fix, the worst exit code, and the
// bound on checks at once.
func TestRunStates(t *testing.T) {
	t.Parallel()
	fake := &fakeFreshdesk{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	now := saved.Add(24 * time.Hour)
	keys := []string{"good", "good", "good", "good", "good", "good", "bad", "slow", "gone"}
	opts, out := setup(t, srv.URL, &now, keys...)
	opts.Concurrency = 2
	err := run(context.Background(), opts)
	if exitcode.FromError(err) != exitcode.AuthNeeded {
		t.Fatalf("exit %d (%v), want 4", exitcode.FromError(err), err)
	}
	got := results(t, out)
	want := map[string][2]string{
		"good0": {StateOK, ""},
		"bad6":  {StateNeedsReauthorization, "connctl reauthorize bad6"},
		"slow7": {StateRateLimited, "connctl test slow7 (later: the provider is rate limiting)"},
		"gone8": {StateMisconfigured, "connctl edit gone8"},
	}
	for name, w := range want {
		if r := got[name]; r.State != w[0] || r.Fix != w[1] || !r.Checked {
			t.Errorf("%s: %+v, want state %s fix %q", name, r, w[0], w[1])
		}
	}
	if a := got["good0"].Account; a != "agent@acme.test" {
		t.Errorf("account %q", a)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.calls != len(keys) || fake.most > 2 {
		t.Errorf("%d calls, at most %d at once; want %d, at most 2", fake.calls, fake.most, len(keys))
	}
}

// The key-age rule on an injected clock: ok until 14 days before
// status.key_max_age (a year), expiring after, and never a failure.
func TestKeyAgeForecast(t *testing.T) {
	t.Parallel()
	fake := &fakeFreshdesk{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	end := saved.Add(8760 * time.Hour)
	for _, tt := range []struct {
		now   time.Time
		state string
	}{
		{saved.Add(24 * time.Hour), StateOK},
		{end.Add(-15 * 24 * time.Hour), StateOK},
		{end.Add(-13 * 24 * time.Hour), StateExpiring},
		{end.Add(24 * time.Hour), StateExpiring},
	} {
		for _, offline := range []bool{true, false} {
			now := tt.now
			opts, out := setup(t, srv.URL, &now, "good")
			opts.Offline = offline
			if err := run(context.Background(), opts); err != nil {
				t.Fatalf("%v offline=%v: %v", now, offline, err)
			}
			r := results(t, out)["good0"]
			if r.State != tt.state || r.ExpiresAt == nil || !r.ExpiresAt.Equal(end) {
				t.Errorf("%v offline=%v: %+v, want %s ending %v", now, offline, r, tt.state, end)
			}
			if r.Checked == offline {
				t.Errorf("checked %v with offline %v", r.Checked, offline)
			}
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.calls != 4 {
		t.Errorf("%d calls, want 4 (none offline)", fake.calls)
	}
}
