package connection

import (
	"fmt"
	"sort"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/textsafe"
)

// Assignment is one `--set key=value`.
type Assignment struct {
	Key, Value string
}

// ParseAssignment splits "key=value"; the value may contain "=".
func ParseAssignment(s string) (Assignment, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Assignment{}, exitcode.UsageError("--set %q is not key=value: write it as --set field=value", s)
	}
	return Assignment{Key: k, Value: v}, nil
}

// fieldNames lists the names of fields, comma-separated, for error messages.
func fieldNames(fields []connector.Field, secret bool) string {
	var names []string
	for _, f := range fields {
		if f.Secret == secret {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ResolveAuth picks the auth method from an `auth` assignment, the existing
// value, or the connector's default.
func ResolveAuth(c *connector.Connector, current string, set []Assignment) (*connector.AuthMethod, error) {
	id := current
	for _, a := range set {
		if a.Key == "auth" {
			id = strings.TrimSpace(a.Value)
		}
	}
	m, err := c.Auth(id)
	if err != nil {
		return nil, exitcode.UsageError("%s", err.Error())
	}
	return m, nil
}

// ApplyFields returns base with set and unset applied, for connector c using
// method m. Unknown fields, secret fields in argv and invalid values are
// usage errors that name the field and the fix.
func ApplyFields(c *connector.Connector, m *connector.AuthMethod, base map[string]string, set []Assignment, unset []string) (map[string]string, error) {
	all := c.FieldsFor(m)
	byName := make(map[string]*connector.Field, len(all))
	for i := range all {
		byName[all[i].Name] = &all[i]
	}
	out := make(map[string]string, len(base)+len(set))
	for k, v := range base {
		out[k] = v
	}
	for _, name := range unset {
		f, ok := byName[name]
		if !ok {
			return nil, unknownField(c, m, name)
		}
		if f.Required && f.Default == "" {
			return nil, exitcode.UsageError("field %s of %s is required and cannot be unset: give it a new value with --set %s=...", name, c.ID, name)
		}
		delete(out, name)
	}
	for _, a := range set {
		if a.Key == "auth" {
			out["auth"] = m.ID
			continue
		}
		f, ok := byName[a.Key]
		if !ok {
			if sf, other := c.Field(a.Key); other && !sf.Secret {
				return nil, exitcode.UsageError("field %s belongs to another auth method of %s: add --set auth=<method> first (this connection uses %s)", a.Key, c.ID, m.ID)
			}
			if sf, other := c.Field(a.Key); other && sf.Secret {
				return nil, secretInArgv(a.Key)
			}
			return nil, unknownField(c, m, a.Key)
		}
		if f.Secret {
			return nil, secretInArgv(a.Key)
		}
		v := strings.TrimSpace(a.Value)
		if err := CheckValue(f, v); err != nil {
			return nil, err
		}
		if v == "" {
			delete(out, a.Key)
			continue
		}
		out[a.Key] = v
	}
	if len(c.Auths) > 1 {
		out["auth"] = m.ID
	}
	// Drop fields that belong to another auth method (after a switch).
	for k := range out {
		if _, ok := byName[k]; !ok {
			delete(out, k)
		}
	}
	return out, nil
}

// CheckValue validates a value against a field's enum and validator.
func CheckValue(f *connector.Field, v string) error {
	if v == "" {
		return nil
	}
	if strings.ContainsAny(v, "\x00\r\n") && !f.Secret {
		return exitcode.UsageError("field %s contains a line break or NUL: give it on one line", f.Name)
	}
	if !f.Secret && !textsafe.Safe(v) {
		// The config loader refuses such a value too: it would be sent to
		// a provider or opened in a browser.
		return exitcode.UsageError("field %s contains a control character (%s): remove it", f.Name, textsafe.Sanitize(v))
	}
	if len(f.Enum) > 0 {
		ok := false
		for _, e := range f.Enum {
			if v == e {
				ok = true
			}
		}
		if !ok {
			return exitcode.UsageError("field %s: %q is not one of: %s", f.Name, v, strings.Join(f.Enum, ", "))
		}
	}
	if f.Validate != nil {
		if err := f.Validate(v); err != nil {
			return exitcode.UsageError("field %s: %s", f.Name, err.Error())
		}
	}
	return nil
}

func secretInArgv(name string) error {
	return exitcode.WithHint(exitcode.UsageError("%s is a secret and cannot be given with --set: secrets never travel in argv", name),
		fmt.Sprintf("pipe it in: `printf %%s \"$VALUE\" | connctl ... --secret-stdin` (or --secret-file, --secret-env; --secret-field %s if it is not the main secret)", name))
}

func unknownField(c *connector.Connector, m *connector.AuthMethod, name string) error {
	return exitcode.WithHint(exitcode.UsageError("connector %s has no field %q", c.ID, name),
		fmt.Sprintf("fields: %s (see `connctl connectors show %s`)", fieldNames(c.FieldsFor(m), false), c.ID))
}

// Effective returns fields with defaults filled in for those not set.
func Effective(c *connector.Connector, m *connector.AuthMethod, fields map[string]string) map[string]string {
	out := map[string]string{}
	for _, f := range c.FieldsFor(m) {
		if f.Secret {
			continue
		}
		if v, ok := fields[f.Name]; ok {
			out[f.Name] = v
		} else if f.Default != "" {
			out[f.Name] = f.Default
		}
	}
	if len(c.Auths) > 1 {
		out["auth"] = m.ID
	}
	return out
}

// MissingRequired returns the required non-secret fields without a value
// (defaults count as values).
func MissingRequired(c *connector.Connector, m *connector.AuthMethod, fields map[string]string) []connector.Field {
	var out []connector.Field
	for _, f := range c.FieldsFor(m) {
		if f.Secret || !f.Required || f.Default != "" {
			continue
		}
		if fields[f.Name] == "" {
			out = append(out, f)
		}
	}
	return out
}

// SecretFields returns method m's secret fields (the main secret first).
func SecretFields(c *connector.Connector, m *connector.AuthMethod) []connector.Field {
	var out []connector.Field
	for _, f := range c.FieldsFor(m) {
		if f.Secret {
			out = append(out, f)
		}
	}
	return out
}

// PrimarySecret is the secret --secret-stdin fills by default: the first
// required secret field, or the first secret field.
func PrimarySecret(c *connector.Connector, m *connector.AuthMethod) (connector.Field, bool) {
	sec := SecretFields(c, m)
	for _, f := range sec {
		if f.Required {
			return f, true
		}
	}
	if len(sec) > 0 {
		return sec[0], true
	}
	return connector.Field{}, false
}
