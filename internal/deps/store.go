package deps

import (
	"context"
	"errors"
	"os"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/pgstore"
)

// Backends say where connctl keeps things, as `connctl version` and
// `connctl config list` report them.
type Backends struct {
	// Store is "file" (this machine's config file and activity log) or
	// "postgres" (a team store, setting store.url).
	Store string `json:"store"`
	// Secrets is the secrets.backend in force: keyring, file, ...
	Secrets string `json:"secrets"`
}

// Backends reads the local settings only: it never connects to a team
// store or a secret store.
func (d *Deps) Backends() (Backends, error) {
	cfg, err := d.Settings()
	if err != nil {
		return Backends{}, err
	}
	b := Backends{Store: "file", Secrets: cfg.String("secrets.backend")}
	if cfg.String("store.url") != "" {
		b.Store = "postgres"
	}
	return b, nil
}

// Settings is the local config file, for the commands that read and change
// settings (config get, list, set, unset): settings always live in the
// local file, and reading them never needs the team store (so a wrong
// store.url can be corrected). Where LocalConfig is not set (tests), it is
// Config.
func (d *Deps) Settings() (configstore.Config, error) {
	if d.LocalConfig == nil {
		if d.Config == nil {
			return nil, errors.New("no config in this process")
		}
		return d.Config()
	}
	s, err := d.LocalConfig()
	if err != nil {
		return nil, err
	}
	return s, nil
}

// openConfig is System's Config: the local file, or, when store.url is
// set, the team store's definitions joined with the local file's settings.
func (d *Deps) openConfig() (configstore.Config, error) {
	local, err := d.LocalConfig()
	if err != nil {
		return nil, err
	}
	if local.String("store.url") == "" {
		return local, nil
	}
	db, err := d.teamStore()
	if err != nil {
		return nil, err
	}
	defs, err := db.Definitions(context.Background())
	if err != nil {
		return nil, err
	}
	return configstore.Join(defs, local.SettingsView), nil
}

// openTeamStore connects to the team store named by store.url (or
// CONNCTL_STORE_URL); System keeps one per process.
func (d *Deps) openTeamStore() (*pgstore.DB, error) {
	local, err := d.LocalConfig()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return pgstore.Open(context.Background(), local.String("store.url"), pgstore.Options{Who: d.Who(), Host: host, Now: d.Now, CacheDir: d.CacheDir()})
}

// teamActivities is the team store's activity log when store.url is set;
// nil, nil otherwise.
func (d *Deps) teamActivities() (activitylog.Log, error) {
	if d.LocalConfig == nil || d.teamStore == nil {
		return nil, nil
	}
	local, err := d.LocalConfig()
	if err != nil || local.String("store.url") == "" {
		return nil, err
	}
	db, err := d.teamStore()
	if err != nil {
		return nil, err
	}
	return db.Log(), nil
}

// sharedRefreshLock is the team store's refresh lock when store.url is
// set; nil otherwise.
func (d *Deps) sharedRefreshLock() (func(ctx context.Context, connID string) (func(), error), error) {
	if d.LocalConfig == nil || d.teamStore == nil {
		return nil, nil
	}
	local, err := d.LocalConfig()
	if err != nil || local.String("store.url") == "" {
		return nil, err
	}
	db, err := d.teamStore()
	if err != nil {
		return nil, err
	}
	return db.LockRefresh, nil
}
