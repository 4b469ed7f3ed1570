package connectors

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
// `go test ./internal/commands/connectors -update` after changing a connector.
func TestConnectorsDoc(t *testing.T) {
	const path = "../../../docs/connectors.md"
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
		t.Fatalf("docs/connectors.md is stale: run go test ./internal/commands/connectors -update")
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
		s := summarize(c)
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
				fmt.Fprintf(&b, "Choose with `--set auth=%s`.\n\n", a.ID)
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
			b.WriteString("\nSources (out-of-the-box jobs):\n\n| source | primary key | incremental field | description |\n|---|---|---|---|\n")
			for _, s := range d.Sources {
				fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", s.Name, s.PrimaryKey, s.IncrementalField, cell(s.Help))
			}
		}
	}
	return b.String()
}

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
