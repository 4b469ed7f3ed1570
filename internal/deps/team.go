package deps

import (
	"context"
	"os"
	"path/filepath"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/vaultstore"
)

// OpenTeamStore connects to the team store at url, whatever store.url
// says (connctl team init and export name it); the caller closes it.
func (d *Deps) OpenTeamStore(ctx context.Context, url string) (*pgstore.DB, error) {
	host, _ := os.Hostname()
	return pgstore.Open(ctx, url, pgstore.Options{Who: d.Who(), Host: host, Now: d.Now, CacheDir: d.CacheDir()})
}

// LocalActivities opens this machine's own activity log (never the team
// store's), creating it when create is set; nil, nil when it does not
// exist and create is not set. The caller closes it.
func (d *Deps) LocalActivities(create bool) (*activitylog.Store, error) {
	path := filepath.Join(d.StateDir(), activitylog.FileName)
	if _, err := os.Stat(path); err != nil && !create {
		return nil, nil
	}
	return activitylog.Open(path, activitylog.WithClock(d.Now))
}

// OpenVault opens the Vault at addr (VAULT_ADDR and vault.addr do not
// apply; from names where addr came from, for messages), with the local
// settings' vault.mount and vault.path and Vault's own token conventions.
func (d *Deps) OpenVault(addr, from string) (*vaultstore.Store, error) {
	cfg, err := d.Settings()
	if err != nil {
		return nil, err
	}
	getenv := func(k string) string {
		if k == "VAULT_ADDR" {
			return ""
		}
		return d.Getenv(k)
	}
	return vaultstore.New(vaultstore.Config{Addr: addr, AddrFrom: from, Mount: cfg.String("vault.mount"), Path: cfg.String("vault.path"), Getenv: getenv})
}
