package connectorview

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
)

var update = flag.Bool("update", false, "rewrite docs/connectors.md from the catalogue")

// TestConnectorsDoc keeps docs/connectors.md equal to the catalogue. Run
// `go test ./internal/commands/connectors/connectorview -update` after changing a connector.
func TestConnectorsDoc(t *testing.T) {
	const path = "../../../../docs/connectors.md"
	got := ConnectorsMarkdown(all.Catalogue())
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Fatalf("docs/connectors.md is stale: run go test ./internal/commands/connectors/connectorview -update")
	}
}

// ConnectorsMarkdown renders the catalogue as docs/connectors.md.
func ConnectorsMarkdown(cat *connector.Catalogue) string {
	var b strings.Builder
	b.WriteString("# Connectors and their credentials\n\n")
	b.WriteString("Generated from connctl's catalogue (`connctl connectors show <id>` prints the same). ")
	b.WriteString("Give fields with `--set field=value`; give secrets with `--secret-stdin`, `--secret-file` or ")
	b.WriteString("`--secret-env` (never with `--set`). Every connector takes `base_url` to point it elsewhere ")
	b.WriteString("(sandboxes, data centres, proxies, local test servers).\n\n")
	b.WriteString("| id | name | category | auth | several connections |\n|---|---|---|---|---|\n")
	for _, c := range cat.All() {
		s := Summarize(c)
		multi := "no"
		if s.Multiple {
			multi = "yes"
		}
		fmt.Fprintf(&b, "| [`%s`](#%s) | %s | %s | %s | %s |\n", s.ID, s.ID, s.Name, s.Category, strings.Join(s.Auth, ", "), multi)
	}
	for _, c := range cat.All() {
		d := Describe(c)
		fmt.Fprintf(&b, "\n## %s\n\n", d.ID)
		fmt.Fprintf(&b, "%s — category %s", d.Name, d.Category)
		if len(d.Aliases) > 0 {
			fmt.Fprintf(&b, "; aliases %s", "`"+strings.Join(d.Aliases, "`, `")+"`")
		}
		if d.Multiple {
			b.WriteString("; several connections allowed")
		} else {
			b.WriteString("; one connection")
		}
		b.WriteString(".\n\n")
		writeFieldTable(&b, d.Fields)
		for _, a := range d.AuthMethods {
			fmt.Fprintf(&b, "\n### %s: auth `%s` (%s)\n\n", d.ID, a.ID, a.Kind)
			if len(d.AuthMethods) > 1 {
				fmt.Fprintf(&b, "Choose with `--auth %s`.\n\n", a.ID)
			}
			if len(a.Fields) > 0 {
				writeFieldTable(&b, a.Fields)
				b.WriteString("\n")
			}
			if len(a.Scopes) > 0 {
				fmt.Fprintf(&b, "Scopes: `%s`. ", strings.Join(a.Scopes, " "))
			}
			if a.RedirectURI != "" {
				fmt.Fprintf(&b, "Redirect URI to register: `%s`. ", a.RedirectURI)
			}
			if a.Kind == string(connector.AuthOAuth2) {
				if a.Revocation {
					b.WriteString("Revocation: at the provider.")
				} else {
					b.WriteString("Revocation: the provider has no revocation endpoint; connctl removes the tokens locally.")
				}
				b.WriteString("\n\n")
			}
			if a.HowTo != "" {
				b.WriteString("How to get the credentials:\n\n")
				for _, line := range strings.Split(strings.TrimSpace(a.HowTo), "\n") {
					fmt.Fprintf(&b, "> %s\n", strings.TrimSpace(line))
				}
			}
		}
		if len(d.Sources) > 0 {
			b.WriteString("\nSources (`connctl jobs create <job> --connection <name> --source <source> [--param key=value]...`):\n\n| source | parameters | primary key | incremental field | description |\n|---|---|---|---|---|\n")
			for _, s := range d.Sources {
				var params []string
				for _, p := range s.Params {
					name := "`" + p.Name + "`"
					if p.Required {
						name += " (required)"
					}
					params = append(params, name+": "+cell(p.Help))
				}
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", s.Name, strings.Join(params, "<br>"), s.PrimaryKey, s.IncrementalField, cell(s.Help))
			}
		}
	}
	b.WriteString(assumptions)
	return b.String()
}

// assumptions lists what the sources rely on that no vendor page confirmed
// (marked unconfirmed in ../shared/reference/providers.md or found only in
// third-party material), so a user knows where to look first.
const assumptions = `
## What is assumed

Every incremental source delivers at least once at the checkpoint instant (queries use
"greater or equal" so nothing changed in the same second is lost): deduplicate on the primary key.

- **Freshdesk:** a first run sends updated_since=1970-01-01T00:00:00Z to lift the 30-day default
  window (third-party sources); over 300 pages the source re-windows on updated_since.
- **Salesforce:** REST API v62.0 unless api_version; the daily REQUEST_LIMIT_EXCEEDED fails at once
  (rate_limit), the concurrent-request limit is retried.
- **Dynamics:** fixed lists of standard columns in $select; a column missing in an environment is a
  config failure.
- **Zoho:** If-Modified-Since is sent one second before the checkpoint, in ISO 8601 with an offset;
  204 for an empty module; scope names unconfirmed. A dead refresh token may be answered
  invalid_code (even with HTTP 200, community reports): read as invalid_grant (reauthorize).
- **HubSpot:** the search after value is an offset capped at 10,000 (re-windowed; the first page
  sends "0"); sorts are sent as property names, the form HubSpot's spec types (its guide shows
  {propertyName, direction} objects), sorted ascending; rate-limit policy names from the changelog.
- **Zendesk:** tickets and users use the cursor export; organizations the time-based export (the docs
  offer no cursor for it). Zendesk is retiring API tokens (third-party report). Revoking an OAuth
  grant whose access token already expired refreshes it once to send the DELETE; a refused refresh
  token means the grant had already ended.
- **Jira:** search/jql refuses unbounded JQL, so every query is bounded by updated; checkpoints are
  written in the user's time zone from /myself. An issue without fields.updated is written, does
  not move the checkpoint and is counted (the activity's without_cursor). Project paging stops on
  isLast, on startAt + values reaching total, or on an empty page.
- **SurveyMonkey:** start_modified_at is taken as inclusive from one second before the checkpoint;
  responses list every survey each run.
- **Gainsight PX:** page size 1000, the 190-day event window and the per-type response keys come
  from third-party clients; users and accounts are compared client-side on lastModifiedDate.
- **Gainsight API:** the query body, where shape and {result, data:{records}} envelope come from a
  third-party OpenAPI and tap; ModifiedDate is read as epoch ms or a date-time.
- **Mixpanel:** one export request per range of up to 30 UTC days, paced under the export's 60
  queries an hour and 3 a second (retries count); a run that spends the hour's queries stops with
  a partial result (exit 3) that the next run resumes; the last day is fetched again next run;
  dates are UTC only for projects created after 2023-01-01.
- **BigQuery:** {since} becomes a TIMESTAMP literal with a +00:00 offset; jobs are polled every second.
  A query job is incremental when it sets incremental_column. Google's revoke answers 400
  invalid_token for a token that had already ended: reported as already revoked.
- **S3:** an endpoint means path-style addressing; checkpoints are capped at the server's Date
  minus one second so objects written during a listing are not missed.
- **Generic OAuth 2.0 (http):** paging and the since parameter are what the job describes; whether
  the API treats since as inclusive is up to the API. A job is incremental when it sets
  incremental_field.

## Checked against the vendors' API descriptions

The test suites check every request these sources make against the vendor's published API
description (copies, with source, version and licence, in
internal/connector/connectortest/testdata/specs): a request the description does not allow fails
the tests.

| source | description | version |
|---|---|---|
| mixpanel ` + "`events`" + ` | Mixpanel's export.openapi.yaml (mixpanel/docs), OpenAPI 3.0 | 1.0.0, commit ba22906 (2026-08-21) |
| jira ` + "`issues`, `projects`" + ` | Atlassian's Jira Cloud platform OpenAPI (swagger-v3.v3.json), trimmed | 1001.0.0-SNAPSHOT-57a0ca5b |
| hubspot ` + "`companies`, `contacts`" + ` | HubSpot's CRM v3 contacts and companies specs (HubSpot-public-api-spec-collection); restated, not copied (not licensed for redistribution) | v3, commit 9989379 (2026-08-21) |
| bigquery ` + "`query`, `table`" + ` | Google's BigQuery v2 discovery document (google-api-go-client), trimmed | bigquery:v2, commit 0084468 |

No usable published description was found for the others: Zendesk's OpenAPI description (on its
developer site) was not found in a public repository with a stated licence, so it is not vendored
yet; Salesforce's
OpenAPI is an org-specific beta generated behind sign-in; Dynamics' OData $metadata is served by
each environment; Zoho CRM, SurveyMonkey, Freshdesk, Gainsight PX and the Gainsight CS API publish
none (only third-party descriptions exist).
`

func writeFieldTable(b *strings.Builder, fs []FieldView) {
	b.WriteString("| field | required | secret | default | description |\n|---|---|---|---|---|\n")
	for _, f := range fs {
		help := f.Help
		if help != "" && !strings.HasSuffix(help, ".") {
			help += "."
		}
		if len(f.Enum) > 0 {
			help += " One of: `" + strings.Join(f.Enum, "`, `") + "`."
		}
		if f.Example != "" {
			help += " Example: `" + f.Example + "`."
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", f.Name, yes(f.Required), yes(f.Secret), code(f.Default), cell(help))
	}
}

func yes(v bool) string {
	if v {
		return "yes"
	}
	return ""
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}
