package list

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/pgstore"
	"github.com/connctl/connctl/internal/testpeer/postgres"
)

// BenchmarkList10kTeam measures `connctl list` over the same 10,000
// connections as BenchmarkList10k/pipe, kept in a team store on a real
// PostgreSQL on the loopback: each op connects and checks the schema, as a
// fresh process does, then reads the definitions: postgres from the local
// cache of a machine that listed them before (one query for the
// generation), postgres-edited from it and the one row another machine
// changed since, postgres-uncached every row (docs/performance.md, "Team
// store"). file is the local config file, for comparison in one run.
func BenchmarkList10kTeam(b *testing.B) {
	path := writeConfig(b, 10000)
	srv := postgres.Start(b)
	url := srv.NewDatabase(b)
	ctx := context.Background()
	local, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	db, err := pgstore.Open(ctx, url, pgstore.Options{Who: "bench", Host: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defs, err := db.Definitions(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := defs.Update(ctx, func(d *configstore.Document) error {
		d.Connections = append(d.Connections, local.Connections()...)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	db.Close()
	b.Run("file", func(b *testing.B) {
		for b.Loop() {
			d, _ := testDeps(path, false)
			if err := run(ctx, newOptions(d)); err != nil {
				b.Fatal(err)
			}
		}
	})
	cacheDir := b.TempDir()
	editor, err := pgstore.Open(ctx, url, pgstore.Options{Who: "other", Host: "other"})
	if err != nil {
		b.Fatal(err)
	}
	defer editor.Close()
	edits, err := editor.Definitions(ctx)
	if err != nil {
		b.Fatal(err)
	}
	edit := func(b *testing.B) { // another machine changes one connection
		b.StopTimer()
		defer b.StartTimer()
		if err := edits.Update(ctx, func(d *configstore.Document) error {
			c := &d.Connections[len(d.Connections)/2]
			c.Fields = map[string]string{"bucket": fmt.Sprint(time.Now().UnixNano())}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, cacheDir string
		edit           bool
	}{
		{"postgres", cacheDir, false},       // a machine that listed before: the local cache
		{"postgres-edited", cacheDir, true}, // and another changed one connection since
		{"postgres-uncached", "", false},    // every row read and decoded
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if c.edit {
					edit(b)
				}
				d, _ := testDeps(path, false)
				var team *pgstore.DB
				d.Config = func() (configstore.Config, error) {
					var err error
					if team, err = pgstore.Open(ctx, url, pgstore.Options{Who: "bench", Host: "bench", CacheDir: c.cacheDir}); err != nil {
						return nil, err
					}
					defs, err := team.Definitions(ctx)
					if err != nil {
						return nil, err
					}
					return configstore.Join(defs, local.SettingsView), nil
				}
				if err := run(ctx, newOptions(d)); err != nil {
					b.Fatal(err)
				}
				team.Close()
			}
		})
	}
	b.Run("postgres-reload", func(b *testing.B) {
		team, err := pgstore.Open(ctx, url, pgstore.Options{Who: "bench", Host: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		defer team.Close()
		defs, err := team.Definitions(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if err := defs.Reload(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
