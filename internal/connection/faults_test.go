package connection

// The attack suite for keeping the config and the secret store in step: every
// change is run once cleanly to count its secret store calls, then again
// with a fault injected at each step (a failing call, a call that fails
// after writing, a store that goes away, a config that can no longer be
// written, a process killed there), and the end state must be the old one or
// the new one, with no secret lost and none orphaned.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/secretstore"
	"github.com/connctl/connctl/internal/secretstore/secretstoretest"
)

// faultRig is one manager over a memory store behind a Flaky wrapper.
type faultRig struct {
	t     *testing.T
	mg    *Manager
	mem   *secretstoretest.Memory
	flaky *secretstoretest.Flaky
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	dir := t.TempDir()
	cfg, err := configstore.Open(filepath.Join(dir, "config.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r := &faultRig{t: t, mem: secretstoretest.NewMemory()}
	r.flaky = &secretstoretest.Flaky{Store: r.mem}
	r.mg = &Manager{Config: cfg, Secrets: func() (secretstore.Store, error) { return r.flaky, nil },
		Catalog: all.Catalogue(), Now: func() time.Time { return fixed }, LockDir: filepath.Join(dir, "locks")}
	return r
}

// breakConfig makes every later config write fail, as a read-only folder
// or a full disk does (the lock file cannot be opened for writing).
func (r *faultRig) breakConfig(t *testing.T) {
	lock := configPath(r.mg) + ".lock"
	if err := os.RemoveAll(lock); err != nil {
		t.Error(err)
	}
	if err := os.Mkdir(lock, 0o700); err != nil {
		t.Error(err)
	}
}

func (r *faultRig) mendConfig(t *testing.T) {
	if err := os.RemoveAll(configPath(r.mg) + ".lock"); err != nil {
		t.Error(err)
	}
}

// state is what a user can observe: the definitions (without ids, which
// differ between runs) and the secrets each one names, plus secrets that
// nothing names (orphans) and names without a secret (lost).
type state struct {
	config, secrets string
	orphans, lost   []string
}

func (s state) String() string { return s.config + s.secrets }

func (r *faultRig) snapshot(t *testing.T) state {
	t.Helper()
	// A fresh Open: the file on disk must parse, whatever happened.
	cfg, err := configstore.Open(configPath(r.mg), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config no longer parses: %v", err)
	}
	items := r.mem.Items()
	var st state
	var cb, sb strings.Builder
	named := map[string]bool{}
	conns := append([]configstore.Connection{}, cfg.Connections()...)
	sort.Slice(conns, func(i, j int) bool { return conns[i].Name < conns[j].Name })
	for _, c := range conns {
		kinds := append([]string{}, c.Secrets...)
		sort.Strings(kinds)
		fmt.Fprintf(&cb, "%s %s/%s %s fields=%v secrets=%v account=%q backend=%q", c.Name, c.Connector, c.Auth, c.Status, c.Fields, kinds, c.Account, c.SecretBackend)
		if c.OAuth != nil {
			fmt.Fprintf(&cb, " expires=%v", c.OAuth.ExpiresAt)
		}
		cb.WriteString("\n")
		for _, k := range kinds {
			key := c.ID + "/" + k
			named[key] = true
			v, ok := items[key]
			if !ok {
				st.lost = append(st.lost, c.Name+"/"+k)
			}
			fmt.Fprintf(&sb, "%s/%s=%s\n", c.Name, k, v)
		}
	}
	for key := range items {
		if !named[key] {
			st.orphans = append(st.orphans, key)
		}
	}
	sort.Strings(st.orphans)
	st.config, st.secrets = cb.String(), sb.String()
	return st
}

type faultScenario struct {
	name  string
	setup func(t *testing.T, r *faultRig)
	op    func(ctx context.Context, r *faultRig) error
	// tokensFirst: the secret store holds the truth and is not rolled back
	// (a token refresh: the provider may have retired the old refresh
	// token), so new secrets with the old config is an accepted end state.
	tokensFirst bool
}

func createFreshdesk(t *testing.T, r *faultRig, name, key string) {
	t.Helper()
	if _, err := r.mg.Create(context.Background(), freshdesk(t, r.mg, name, key)); err != nil {
		t.Fatal(err)
	}
}

func createOAuth(t *testing.T, r *faultRig, name string) {
	t.Helper()
	ctx := context.Background()
	ctr, _ := r.mg.Catalog.Lookup("oauth2")
	as := []Assignment{{"client_id", "cid"}, {"auth_url", "http://127.0.0.1:1/authorize"}, {"token_url", "http://127.0.0.1:1/token"}}
	m, err := ResolveAuth(ctr, "", as)
	if err != nil {
		t.Fatal(err)
	}
	fields, err := ApplyFields(ctr, m, nil, as, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.mg.Create(ctx, CreateRequest{Connector: ctr, Auth: m, Name: name, Fields: fields, Secrets: map[string]string{"client_secret": "cs-0"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.mg.StoreGrant(ctx, name, Grant{AccessToken: "at-0", RefreshToken: "rt-0", Account: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
}

func faultScenarios() []faultScenario {
	expires := fixed.Add(time.Hour)
	return []faultScenario{
		{name: "create", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "other", "k-other") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.Create(ctx, freshdesk(r.t, r.mg, "support", "k1"))
				return err
			}},
		{name: "edit fields", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "support", "k1") },
			op: func(ctx context.Context, r *faultRig) error {
				_, _, err := r.mg.Edit(ctx, "support", EditRequest{Set: []Assignment{{"domain", "acme-eu"}}})
				return err
			}},
		{name: "edit secret", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "support", "k1") },
			op: func(ctx context.Context, r *faultRig) error {
				_, _, err := r.mg.Edit(ctx, "support", EditRequest{Secrets: map[string]string{"api_key": "k2"}, Set: []Assignment{{"domain", "acme-eu"}}})
				return err
			}},
		{name: "edit secret of a revoked connection", setup: func(t *testing.T, r *faultRig) {
			createFreshdesk(t, r, "support", "k1")
			if _, err := r.mg.Revoke(context.Background(), "support"); err != nil {
				t.Fatal(err)
			}
		}, op: func(ctx context.Context, r *faultRig) error {
			_, _, err := r.mg.Edit(ctx, "support", EditRequest{Secrets: map[string]string{"api_key": "k2"}})
			return err
		}},
		{name: "delete", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "support", "k1") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.Delete(ctx, "support", false)
				return err
			}},
		{name: "delete oauth", setup: func(t *testing.T, r *faultRig) { createOAuth(t, r, "idp") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.Delete(ctx, "idp", false)
				return err
			}},
		{name: "revoke", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "support", "k1") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.Revoke(ctx, "support")
				return err
			}},
		{name: "revoke oauth tokens", setup: func(t *testing.T, r *faultRig) { createOAuth(t, r, "idp") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.RevokeLocal(ctx, "idp", true)
				return err
			}},
		{name: "reauthorize key", setup: func(t *testing.T, r *faultRig) { createFreshdesk(t, r, "support", "k1") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.Authorize(ctx, "support", map[string]string{"api_key": "k3"})
				return err
			}},
		{name: "reauthorize oauth", setup: func(t *testing.T, r *faultRig) { createOAuth(t, r, "idp") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.StoreGrant(ctx, "idp", Grant{AccessToken: "at-1", RefreshToken: "rt-1", Account: "b@example.com"})
				return err
			}},
		{name: "reauthorize oauth without refresh token", setup: func(t *testing.T, r *faultRig) { createOAuth(t, r, "idp") },
			op: func(ctx context.Context, r *faultRig) error {
				_, err := r.mg.StoreGrant(ctx, "idp", Grant{AccessToken: "at-1", Account: "a@example.com"})
				return err
			}},
		{name: "token refresh", tokensFirst: true, setup: func(t *testing.T, r *faultRig) { createOAuth(t, r, "idp") },
			op: func(ctx context.Context, r *faultRig) error {
				c, ok := r.mg.Config.Find("idp")
				if !ok {
					return NotFound("idp")
				}
				_, err := r.mg.UpdateTokens(ctx, c, "", "at-1", "rt-1", fixed, &expires, nil)
				return err
			}},
	}
}

// mixOf reports whether got's config is old's or new's and each of its
// secrets has its old or its new value.
func mixOf(got, old, want state) bool {
	if got.config != old.config && got.config != want.config {
		return false
	}
	ok := map[string]bool{}
	for _, l := range strings.Split(old.secrets+want.secrets, "\n") {
		ok[l] = true
	}
	for _, l := range strings.Split(got.secrets, "\n") {
		if !ok[l] {
			return false
		}
	}
	return true
}

// faultTally counts faults injected and their outcomes across the suite.
type faultTally struct {
	mu                                        sync.Mutex
	injected, survived, mixed                 int
	lost, orphaned, orphanedUntilSweep, kills int
}

func TestFaultsAtEveryStep(t *testing.T) {
	t.Parallel()
	var tally faultTally
	t.Cleanup(func() {
		t.Logf("faults injected %d (kills %d): survived %d (old or new state), mixed %d (each value old or new: kill or store gone between two secret writes, or a token refresh), lost %d, orphaned %d; orphans left until the next sweep %d (all removed by it)",
			tally.injected, tally.kills, tally.survived, tally.mixed, tally.lost, tally.orphaned, tally.orphanedUntilSweep)
	})
	for _, sc := range faultScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// The clean run gives the new state and the number of steps.
			clean := newFaultRig(t)
			sc.setup(t, clean)
			old := clean.snapshot(t)
			base := clean.flaky.Calls()
			if err := sc.op(ctx, clean); err != nil {
				t.Fatalf("clean run: %v", err)
			}
			steps := clean.flaky.Calls() - base
			want := clean.snapshot(t)
			if len(want.orphans)+len(want.lost) > 0 || want.String() == old.String() {
				t.Fatalf("clean run: orphans %v lost %v, changed %v", want.orphans, want.lost, want.String() != old.String())
			}
			type fault struct {
				name string
				arm  func(t *testing.T, r *faultRig, base int)
				kill bool
				gone bool // the store stays away until after the op
			}
			var faults []fault
			for n := 1; n <= steps; n++ {
				faults = append(faults,
					fault{name: fmt.Sprintf("call %d fails", n), arm: func(_ *testing.T, r *faultRig, base int) { r.flaky.FailAt = base + n }},
					fault{name: fmt.Sprintf("call %d fails after writing", n), arm: func(_ *testing.T, r *faultRig, base int) {
						r.flaky.FailAt, r.flaky.WriteThenFail, r.flaky.Err = base+n, true, secretstore.ErrTimeout
					}},
					fault{name: fmt.Sprintf("store gone from call %d", n), gone: true, arm: func(_ *testing.T, r *faultRig, base int) {
						r.flaky.FailAt, r.flaky.Persist = base+n, true
					}},
					fault{name: fmt.Sprintf("killed before call %d", n), kill: true, arm: func(_ *testing.T, r *faultRig, base int) {
						r.flaky.Before = func(i int, _, _ string) {
							if i == base+n {
								runtime.Goexit()
							}
						}
					}},
					fault{name: fmt.Sprintf("killed after call %d", n), kill: true, arm: func(_ *testing.T, r *faultRig, base int) {
						r.flaky.After = func(i int, _, _ string) {
							if i == base+n {
								runtime.Goexit()
							}
						}
					}},
				)
			}
			for m := 0; m < steps; m++ {
				faults = append(faults, fault{name: fmt.Sprintf("config unwritable after call %d", m), arm: func(t *testing.T, r *faultRig, base int) {
					if m == 0 {
						r.breakConfig(t)
						return
					}
					r.flaky.Before = func(i int, _, _ string) {
						if i == base+m+1 {
							r.breakConfig(t)
						}
					}
				}})
			}
			if steps == 0 {
				faults = append(faults, fault{name: "config unwritable", arm: func(t *testing.T, r *faultRig, _ int) { r.breakConfig(t) }})
			}
			var mixed []string
			defer func() {
				if len(mixed) > 0 {
					t.Logf("%d of %d faults left a mix of old and new values: %s", len(mixed), len(faults), strings.Join(mixed, "; "))
				}
			}()
			for _, f := range faults {
				r := newFaultRig(t)
				sc.setup(t, r)
				f.arm(t, r, r.flaky.Calls())
				done := make(chan error, 1)
				go func() {
					defer close(done)
					done <- sc.op(ctx, r)
				}()
				opErr, finished := <-done
				r.flaky.Before, r.flaky.After, r.flaky.FailAt, r.flaky.Persist, r.flaky.WriteThenFail = nil, nil, 0, false, false
				r.mendConfig(t)
				got := r.snapshot(t)
				untilSweep := len(got.orphans) > 0
				if f.kill || f.gone || untilSweep {
					// The next create or delete sweeps what a dead or
					// cut-off change left behind.
					r.mg.Sweep(ctx, "")
					got = r.snapshot(t)
				}
				outcome := "survived"
				switch {
				case len(got.lost) > 0:
					outcome = "lost"
				case len(got.orphans) > 0:
					outcome = "orphaned"
				case got.String() == old.String() || got.String() == want.String():
				case (sc.tokensFirst || f.kill || f.gone) && mixOf(got, old, want):
					// No undo can run when the process dies or the store
					// is gone between two secret writes of one change,
					// and a refresh keeps the newest tokens on purpose:
					// each value is the old or the new one, none is lost.
					outcome = "mixed"
				default:
					outcome = "lost" // neither old nor new
				}
				tally.mu.Lock()
				tally.injected++
				if f.kill {
					tally.kills++
				}
				if untilSweep && outcome == "survived" {
					tally.orphanedUntilSweep++
				}
				switch outcome {
				case "survived":
					tally.survived++
				case "mixed":
					tally.mixed++
					mixed = append(mixed, f.name)
				case "lost":
					tally.lost++
				case "orphaned":
					tally.orphaned++
				}
				tally.mu.Unlock()
				if outcome == "lost" || outcome == "orphaned" {
					t.Errorf("%s: %s (killed %v, err %v)\nlost %v orphans %v\ngot:\n%s\nold:\n%s\nnew:\n%s", f.name, outcome, !finished, opErr, got.lost, got.orphans, got, old, want)
				}
			}
		})
	}
}
