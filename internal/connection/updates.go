package connection

import (
	"context"
	"sort"

	"github.com/connctl/connctl/internal/configstore"
)

// Update is a change to a connection worth an update activity: who did
// what, and which fields changed (secret changes carry no values).
type Update struct {
	Action     string // create, edit, authorize, reauthorize, revoke, delete
	Connection configstore.Connection
	Changes    []Change
}

// notify hands u to OnUpdate, if set. Recording is best effort: the change
// itself has already happened.
func (mg *Manager) notify(ctx context.Context, action string, c *configstore.Connection, changes []Change) {
	if mg.OnUpdate == nil || c == nil {
		return
	}
	mg.OnUpdate(context.WithoutCancel(ctx), Update{Action: action, Connection: *c, Changes: changes})
}

// authorizeAction tells a first authorization from a reauthorization.
func authorizeAction(before configstore.Status) string {
	if before == configstore.StatusNotAuthorized {
		return "authorize"
	}
	return "reauthorize"
}

// createChanges lists a new connection's fields and secrets.
func createChanges(c *configstore.Connection) []Change {
	var out []Change
	keys := make([]string, 0, len(c.Fields))
	for k := range c.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, Change{Field: k, New: c.Fields[k]})
	}
	for _, s := range c.Secrets {
		out = append(out, Change{Field: s, Secret: true})
	}
	return out
}
