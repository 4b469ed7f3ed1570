package team

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/secretstore"
)

// ExportOptions say where Export writes.
type ExportOptions struct {
	// Into is the local config file that receives the definitions.
	Into configstore.Definitions
	// Where names Into in messages (its path).
	Where string
	// Checkpoints is this machine's activity log, to receive the exported
	// jobs' checkpoints; nil: they are not exported.
	Checkpoints activitylog.Checkpoints
	// Secrets is the store the secrets are copied into (the keyring, or
	// the encrypted file); nil: secrets are not exported, and the exported
	// connections record where the team keeps them.
	Secrets secretstore.Store
	// Open opens the backend the team keeps a connection's secrets in
	// (vault, or a machine's keyring); TeamBackend is the one for
	// connections that record none.
	Open        func(backend string) (secretstore.Store, error)
	TeamBackend string
	// Settings changes Into's settings in the same write as the
	// definitions (e.g. unset store.url); nil: none.
	Settings func(d *configstore.Document) error
}

// ExportResult is what Export did.
type ExportResult struct {
	// Connections and Jobs: Copied are new or updated in the file, Present
	// were there, identical.
	Connections, Jobs Count
	Checkpoints       int
	Secrets           int
	// WithoutSecrets names the connections whose secrets were not copied
	// (no --secrets): they record the backend that holds them.
	WithoutSecrets []string
}

// Export writes the team's connections and jobs into opts.Into: new ones
// are added and those of the same id replaced by the team's (newer) ones,
// in one atomic write with opts.Settings. A local connection or job of
// the same name but another id is a *ClashError, and nothing is written.
// With opts.Secrets, every secret is copied into it first (a missing one is
// a *MissingSecretsError, nothing written); then the jobs' checkpoints.
func Export(ctx context.Context, shared Shared, opts ExportOptions) (*ExportResult, error) {
	if err := shared.Defs.Reload(); err != nil {
		return nil, err
	}
	team := shared.Defs.Document()
	res := &ExportResult{}
	mine := indexOf(opts.Into.Document())
	if clashes := exportClashes(team, mine); len(clashes) > 0 {
		return nil, &ClashError{Where: opts.Where, Clashes: clashes}
	}

	// The connections as the file will hold them.
	out := make([]configstore.Connection, 0, len(team.Connections))
	type item struct {
		conn  *configstore.Connection
		kind  string
		value string
	}
	var copies []item
	var missing []string
	stores := map[string]secretstore.Store{}
	for _, c := range team.Connections {
		n := cloneConn(c)
		if len(n.Secrets) > 0 {
			from := sourceBackend(&c, opts.TeamBackend)
			n.SecretBackend = from
			switch {
			case opts.Secrets == nil:
				res.WithoutSecrets = append(res.WithoutSecrets, c.Name)
			case from == opts.Secrets.Name():
				// Already in that store on this machine (a team without
				// Vault): nothing to copy.
			default:
				src, ok := stores[from]
				if !ok {
					var err error
					if src, err = opts.Open(from); err != nil {
						return nil, fmt.Errorf("open %s: %w", label(from), err)
					}
					stores[from] = src
				}
				for _, kind := range c.Secrets {
					v, err := src.Get(ctx, c.ID, kind)
					if errors.Is(err, secretstore.ErrNotFound) {
						missing = append(missing, fmt.Sprintf("%s of %q (%s)", kind, c.Name, label(from)))
						continue
					}
					if err != nil {
						return nil, fmt.Errorf("read %s of %q from %s: %w", kind, c.Name, label(from), err)
					}
					copies = append(copies, item{conn: &c, kind: kind, value: v})
				}
			}
			if opts.Secrets != nil {
				n.SecretBackend = opts.Secrets.Name()
			}
		}
		out = append(out, n)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingSecretsError{Items: missing}
	}
	for _, it := range copies {
		if err := opts.Secrets.Set(ctx, it.conn.ID, it.kind, it.value); err != nil {
			return res, fmt.Errorf("store %s of %q in %s: %w", it.kind, it.conn.Name, label(opts.Secrets.Name()), err)
		}
		res.Secrets++
	}
	if opts.Checkpoints != nil {
		for _, j := range team.Jobs {
			v, ok, err := shared.Checkpoints.Checkpoint(ctx, j.ID)
			if err != nil {
				return res, fmt.Errorf("read the checkpoint of job %q from %s: %w", j.Name, shared.Where, err)
			}
			if !ok {
				continue
			}
			if err := opts.Checkpoints.SetCheckpoint(ctx, j.ID, v); err != nil {
				return res, fmt.Errorf("write the checkpoint of job %q: %w", j.Name, err)
			}
			res.Checkpoints++
		}
	}
	err := opts.Into.Update(ctx, func(d *configstore.Document) error {
		res.Connections, res.Jobs = Count{}, Count{}
		if clashes := exportClashes(team, indexOf(d)); len(clashes) > 0 {
			return &ClashError{Where: opts.Where, Clashes: clashes}
		}
		conns, jobs := map[string]int{}, map[string]int{}
		for i := range d.Connections {
			conns[d.Connections[i].ID] = i
		}
		for i := range d.Jobs {
			jobs[d.Jobs[i].ID] = i
		}
		for _, n := range out {
			i, ok := conns[n.ID]
			switch {
			case !ok:
				d.Connections = append(d.Connections, n)
				res.Connections.Copied++
			case reflect.DeepEqual(d.Connections[i], n):
				res.Connections.Present++
			default:
				d.Connections[i] = n
				res.Connections.Copied++
			}
		}
		for _, j := range team.Jobs {
			j = cloneJob(j)
			i, ok := jobs[j.ID]
			switch {
			case !ok:
				d.Jobs = append(d.Jobs, j)
				res.Jobs.Copied++
			case reflect.DeepEqual(d.Jobs[i], j):
				res.Jobs.Present++
			default:
				d.Jobs[i] = j
				res.Jobs.Copied++
			}
		}
		if opts.Settings != nil {
			return opts.Settings(d)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, nil
}

// exportClashes lists the team's connections and jobs whose names the
// local file gives to another connection or job (another id). The same id
// under another definition is no clash: the team's is the newer one.
func exportClashes(team *configstore.Document, local index) []Clash {
	var out []Clash
	for _, c := range team.Connections {
		if o := local.connByName[configstore.NameKey(c.Name)]; o != nil && o.ID != c.ID {
			out = append(out, Clash{Kind: "connection", Name: c.Name, Why: "another connection of that name here, id " + o.ID})
		}
	}
	for _, j := range team.Jobs {
		if o := local.jobByName[configstore.NameKey(j.Name)]; o != nil && o.ID != j.ID {
			out = append(out, Clash{Kind: "job", Name: j.Name, Why: "another job of that name here, id " + o.ID})
		}
	}
	return out
}
