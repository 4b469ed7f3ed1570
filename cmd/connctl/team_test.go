package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// teamCLI is one admin's machine: its own HOME (config file, keyring,
// state) and the team store at url.
func teamCLI(t *testing.T, url string) *cli {
	c := newCLI(t)
	c.env = slices.DeleteFunc(c.env, func(kv string) bool { return kv == "CONNCTL_TEST_VERIFY=1" })
	c.env = append(c.env, "CONNCTL_STORE_URL="+url)
	return c
}

// conflictLine is the one error a stale write may end with.
var conflictLine = regexp.MustCompile(`^error: (connection|job) \S+ was changed by \S+ on \S+ at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; re-run the command\n$`)

// TestTeam runs three "machines" (three HOMEs, the real binary) against one
// PostgreSQL: they create, edit, list and delete connections at once;
// nothing is lost, every refused write is the conflict error, and two
// admins see the same list, the same FAILED 24H flags and the same
// activities, each with who and host. No secret reaches the database.
func TestTeam(t *testing.T) {
	srv := postgres.Start(t)
	url := srv.NewDatabase(t)
	machines := []*cli{teamCLI(t, url), teamCLI(t, url), teamCLI(t, url)}
	a, b := machines[0], machines[1]

	out := a.ok("", "version", "-o", "json")
	if !strings.Contains(out, `"store": "postgres"`) {
		t.Fatalf("version -o json does not say store postgres: %s", out)
	}

	// One shared connection, created by a (its secret stays in a's keyring).
	a.ok("shared-CANARY-key", "create", "-c", "freshdesk", "-n", "shared", "--set", "domain=acme", "--set", "base_url=http://127.0.0.1:1", "--secret-stdin", "--no-verify")

	// Each machine creates 8 connections, edits the shared one 6 times and
	// deletes 3 of its own, all at once.
	type result struct {
		machine int
		args    []string
		code    int
		stderr  string
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for m, c := range machines {
		wg.Go(func() {
			for i := range 8 {
				name := fmt.Sprintf("m%d-c%d", m, i)
				args := []string{"create", "-c", "freshdesk", "-n", name, "--set", "domain=d" + name, "--secret-stdin", "--no-verify"}
				code, _, errs := c.run(fmt.Sprintf("m%d-CANARY-%d", m, i), args...)
				mu.Lock()
				results = append(results, result{m, args, code, errs})
				mu.Unlock()
			}
			for i := range 3 {
				args := []string{"delete", fmt.Sprintf("m%d-c%d", m, i), "--yes"}
				code, _, errs := c.run("", args...)
				mu.Lock()
				results = append(results, result{m, args, code, errs})
				mu.Unlock()
			}
		})
		wg.Go(func() {
			for i := range 6 {
				args := []string{"edit", "shared", "--set", fmt.Sprintf("domain=m%d-e%d", m, i)}
				code, _, errs := c.run("", args...)
				mu.Lock()
				results = append(results, result{m, args, code, errs})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	edits, conflicts := map[string]bool{}, 0
	for _, r := range results {
		switch {
		case r.code == 0:
			if r.args[0] == "edit" {
				edits[strings.TrimPrefix(r.args[3], "domain=")] = true
			}
		case r.code == 1 && conflictLine.MatchString(r.stderr):
			conflicts++
			if r.args[0] != "edit" {
				t.Errorf("machine %d: connctl %s: a conflict where none can be: %s", r.machine, strings.Join(r.args, " "), r.stderr)
			}
		default:
			t.Errorf("machine %d: connctl %s: exit %d: %s", r.machine, strings.Join(r.args, " "), r.code, r.stderr)
		}
	}
	t.Logf("%d edits of one connection from three machines went through, %d were refused as conflicts", len(edits), conflicts)
	if len(edits) == 0 {
		t.Fatal("no edit of the shared connection went through")
	}

	// Everyone sees the same list: nothing lost, the deletes done.
	var want []string
	for m := range 3 {
		for i := 3; i < 8; i++ {
			want = append(want, fmt.Sprintf("m%d-c%d", m, i))
		}
	}
	want = append(want, "shared")
	slices.Sort(want)
	lists := make([]string, len(machines))
	for i, c := range machines {
		lists[i] = c.ok("", "list", "--jq", ".[].name")
	}
	if got := strings.Fields(lists[0]); !slices.Equal(got, want) {
		t.Fatalf("list = %q, want %q", got, want)
	}
	for i := range machines {
		if lists[i] != lists[0] {
			t.Errorf("machine %d lists\n%s\nmachine 0 lists\n%s", i, lists[i], lists[0])
		}
	}
	// Each machine listed from its local copy of the definitions (made
	// before the others' writes, then brought up to date), and lists the
	// same again from the copy alone.
	for i, c := range machines {
		if copies, _ := filepath.Glob(filepath.Join(c.dir, "home", ".cache", "connctl", "team-*.cache")); len(copies) != 1 {
			t.Errorf("machine %d has local copies %v, want one", i, copies)
		}
		if again := c.ok("", "list", "--jq", ".[].name"); again != lists[0] {
			t.Errorf("machine %d lists from its copy\n%s\nwant\n%s", i, again, lists[0])
		}
	}
	// The shared connection holds the value of an edit that went through.
	domain := strings.TrimSpace(b.ok("", "show", "shared", "--jq", ".fields.domain"))
	if !edits[domain] {
		t.Errorf("shared has domain %q, which no successful edit set (%v)", domain, edits)
	}
	// Every edit that went through is an activity, with who and host.
	var acts []map[string]any
	if err := json.Unmarshal([]byte(b.ok("", "activities", "--connection", "shared", "-o", "json")), &acts); err != nil {
		t.Fatal(err)
	}
	edited := 0
	for _, act := range acts {
		if act["who"] == "" || act["host"] == "" {
			t.Errorf("an activity without who or host: %v", act)
		}
		if act["action"] == "edit" {
			edited++
		}
	}
	if edited != len(edits) {
		t.Errorf("%d edit activities for %d edits that went through", edited, len(edits))
	}

	// A failed run on machine a: every machine sees the FAILED 24H flag
	// and the same activities.
	a.ok("", "jobs", "create", "pull", "--connection", "shared", "--source", "tickets", "--dest", "out.ndjson")
	if code, _, errs := a.run("", "jobs", "run", "pull"); code == 0 {
		t.Fatalf("a run against a closed port succeeded: %s", errs)
	}
	flags := make([]string, len(machines))
	for i, c := range machines {
		flags[i] = c.ok("", "list", "--jq", `.[] | select(.name == "shared") | .failed_24h`)
	}
	if strings.TrimSpace(flags[0]) == "0" || flags[1] != flags[0] || flags[2] != flags[0] {
		t.Errorf("FAILED 24H of shared on the three machines: %q", flags)
	}
	actA := a.ok("", "activities", "-o", "json")
	if actB := b.ok("", "activities", "-o", "json"); actA != actB {
		t.Errorf("two admins see different activities:\n%s\n---\n%s", actA, actB)
	}

	// No secret reached the database: dump every table and look for the
	// canaries.
	dumpHasNo(t, url, "CANARY")
}

// dumpHasNo fails if any row of any table of the database at url contains
// mark.
func dumpHasNo(t *testing.T, url, mark string) {
	t.Helper()
	rows, tables, hits, err := dumpFind(context.Background(), url, []string{mark})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		t.Errorf("a table holds a secret: %s", h)
	}
	t.Logf("%d rows in %d tables, none holds %q", rows, tables, mark)
}
