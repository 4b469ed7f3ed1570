package main

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector/connectortest"
)

// TestPartialRunKeepsItsWorkAndResumes drives Mixpanel's export through the
// command line into a throttle that outlasts every retry once the first of
// the run's two 30-day ranges is done (issue #11): the run exits 3, keeps
// the first range's events and its checkpoint, is recorded as partially
// succeeded, and the next run fetches the rest from there.
func TestPartialRunKeepsItsWorkAndResumes(t *testing.T) {
	t.Parallel()
	var c *connectortest.Case
	for _, k := range connectortest.Cases() {
		if k.Connector == "mixpanel" {
			c = &k
		}
	}
	if c == nil {
		t.Fatal("no mixpanel conformance case")
	}
	f, err := c.Start(t)
	if err != nil {
		t.Fatal(err)
	}
	cli := newCLI(t)
	args := []string{"create", "--connector", "mixpanel", "--name", "mp"}
	for _, s := range f.Set {
		args = append(args, "--set", s)
	}
	args, stdin := cli.secretArgs(args, f.Secret, f.SecretField, f.SecretFile)
	cli.ok(stdin, args...)
	job := []string{"jobs", "create", "j", "--connection", "mp", "--source", "events", "--dest", "out.ndjson"}
	for _, p := range c.Params {
		job = append(job, "--param", p)
	}
	cli.ok("", job...)

	f.Data.ThrottleFrom(2)
	msg := cli.exits(3, "", "jobs", "run", "j")
	if !strings.Contains(msg, "next run resumes") || !strings.Contains(msg, "jobs run j` again") {
		t.Errorf("the partial run said:\n%s", msg)
	}
	// The dataset has 20 events in the first range (today-33..today-4).
	if got := len(cli.records("out.ndjson")); got != 20 {
		t.Errorf("the partial run kept %d events, want the first range's 20", got)
	}
	if got := strings.TrimSpace(cli.ok("", "activities", "--type", "execution", "-o", "json", "--jq", `.[0] | "\(.status) \(.reason) \(.records)"`)); got != `"partially_succeeded rate_limit 20"` && got != "partially_succeeded rate_limit 20" {
		t.Errorf("activity %s", got)
	}

	f.Data.Heal()
	cli.ok("", "jobs", "run", "j")
	if got := len(cli.records("out.ndjson")); got != f.Data.Len()-20 {
		t.Errorf("the next run wrote %d events, want the other %d", got, f.Data.Len()-20)
	}
	cli.scan()
}
