// Package connectorview is how the catalogue looks in output: a connector
// as listed (Summary) and as shown (Detail), with their stable JSON fields.
// `connectors list`, `connectors show` and docs/connectors.md use it.
package connectorview

import (
	"github.com/connctl/connctl/internal/connector"
)

// ListFields are the JSON fields of `connectors list`.
var ListFields = []string{"id", "name", "aliases", "category", "auth", "multiple"}

// ShowFields are the JSON fields of `connectors show`.
var ShowFields = []string{"id", "name", "aliases", "category", "multiple", "fields", "auth_methods", "sources", "docs_url"}

// Summary is one connector as listed.
type Summary struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Aliases  []string `json:"aliases"`
	Category string   `json:"category"`
	Auth     []string `json:"auth"`
	Multiple bool     `json:"multiple"`
}

// FieldView is a field as shown.
type FieldView struct {
	Name     string   `json:"name"`
	Required bool     `json:"required"`
	Secret   bool     `json:"secret"`
	Default  string   `json:"default"`
	Enum     []string `json:"enum"`
	Help     string   `json:"help"`
	Example  string   `json:"example"`
}

// AuthView is an auth method as shown.
type AuthView struct {
	ID          string      `json:"id"`
	Kind        string      `json:"kind"`
	Label       string      `json:"label"`
	Fields      []FieldView `json:"fields"`
	Scopes      []string    `json:"scopes"`
	RedirectURI string      `json:"redirect_uri"`
	Revocation  bool        `json:"revocation"`
	HowTo       string      `json:"how_to"`
}

// SourceView is a job source as shown.
type SourceView struct {
	Name             string      `json:"name"`
	Help             string      `json:"help"`
	Params           []FieldView `json:"params"`
	PrimaryKey       string      `json:"primary_key"`
	IncrementalField string      `json:"incremental_field"`
	IncrementalParam string      `json:"incremental_param,omitempty"`
}

// Detail is one connector as shown.
type Detail struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Aliases     []string     `json:"aliases"`
	Category    string       `json:"category"`
	Multiple    bool         `json:"multiple"`
	Fields      []FieldView  `json:"fields"`
	AuthMethods []AuthView   `json:"auth_methods"`
	Sources     []SourceView `json:"sources"`
	DocsURL     string       `json:"docs_url"`
}

// Summarize builds the list view of c.
func Summarize(c *connector.Connector) Summary {
	s := Summary{ID: c.ID, Name: c.Name, Aliases: append([]string{}, c.Aliases...), Category: string(c.Category), Multiple: c.Multiple}
	// The auth method ids, the names `create --auth` takes (not the kinds:
	// Jira's api_token is HTTP Basic, and showing "basic" sent users to a
	// name create refused).
	s.Auth = c.AuthIDs()
	return s
}

func fieldViews(fs []connector.Field) []FieldView {
	out := make([]FieldView, 0, len(fs))
	for _, f := range fs {
		out = append(out, FieldView{Name: f.Name, Required: f.Required, Secret: f.Secret, Default: f.Default,
			Enum: append([]string{}, f.Enum...), Help: f.Help, Example: f.Example})
	}
	return out
}

// Describe builds the detail view of c.
func Describe(c *connector.Connector) Detail {
	d := Detail{ID: c.ID, Name: c.Name, Aliases: append([]string{}, c.Aliases...), Category: string(c.Category),
		Multiple: c.Multiple, Fields: fieldViews(c.Fields), DocsURL: c.DocsURL}
	for _, m := range c.Auths {
		// The method's own fields, then (for OAuth) scopes, redirect_uri
		// and the endpoint overrides every OAuth method takes.
		a := AuthView{ID: m.ID, Kind: string(m.Kind), Label: m.Label, Fields: fieldViews(c.FieldsFor(&m)[len(c.Fields):]), HowTo: m.HowTo}
		if m.OAuth != nil {
			a.Scopes = append([]string{}, m.OAuth.Scopes...)
			a.RedirectURI = m.OAuth.RedirectURI
			a.Revocation = m.OAuth.RevokeURL != ""
		}
		d.AuthMethods = append(d.AuthMethods, a)
	}
	d.Sources = []SourceView{}
	for _, s := range c.Sources {
		d.Sources = append(d.Sources, SourceView{Name: s.Name, Help: s.Help, Params: fieldViews(s.Params), PrimaryKey: s.PrimaryKey, IncrementalField: s.IncrementalField, IncrementalParam: s.IncrementalParam})
	}
	return d
}
