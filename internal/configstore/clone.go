package configstore

import (
	"maps"
	"slices"
	"time"
)

// cloneDocument returns a deep copy of d: no map, slice or pointer of the
// copy is shared with d, so an Update's fn may change the copy while
// readers keep d. TestCloneSharesNothing checks every field by reflection,
// so a field added to Document, Connection, OAuthState or Job without a
// line here fails it.
func cloneDocument(d *Document) Document {
	out := Document{SchemaVersion: d.SchemaVersion, Settings: cloneSettings(d.Settings)}
	if d.Connections != nil {
		out.Connections = make([]Connection, len(d.Connections))
		for i := range d.Connections {
			out.Connections[i] = cloneConnection(&d.Connections[i])
		}
	}
	if d.Jobs != nil {
		out.Jobs = make([]Job, len(d.Jobs))
		for i := range d.Jobs {
			j := d.Jobs[i]
			j.Params = maps.Clone(j.Params)
			out.Jobs[i] = j
		}
	}
	return out
}

func cloneConnection(c *Connection) Connection {
	out := *c
	out.Fields = maps.Clone(c.Fields)
	out.Secrets = slices.Clone(c.Secrets)
	out.AuthorizedAt = cloneTime(c.AuthorizedAt)
	if o := c.OAuth; o != nil {
		oc := *o
		oc.Scopes = slices.Clone(o.Scopes)
		oc.IssuedAt = cloneTime(o.IssuedAt)
		oc.ExpiresAt = cloneTime(o.ExpiresAt)
		oc.Extra = maps.Clone(o.Extra)
		out.OAuth = &oc
	}
	return out
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// cloneSettings copies the maps and lists of a settings tree; the other
// values (strings, numbers, booleans, times) are immutable.
func cloneSettings(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneSetting(v)
	}
	return out
}

func cloneSetting(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneSettings(v)
	case map[any]any:
		if v == nil {
			return v
		}
		out := make(map[any]any, len(v))
		for k, e := range v {
			out[k] = cloneSetting(e)
		}
		return out
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i := range v {
			out[i] = cloneSetting(v[i])
		}
		return out
	}
	return v
}
