package connectorview

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

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
		writeExpiryRules(&b, c)
	}
	head, tail, _ := strings.Cut(assumptions, "{{per-connector}}")
	b.WriteString(head)
	for _, c := range cat.All() {
		if c.Assumptions != "" {
			b.WriteString(wrap("- **"+c.Name+":** "+c.Assumptions, "  ", 100))
		}
	}
	b.WriteString(strings.TrimPrefix(tail, "\n"))
	return b.String()
}

// assumptions frames what the sources rely on that no vendor page confirmed
// (found only in third-party material), so a user knows where to look
// first; each connector's own text (Connector.Assumptions) goes in place of
// {{per-connector}}.
const assumptions = `
## What is assumed

Every incremental source delivers at least once at the checkpoint instant (queries use
"greater or equal" so nothing changed in the same second is lost): deduplicate on the primary key.

{{per-connector}}

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

// wrap breaks text into lines of at most width (words are never split),
// the later lines indented by indent; the result ends in a newline.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent + w
			continue
		}
		if line == "" {
			line = w
		} else {
			line += " " + w
		}
	}
	b.WriteString(line + "\n")
	return b.String()
}

// writeExpiryRules lists the rules of c's Expiry (asked with Describe, so
// the doc comes from the code that forecasts), each with its source.
func writeExpiryRules(b *strings.Builder, c *connector.Connector) {
	if c.Expiry == nil {
		return
	}
	rules := c.Expiry(connector.GrantFacts{Auth: connector.AuthOAuth2, Describe: true}, time.Time{})
	if len(rules) == 0 {
		return
	}
	b.WriteString("\nExpiry forecasts (`connctl status`, `connctl list --expiring`; see [health.md](health.md)):\n\n| rule | source |\n|---|---|\n")
	for _, r := range rules {
		src := r.Source
		if strings.HasPrefix(src, "https://") {
			src = "<" + src + ">"
		}
		fmt.Fprintf(b, "| %s | %s |\n", cell(r.Rule), cell(src))
	}
}
