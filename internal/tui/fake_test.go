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

func (f *fake) Submit(_ context.Context, a Action, name string, s Submission, progress func(string)) (string, error) {
	f.did = append(f.did, fmt.Sprintf("submit %d %s %v secrets:%d", a, name, s.Fields, len(s.Secrets)))
	if f.fail != nil {
		return "", f.fail
	}
	switch a {
	case ActCreate:
		progress("Open https://login.example/authorize?client_id=abc&state=xyz to sign in")
		f.rows = append(f.rows, Row{Name: s.Name, Connector: s.Connector, Auth: s.Auth, Status: "authorized", Created: now, Fields: s.Fields})
		return "Created connection " + s.Name, nil
	case ActCreateJob:
		f.jobs[name] = append(f.jobs[name], Job{Name: s.Name, Source: s.Source, Schedule: s.Fields["schedule"]})
		return "Created job " + s.Name, nil
	case ActEdit:
		for i := range f.rows {
			if f.rows[i].Name == name && s.Name != "" {
				f.rows[i].Name = s.Name
			}
		}
		return "Updated connection " + s.Name, nil
	}
	return "Authorized connection " + name, nil
}

func (f *fake) Connectors() []Connector {
	domain := Field{Name: "domain", Label: "Domain", Help: "your Freshdesk account: acme or acme.freshdesk.com", Required: true,
		Validate: func(v string) error {
			if strings.ContainsAny(v, " /") {
				return errors.New("give the account name, e.g. acme")
			}
			return nil
		}}
	return []Connector{
		{ID: "freshdesk", Name: "Freshdesk", Category: "support", Fields: []Field{domain},
			Methods: []Method{{ID: "api_key", Label: "API key", HowTo: "In Freshdesk, open Profile settings > View API key.",
				Fields: []Field{{Name: "api_key", Label: "API key", Help: "your Freshdesk API key", Required: true, Secret: true}}}}},
		{ID: "salesforce", Name: "Salesforce", Category: "crm",
			Fields:  []Field{{Name: "instance", Label: "Instance", Help: "login or test", Default: "login", Enum: []string{"login", "test"}}},
			Methods: []Method{{ID: "oauth2", Label: "OAuth 2.0", OAuth: true, Fields: []Field{{Name: "client_secret", Label: "Client secret", Secret: true}}}},
			Sources: []Source{{Name: "accounts", Help: "accounts, oldest change first"}, {Name: "soql", Help: "any SOQL query",
				Params: []Field{{Name: "query", Label: "query", Help: "the SOQL query", Required: true}}}}},
	}
}

func (f *fake) ValidName(name string) error {
	if name == "" {
		return errors.New("connection name is empty")
	}
	if strings.ContainsAny(name, " /") {
		return fmt.Errorf("connection name %q: use letters, digits, - and _", name)
	}
	return nil
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
			{Name: "crm-prod", Connector: "salesforce", Auth: "oauth2", Status: "authorized", Account: "admin@acme.example", Created: now.Add(-72 * time.Hour), Failed24h: 2, OAuth: true},
			{Name: "support", Connector: "freshdesk", Auth: "api_key", Status: "unverified", Account: "", Created: now.Add(-3 * time.Hour), Fields: map[string]string{"domain": "acme"}},
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
