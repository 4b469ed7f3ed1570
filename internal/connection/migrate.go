package connection

import (
	"context"
	"errors"
	"fmt"
	"github.com/connctl/connctl/internal/textsafe"
	"sort"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/secretstore"
)

// Held lists the connections whose secrets are not in the backend target:
// the ones a switch of secrets.backend to target would strand. current is
// the backend in force (where connections that do not record one keep theirs).
func Held(d *configstore.Document, current, target string) []*configstore.Connection {
	var out []*configstore.Connection
	for i := range d.Connections {
		c := &d.Connections[i]
		if len(c.Secrets) > 0 && sourceBackend(c, current) != target {
			out = append(out, c)
		}
	}
	return out
}

func sourceBackend(c *configstore.Connection, current string) string {
	if c.SecretBackend != "" {
		return c.SecretBackend
	}
	return current
}

// Names lists connection names for a message, at most textsafe.ListMax.
func Names(cs []*configstore.Connection) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = fmt.Sprintf("%q", c.Name)
	}
	return textsafe.List(names, ", ")
}

// Migration is what MigrateSecrets did.
type Migration struct {
	Moved      []string // connection names whose secrets now live in the target
	Items      int      // secrets copied
	LeftBehind []string // "<name>/<kind> in <backend>": copies that could not be removed from the old backend
	Target     string
}

// MigrateSecrets moves every connection's secrets into the backend target
// and switches secrets.backend to it, in this order, so that any failure
// leaves the old backend in force and nothing deleted:
//
//  1. copy each secret into target and read it back;
//  2. in one config write, set secrets.backend and record target on each
//     moved connection;
//  3. only then delete the old copies (failures there are reported in
//     LeftBehind: the config no longer refers to them).
//
// If step 1 or 2 fails, the copies made in target are removed again (or
// the values target held before are put back). A secret missing from its
// old backend stops the migration: it names the connections to
// reauthorize or revoke first.
func (mg *Manager) MigrateSecrets(ctx context.Context, open func(backend string) (secretstore.Store, error), target string) (*Migration, error) {
	current := mg.Config.String("secrets.backend")
	dst, err := open(target)
	if err != nil {
		return nil, SecretStoreError(err)
	}
	held := Held(mg.Config.Document(), current, target)
	res := &Migration{Target: target}

	type copied struct {
		id, kind     string
		prev         string
		existed      bool
		src          secretstore.Store
		conn, backnd string
	}
	var done []copied
	undo := func() {
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for _, c := range done {
			if c.existed {
				_ = dst.Set(bg, c.id, c.kind, c.prev)
			} else {
				_ = dst.Delete(bg, c.id, c.kind)
			}
		}
	}
	sources := map[string]secretstore.Store{}
	var missing []string
	for _, c := range held {
		from := sourceBackend(c, current)
		src, ok := sources[from]
		if !ok {
			if src, err = open(from); err != nil {
				undo()
				return nil, SecretStoreError(fmt.Errorf("open %s: %w", BackendLabel(from), err))
			}
			sources[from] = src
		}
		for _, kind := range c.Secrets {
			v, err := src.Get(ctx, c.ID, kind)
			if errors.Is(err, secretstore.ErrNotFound) {
				missing = append(missing, fmt.Sprintf("%s of %q", kind, c.Name))
				continue
			}
			if err != nil {
				undo()
				return nil, SecretStoreError(fmt.Errorf("read %s of %q from %s: %w", kind, c.Name, BackendLabel(from), err))
			}
			prev, perr := dst.Get(ctx, c.ID, kind)
			if perr != nil && !errors.Is(perr, secretstore.ErrNotFound) {
				undo()
				return nil, SecretStoreError(fmt.Errorf("read %s: %w", BackendLabel(target), perr))
			}
			if err := dst.Set(ctx, c.ID, kind, v); err != nil {
				undo()
				return nil, SecretStoreError(fmt.Errorf("store %s of %q in %s: %w", kind, c.Name, BackendLabel(target), err))
			}
			done = append(done, copied{id: c.ID, kind: kind, prev: prev, existed: perr == nil, src: src, conn: c.Name, backnd: from})
			back, err := dst.Get(ctx, c.ID, kind)
			if err != nil || back != v {
				undo()
				if err == nil {
					err = errors.New("the value read back differs from the one written")
				}
				return nil, SecretStoreError(fmt.Errorf("verify %s of %q in %s: %w", kind, c.Name, BackendLabel(target), err))
			}
		}
	}
	if len(missing) > 0 {
		undo()
		sort.Strings(missing)
		return nil, exitcode.WithHint(exitcode.New(exitcode.AuthNeeded, "nothing was moved: %s not found in the old backend", textsafe.List(missing, ", ")),
			"store them again with `connctl reauthorize <name>` (or `connctl revoke <name>`), then run this command again")
	}

	moved := map[string]string{} // id -> old backend
	for _, c := range held {
		moved[c.ID] = sourceBackend(c, current)
	}
	err = mg.Config.Update(ctx, func(d *configstore.Document) error {
		if err := configstore.SetIn(d, "secrets.backend", target); err != nil {
			return err
		}
		// Another process may have stored secrets in the old backend while
		// these were copied: switching now would strand them.
		for _, c := range Held(d, current, target) {
			if _, ok := moved[c.ID]; !ok {
				return exitcode.New(exitcode.Failure, "connection %q got secrets in %s while the others were moved; nothing was switched: run the command again", c.Name, BackendLabel(sourceBackend(c, current)))
			}
		}
		for i := range d.Connections {
			c := &d.Connections[i]
			if _, ok := moved[c.ID]; ok {
				c.SecretBackend = dst.Name()
				c.UpdatedAt = mg.Now().UTC()
				if c.StatusReason == configstore.ReasonSecretMissing {
					c.Status, c.StatusReason = configstore.StatusAuthorized, ""
				}
			}
		}
		return nil
	})
	if err != nil {
		undo()
		return nil, err
	}
	for _, c := range done {
		if err := c.src.Delete(ctx, c.id, c.kind); err != nil && !errors.Is(err, secretstore.ErrNotFound) {
			res.LeftBehind = append(res.LeftBehind, fmt.Sprintf("%s of %q in %s", c.kind, c.conn, BackendLabel(c.backnd)))
		}
	}
	res.Items = len(done)
	for _, c := range held {
		res.Moved = append(res.Moved, c.Name)
		if cur, ok := mg.Config.Find(c.Name); ok {
			mg.notify(ctx, "edit", cur, []Change{{Field: "storage", Old: moved[c.ID], New: dst.Name()}})
		}
	}
	return res, nil
}
