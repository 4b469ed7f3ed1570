package team

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/secretstore"
)

// Local is this machine's side: its config file's definitions, its secret
// stores and its activity log's checkpoints.
type Local struct {
	Doc *configstore.Document
	// Backend is the secrets.backend in force here (where connections
	// that record none keep their secrets).
	Backend string
	// Secrets opens a secrets backend by name.
	Secrets func(backend string) (secretstore.Store, error)
	// Checkpoints are the local jobs' checkpoints; nil when this machine
	// has no activity log.
	Checkpoints activitylog.Checkpoints
}

// Shared is the team's side.
type Shared struct {
	Where       string // "the team store HOST:PORT/DB", for messages
	Defs        configstore.Definitions
	Checkpoints activitylog.Checkpoints
	// Vault is the team's secret store; nil: secrets stay in each
	// machine's own store, and only the definitions are shared.
	Vault secretstore.Swapper
	// Rules, when set, checks the team's definitions as they would be
	// after the merge (the product's single-connection and CRM/Support
	// limits): before anything is written, and again in the transaction.
	Rules func(*configstore.Document) error
}

// InitResult is what Init did.
type InitResult struct {
	Connections, Jobs, Checkpoints, Secrets Count
	// KeptCheckpoints names jobs already in the team store whose own
	// checkpoint was kept (the team ran them since).
	KeptCheckpoints []string
	// LocalSecrets names the connections whose secrets stay in this
	// machine's store (no Vault).
	LocalSecrets []string
	// CopiedConnections and CopiedJobs are the definitions Init added to
	// the team store (for the activities that record it).
	CopiedConnections []configstore.Connection
	CopiedJobs        []configstore.Job
}

// Changed reports whether Init wrote anything to the team's side.
func (r *InitResult) Changed() bool {
	return r.Connections.Copied+r.Jobs.Copied+r.Checkpoints.Copied+r.Secrets.Copied > 0
}

type secretItem struct {
	conn  *configstore.Connection
	kind  string
	value string
}

// Init copies local's connections, jobs, checkpoints and secrets into
// shared, then calls switchTo (this machine's settings: store.url,
// secrets.backend, vault.addr), and only if everything before succeeded.
//
// First, before writing anything, it compares both sides: a connection or
// job whose name (or id) the team store holds with another definition, or
// a secret Vault holds with another value for a connection new to the team,
// is a *ClashError; a secret the local definitions name but the local store
// lacks (and Vault too) is a *MissingSecretsError. Then it writes, in this
// order, so that the team never sees a definition before its secrets and
// checkpoint: the secrets (check-and-set: only where Vault has none), the
// checkpoints of jobs new to the team, the definitions (one transaction).
// What the team store already holds, the same, is left as it is, with its
// newer state (status, tokens, checkpoint): running Init again, after a
// failure or a success, continues or does nothing.
func Init(ctx context.Context, local Local, shared Shared, switchTo func(context.Context) error) (*InitResult, error) {
	if err := shared.Defs.Reload(); err != nil {
		return nil, err
	}
	res := &InitResult{}
	ix := indexOf(shared.Defs.Document())
	clashes := clashesIn(local.Doc, ix)
	if shared.Rules != nil && len(clashes) == 0 {
		merged := *shared.Defs.Document()
		merged.Connections = slices.Clone(merged.Connections)
		for _, c := range local.Doc.Connections {
			if ix.connByID[c.ID] == nil {
				merged.Connections = append(merged.Connections, c)
			}
		}
		if err := shared.Rules(&merged); err != nil {
			return nil, err
		}
	}

	// Secrets: read what each side holds before writing any.
	var writes []secretItem
	var missing []string
	stores := map[string]secretstore.Store{}
	readLocal := func(c *configstore.Connection, kind string) (string, bool, error) {
		name := sourceBackend(c, local.Backend)
		st, ok := stores[name]
		if !ok {
			var err error
			if st, err = local.Secrets(name); err != nil {
				return "", false, fmt.Errorf("open %s: %w", label(name), err)
			}
			stores[name] = st
		}
		v, err := st.Get(ctx, c.ID, kind)
		if errors.Is(err, secretstore.ErrNotFound) {
			missing = append(missing, fmt.Sprintf("%s of %q (%s)", kind, c.Name, label(name)))
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("read %s of %q from %s: %w", kind, c.Name, label(name), err)
		}
		return v, true, nil
	}
	for i := range local.Doc.Connections {
		c := &local.Doc.Connections[i]
		if len(c.Secrets) == 0 {
			continue
		}
		if shared.Vault == nil {
			res.LocalSecrets = append(res.LocalSecrets, c.Name)
			continue
		}
		inTeam := ix.connByID[c.ID] != nil
		for _, kind := range c.Secrets {
			theirs, err := shared.Vault.Get(ctx, c.ID, kind)
			found := err == nil
			if err != nil && !errors.Is(err, secretstore.ErrNotFound) {
				return nil, fmt.Errorf("read %s of %q from Vault: %w", kind, c.Name, err)
			}
			if found && inTeam {
				// The team's copy: it may be newer (a rotated token).
				res.Secrets.Present++
				continue
			}
			mine, ok, err := readLocal(c, kind)
			if err != nil {
				return nil, err
			}
			switch {
			case !ok:
			case !found:
				writes = append(writes, secretItem{conn: c, kind: kind, value: mine})
			case theirs == mine:
				res.Secrets.Present++
			default:
				clashes = append(clashes, Clash{Kind: "secret", Name: kind + " of " + c.Name, Why: "Vault holds another value for this connection's id"})
			}
		}
	}
	if len(clashes) > 0 {
		return nil, &ClashError{Where: shared.Where, Clashes: clashes}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, &MissingSecretsError{Items: missing}
	}

	// Checkpoints of jobs the team store does not have yet (a job it has
	// keeps its own: the team may have run it since).
	type checkpoint struct{ job, value string }
	var cps []checkpoint
	if local.Checkpoints != nil {
		for _, j := range local.Doc.Jobs {
			v, ok, err := local.Checkpoints.Checkpoint(ctx, j.ID)
			if err != nil {
				return nil, fmt.Errorf("read the checkpoint of job %q: %w", j.Name, err)
			}
			if !ok {
				continue
			}
			if ix.jobByID[j.ID] != nil {
				theirs, has, err := shared.Checkpoints.Checkpoint(ctx, j.ID)
				if err != nil {
					return nil, fmt.Errorf("read the checkpoint of job %q from %s: %w", j.Name, shared.Where, err)
				}
				if has && theirs != v {
					res.KeptCheckpoints = append(res.KeptCheckpoints, j.Name)
				}
				res.Checkpoints.Present++
				continue
			}
			cps = append(cps, checkpoint{j.ID, v})
		}
	}

	// Writes: secrets, checkpoints, then the definitions.
	for _, w := range writes {
		if err := shared.Vault.CompareAndSwap(ctx, w.conn.ID, w.kind, "", w.value); err != nil {
			if errors.Is(err, secretstore.ErrConflict) {
				return res, &ClashError{Where: shared.Where, Clashes: []Clash{{Kind: "secret", Name: w.kind + " of " + w.conn.Name, Why: "written in Vault by someone else meanwhile"}}}
			}
			return res, fmt.Errorf("write %s of %q to Vault: %w", w.kind, w.conn.Name, err)
		}
		res.Secrets.Copied++
	}
	for _, cp := range cps {
		if err := shared.Checkpoints.SetCheckpoint(ctx, cp.job, cp.value); err != nil {
			return res, fmt.Errorf("write a checkpoint to %s: %w", shared.Where, err)
		}
		res.Checkpoints.Copied++
	}
	vault := shared.Vault != nil
	err := shared.Defs.Update(ctx, func(d *configstore.Document) error {
		res.Connections, res.Jobs = Count{}, Count{}
		res.CopiedConnections, res.CopiedJobs = nil, nil
		now := indexOf(d)
		// Someone may have written since the check.
		if clashes := clashesIn(local.Doc, now); len(clashes) > 0 {
			return &ClashError{Where: shared.Where, Clashes: clashes}
		}
		for _, c := range local.Doc.Connections {
			if now.connByID[c.ID] != nil {
				res.Connections.Present++
				continue
			}
			n := cloneConn(c)
			if len(n.Secrets) > 0 {
				n.SecretBackend = sourceBackend(&c, local.Backend)
				if vault {
					n.SecretBackend = "vault"
				}
			}
			d.Connections = append(d.Connections, n)
			res.Connections.Copied++
			res.CopiedConnections = append(res.CopiedConnections, n)
		}
		for _, j := range local.Doc.Jobs {
			if now.jobByID[j.ID] != nil {
				res.Jobs.Present++
				continue
			}
			d.Jobs = append(d.Jobs, cloneJob(j))
			res.Jobs.Copied++
			res.CopiedJobs = append(res.CopiedJobs, j)
		}
		if shared.Rules != nil {
			return shared.Rules(d)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if switchTo != nil {
		if err := switchTo(ctx); err != nil {
			return res, err
		}
	}
	return res, nil
}

// clashesIn lists the local connections and jobs that the team's index
// holds with another definition.
func clashesIn(local *configstore.Document, team index) []Clash {
	var out []Clash
	for i := range local.Connections {
		c := &local.Connections[i]
		if o := team.otherConn(c); o != nil {
			if why := connDiff(c, o); why != "" {
				out = append(out, Clash{Kind: "connection", Name: c.Name, Why: why})
			}
		}
	}
	for i := range local.Jobs {
		j := &local.Jobs[i]
		if o := team.otherJob(j); o != nil {
			if why := jobDiff(j, o); why != "" {
				out = append(out, Clash{Kind: "job", Name: j.Name, Why: why})
			}
		}
	}
	return out
}
