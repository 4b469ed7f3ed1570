// Package team moves a machine's connections in and out of a team store:
// Init copies the local definitions, jobs, checkpoints and secrets into the
// shared backends (definitions, jobs and checkpoints into PostgreSQL,
// secrets into Vault); Export brings the team's definitions and jobs (and,
// on request, secrets) back into a local config file.
//
// Both check for clashes before they write anything, write the parts the
// team (or the machine) could see half-done first and the definitions last,
// in one transaction (or one atomic file write), and are safe to run again
// after a failure: what is already there, identical, is left alone. Init
// never deletes anything locally, never overwrites a different secret in
// Vault (every write is check-and-set), and never puts a secret into the
// definitions store. It returns data and typed errors; the command line
// presents them.
package team

import (
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/configstore"
)

// Clash is a name that means two different things on the two sides.
type Clash struct {
	Kind string // "connection", "job" or "secret"
	Name string // the connection or job name (for a secret: "KIND of NAME")
	Why  string // what differs
}

func (c Clash) String() string { return fmt.Sprintf("%s %s (%s)", c.Kind, quote(c.Name), c.Why) }

// ClashError refuses a move because names clash; nothing was written.
type ClashError struct {
	Where   string // "the team store" or the config file's path
	Clashes []Clash
}

func (e *ClashError) Error() string {
	parts := make([]string, len(e.Clashes))
	for i, c := range e.Clashes {
		parts[i] = c.String()
	}
	what := "name clashes"
	if len(e.Clashes) == 1 {
		what = "name clash"
	}
	return fmt.Sprintf("nothing was written: %d %s with %s: %s", len(e.Clashes), what, e.Where, textsafe.List(parts, "; "))
}

// MissingSecretsError refuses a move because secrets the definitions name
// are not in their store; nothing was written.
type MissingSecretsError struct {
	Items []string // `KIND of "NAME" (the keyring)`
}

func (e *MissingSecretsError) Error() string {
	return fmt.Sprintf("nothing was written: %s not found", textsafe.List(e.Items, ", "))
}

// Count is what happened to one kind of thing.
type Count struct {
	Copied  int // written on the other side
	Present int // already there, identical (or the other side's newer copy kept)
}

func quote(name string) string {
	if k, n, ok := strings.Cut(name, " of "); ok {
		return k + " of " + fmt.Sprintf("%q", n)
	}
	return fmt.Sprintf("%q", name)
}

// connDiff says how b's definition differs from a's ("" when they are the
// same connection with the same definition): the id, connector, auth
// method and fields. Status, tokens' metadata and times may differ: they
// change as the connection is used.
func connDiff(a, b *configstore.Connection) string {
	switch {
	case a.ID != b.ID:
		return "another connection of that name, id " + b.ID
	case a.Connector != b.Connector:
		return fmt.Sprintf("connector %s there, %s here", b.Connector, a.Connector)
	case a.Auth != b.Auth:
		return fmt.Sprintf("auth %s there, %s here", orNone(b.Auth), orNone(a.Auth))
	case !maps.Equal(a.Fields, b.Fields):
		return "fields differ: " + strings.Join(diffKeys(a.Fields, b.Fields), ", ")
	case configstore.NameKey(a.Name) != configstore.NameKey(b.Name):
		return fmt.Sprintf("renamed %q there", b.Name)
	}
	return ""
}

// jobDiff is connDiff for jobs: id, connection, source, parameters,
// destination, format, mode, schedule and notifications.
func jobDiff(a, b *configstore.Job) string {
	switch {
	case a.ID != b.ID:
		return "another job of that name, id " + b.ID
	case a.ConnectionID != b.ConnectionID:
		return "another connection"
	case a.Source != b.Source:
		return fmt.Sprintf("source %s there, %s here", b.Source, a.Source)
	case !maps.Equal(a.Params, b.Params):
		return "params differ: " + strings.Join(diffKeys(a.Params, b.Params), ", ")
	case a.Dest != b.Dest || a.Format != b.Format || a.Mode != b.Mode:
		return "destination, format or mode differ"
	case a.Schedule != b.Schedule || a.NotifyOn != b.NotifyOn:
		return "schedule or notifications differ"
	case configstore.NameKey(a.Name) != configstore.NameKey(b.Name):
		return fmt.Sprintf("renamed %q there", b.Name)
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "default"
	}
	return s
}

// diffKeys names the keys whose values differ (never the values: a field
// may be sensitive enough not to print).
func diffKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// index finds connections and jobs of a document by id and by name.
type index struct {
	connByID, connByName map[string]*configstore.Connection
	jobByID, jobByName   map[string]*configstore.Job
}

func indexOf(d *configstore.Document) index {
	ix := index{
		connByID: map[string]*configstore.Connection{}, connByName: map[string]*configstore.Connection{},
		jobByID: map[string]*configstore.Job{}, jobByName: map[string]*configstore.Job{},
	}
	for i := range d.Connections {
		c := &d.Connections[i]
		ix.connByID[c.ID] = c
		ix.connByName[configstore.NameKey(c.Name)] = c
	}
	for i := range d.Jobs {
		j := &d.Jobs[i]
		ix.jobByID[j.ID] = j
		ix.jobByName[configstore.NameKey(j.Name)] = j
	}
	return ix
}

// otherConn is the connection of the other side that c meets: the one of
// its name, else the one of its id (renamed there).
func (ix index) otherConn(c *configstore.Connection) *configstore.Connection {
	if o := ix.connByName[configstore.NameKey(c.Name)]; o != nil {
		return o
	}
	return ix.connByID[c.ID]
}

func (ix index) otherJob(j *configstore.Job) *configstore.Job {
	if o := ix.jobByName[configstore.NameKey(j.Name)]; o != nil {
		return o
	}
	return ix.jobByID[j.ID]
}

func cloneConn(c configstore.Connection) configstore.Connection {
	c.Fields = maps.Clone(c.Fields)
	c.Secrets = slices.Clone(c.Secrets)
	if c.OAuth != nil {
		o := *c.OAuth
		o.Scopes = slices.Clone(o.Scopes)
		o.Extra = maps.Clone(o.Extra)
		c.OAuth = &o
	}
	return c
}

func cloneJob(j configstore.Job) configstore.Job {
	j.Params = maps.Clone(j.Params)
	return j
}

// sourceBackend is where c's secrets are: the backend it records, else
// the one in force.
func sourceBackend(c *configstore.Connection, current string) string {
	if c.SecretBackend != "" {
		return c.SecretBackend
	}
	if current == "" {
		return "keyring"
	}
	return current
}

// label names a secrets backend in a sentence.
func label(name string) string {
	switch name {
	case "keyring":
		return "the keyring"
	case "file":
		return "the encrypted secrets file"
	case "vault":
		return "Vault"
	}
	return "the " + name + " secret store"
}
