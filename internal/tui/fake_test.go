package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// now is the tests' fixed clock.
var now = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)

// hinted is an error with a hint, as the command line's errors carry.
type hinted struct{ msg, hint string }

func (e hinted) Error() string { return e.msg }

// fake is a Backend over a slice, recording what was done.
type fake struct {
	rows []Row
	acts map[string][]Activity
	jobs map[string][]Job
	did  []string
	fail error
}

func (f *fake) Connections(context.Context) ([]Row, error) {
	return slices.Clone(f.rows), nil
}

func (f *fake) Describe(_ context.Context, a Action, name string) (string, error) {
	for _, r := range f.rows {
		if r.Name == name {
			return fmt.Sprintf("connection %s (%s) with its secrets", r.Name, r.Connector), nil
		}
	}
	return "", hinted{fmt.Sprintf("connection %q not found", name), "list connections with `connctl list`"}
}

func (f *fake) Do(_ context.Context, a Action, name string, progress func(string)) (string, error) {
	f.did = append(f.did, fmt.Sprintf("%d %s", a, name))
	if f.fail != nil {
		return "", f.fail
	}
	progress("working on " + name)
	switch a {
	case ActDelete:
		f.rows = slices.DeleteFunc(f.rows, func(r Row) bool { return r.Name == name })
		return "Deleted connection " + name, nil
	case ActRevoke:
		for i := range f.rows {
			if f.rows[i].Name == name {
				f.rows[i].Status = "revoked"
			}
		}
		return "Revoked connection " + name, nil
	}
	return "Authorized connection " + name, nil
}

func (f *fake) Activities(_ context.Context, name string) ([]Activity, error) {
	return f.acts[name], nil
}

func (f *fake) Jobs(_ context.Context, name string) ([]Job, error) { return f.jobs[name], nil }

func (f *fake) RunJob(_ context.Context, job string, progress func(string)) (string, error) {
	f.did = append(f.did, "run "+job)
	progress("page 1")
	return "Job " + job + ": 10 records", nil
}

func (f *fake) Hints(err error) []string {
	var h hinted
	if errors.As(err, &h) {
		return []string{h.hint}
	}
	return nil
}

func sample() *fake {
	return &fake{
		rows: []Row{
			{Name: "crm-prod", Connector: "salesforce", Status: "authorized", Account: "admin@acme.example", Created: now.Add(-72 * time.Hour), Failed24h: 2, OAuth: true},
			{Name: "support", Connector: "freshdesk", Status: "unverified", Account: "", Created: now.Add(-3 * time.Hour)},
			{Name: "warehouse", Connector: "snowflake", Status: "revoked", Account: "LOADER", Created: now.Add(-40 * 24 * time.Hour)},
			{Name: "tickets-eu", Connector: "zendesk", Status: "not_authorized", Created: now.Add(-10 * time.Minute), OAuth: true},
			{Name: "crm-sandbox", Connector: "salesforce", Status: "needs_reauthorization", Account: "dev@acme.example", Created: now.Add(-5 * 24 * time.Hour), OAuth: true},
		},
		acts: map[string][]Activity{"crm-prod": {
			{ID: 7, Started: now.Add(-2 * time.Hour), Type: "execution", Action: "run", Job: "accounts", Status: "failed", Reason: "auth", Message: "HTTP 401 from salesforce: session expired", Who: "ana", Records: 0},
			{ID: 6, Started: now.Add(-3 * time.Hour), Type: "execution", Action: "run", Job: "accounts", Status: "succeeded", Who: "ana", Records: 120},
			{ID: 2, Started: now.Add(-72 * time.Hour), Type: "update", Action: "create", Status: "succeeded", Who: "ana", Changes: []string{`name: "" -> "crm-prod"`}},
		}},
		jobs: map[string][]Job{"crm-prod": {
			{Name: "accounts", Source: "accounts", Schedule: "hourly", LastRun: ptr(now.Add(-2 * time.Hour)), Status: "failed"},
			{Name: "contacts", Source: "contacts", Schedule: "", Status: ""},
		}},
	}
}

func ptr[T any](v T) *T { return &v }

// many returns n connections with varied fields, for benchmarks.
func many(n int) []Row {
	conns := []string{"salesforce", "hubspot", "zendesk", "freshdesk", "jira", "snowflake", "s3", "mixpanel"}
	statuses := []string{"authorized", "unverified", "not_authorized", "revoked", "needs_reauthorization"}
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Name: fmt.Sprintf("conn-%05d-%s", (i*7919)%n, strings.Repeat("x", i%7)), Connector: conns[i%len(conns)],
			Status: statuses[i%len(statuses)], Account: fmt.Sprintf("user%d@example.com", i%97), Created: now.Add(-time.Duration(i) * time.Minute), Failed24h: i % 13 / 10}
	}
	return rows
}
