package connection

import (
	"context"

	"github.com/connctl/connctl/internal/configstore"
)

// SetVerified records whether the key-based credentials of the connection
// named name were checked with the provider: false after a save with
// --no-verify, true after a check passed. It writes only on a change.
func (mg *Manager) SetVerified(ctx context.Context, name string, verified bool) (*configstore.Connection, error) {
	cur, ok := mg.Config.Find(name)
	if !ok {
		return nil, NotFound(name)
	}
	if cur.Unverified == !verified {
		return cur, nil
	}
	var out configstore.Connection
	err := mg.Config.Update(ctx, func(d *configstore.Document) error {
		i, c := d.Find(cur.Name)
		if c == nil || c.ID != cur.ID {
			return NotFound(name)
		}
		d.Connections[i].Unverified = !verified
		out = d.Connections[i]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
