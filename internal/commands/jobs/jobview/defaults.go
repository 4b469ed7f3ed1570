package jobview

import (
	"context"
	"path/filepath"
	"strings"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/jobs"
)

// CreateDefaultJobs creates the connector's out-of-the-box jobs for conn:
// one per source that needs no parameter, named <connection>-<source>,
// writing NDJSON under $XDG_DATA_HOME/connctl/jobs/<connection>/. It is
// idempotent: a job of that name that already exists is skipped and said
// so, so it can run at any time after create (new sources in a newer
// connctl are added, the others kept).
func CreateDefaultJobs(ctx context.Context, d *deps.Deps, conn *configstore.Connection, ctr *connector.Connector) error {
	m, err := d.Jobs()
	if err != nil {
		return err
	}
	dir := filepath.Join(filepath.Dir(deps.DefaultSecretsFile(d.Getenv)), "jobs", safeName(conn.Name))
	var made, kept, other []string
	for _, src := range ctr.Sources {
		needs := false
		for _, p := range src.Params {
			needs = needs || (p.Required && p.Default == "")
		}
		if needs {
			continue
		}
		name := conn.Name + "-" + src.Name
		if _, j := m.Config.Document().FindJob(name); j != nil {
			if j.ConnectionID == conn.ID && j.Source == src.Name {
				kept = append(kept, name)
			} else {
				other = append(other, name)
			}
			continue
		}
		if _, err := m.Create(ctx, jobs.Spec{Name: name, Connection: conn.Name, Source: src.Name, Dest: filepath.Join(dir, src.Name+".ndjson")}); err != nil {
			return err
		}
		made = append(made, name)
	}
	if len(made)+len(kept)+len(other) == 0 {
		d.IO.Statusf("%s has no out-of-the-box jobs", ctr.Name)
		return nil
	}
	if len(made) > 0 {
		d.IO.Statusf("%sCreated jobs %s (run them with `connctl jobs run <job>`)", d.IO.Success(), strings.Join(made, ", "))
	}
	if len(kept) > 0 {
		d.IO.Statusf("Skipped jobs %s: they already exist", strings.Join(kept, ", "))
	}
	if len(other) > 0 {
		d.IO.Warnf("skipped %s: a job of that name exists for another connection or source (create this one under another name with `connctl jobs create`)", strings.Join(other, ", "))
	}
	return nil
}

// safeName makes a connection name usable as a folder name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r < ' ' {
			return '_'
		}
		return r
	}, s)
}
