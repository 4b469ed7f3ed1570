package list

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/jsonexport"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func writeConfig(tb testing.TB, n int) string {
	tb.Helper()
	return writeConfigDated(tb, n, false)
}

// writeConfigDated is writeConfig with, when dated, each key's saved date
// (authorized_at) set, so that every connection has a key-age forecast.
func writeConfigDated(tb testing.TB, n int, dated bool) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	s, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	err = s.Update(context.Background(), func(d *configstore.Document) error {
		for i := range n {
			d.Connections = append(d.Connections, configstore.Connection{
				ID: fmt.Sprintf("conn_%016x", i), Name: fmt.Sprintf("Conn-%05d", n-i), Connector: "s3",
				Fields:  map[string]string{"bucket": fmt.Sprintf("bucket-%d", i), "access_key_id": "AKIAIOSFODNN7EXAMPLE"},
				Secrets: []string{"secret_access_key"}, SecretBackend: "keyring", Status: configstore.StatusAuthorized,
				Account: "arn:aws:iam::123456789012:user/etl", CreatedAt: now.Add(-time.Duration(i) * time.Minute), UpdatedAt: now,
			})
			if dated {
				at := now.Add(-time.Duration(i) * time.Hour)
				d.Connections[len(d.Connections)-1].AuthorizedAt = &at
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// testDeps reads the config at path, with a fixed clock and no activity log.
func testDeps(path string, tty bool) (*deps.Deps, *bytes.Buffer) {
	ios, _, out, _ := iostreams.Test()
	ios.SetTTY(false, tty, false)
	d := &deps.Deps{IO: ios, Getenv: func(string) string { return "" }, Now: func() time.Time { return now }}
	d.Catalog = sync.OnceValue(all.Catalogue)
	d.Config = func() (configstore.Config, error) { return configstore.Open(path, d.Getenv) }
	return d, out
}

// withDeps returns o with d's services filled in, as NewCmd does.
func withDeps(d *deps.Deps, o Options) *Options {
	n := newOptions(d)
	o.IO, o.Config, o.Catalog, o.FailedLastDay, o.Now = n.IO, n.Config, n.Catalog, n.FailedLastDay, n.Now
	return &o
}

func runList(t *testing.T, path string, tty bool, opts Options) string {
	t.Helper()
	d, out := testDeps(path, tty)
	if err := run(context.Background(), withDeps(d, opts)); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestListPipeAndTTY(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 3)
	pipe := runList(t, path, false, Options{})
	want := "Conn-00001\ts3\tauthorized\tarn:aws:iam::123456789012:user/etl\t2026-11-26T11:58:00Z\t0\n" +
		"Conn-00002\ts3\tauthorized\tarn:aws:iam::123456789012:user/etl\t2026-11-26T11:59:00Z\t0\n" +
		"Conn-00003\ts3\tauthorized\tarn:aws:iam::123456789012:user/etl\t2026-11-26T12:00:00Z\t0\n"
	if pipe != want {
		t.Fatalf("pipe:\n%s\nwant:\n%s", pipe, want)
	}
	tty := runList(t, path, true, Options{Search: "0002"})
	if !strings.HasPrefix(tty, "NAME ") || !strings.Contains(tty, "Conn-00002") || strings.Contains(tty, "Conn-00001") || !strings.Contains(tty, "1m ago") {
		t.Fatalf("tty:\n%s", tty)
	}
	exp, _ := jsonexport.New(jsonexport.JSON, "", nil)
	js := runList(t, path, false, Options{Status: "revoked", Export: exp})
	if js != "[]\n" {
		t.Fatalf("json: %q", js)
	}
}

// BenchmarkList10k measures `connctl list` over 10,000 connections: reading
// and parsing the config, filtering, sorting and printing (docs/performance.md).
func BenchmarkList10k(b *testing.B) {
	path := writeConfig(b, 10000)
	for _, mode := range []struct {
		name string
		tty  bool
	}{{"pipe", false}, {"tty", true}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				d, _ := testDeps(path, mode.tty)
				if err := run(context.Background(), newOptions(d)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// With a saved date on every key, each one has a forecast: the terminal
	// computes them all, and --expiring filters on them.
	dated := writeConfigDated(b, 10000, true)
	for _, mode := range []struct {
		name string
		tty  bool
		opts Options
	}{{"tty-forecasts", true, Options{}}, {"pipe-expiring", false, Options{Expiring: "400d"}}} {
		b.Run(mode.name, func(b *testing.B) {
			for b.Loop() {
				d, _ := testDeps(dated, mode.tty)
				if err := run(context.Background(), withDeps(d, mode.opts)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// -o json, written to nowhere: what is allocated is list's own, not
	// the output's (it streams).
	b.Run("json", func(b *testing.B) {
		exp, _ := jsonexport.New(jsonexport.JSON, "", nil)
		for b.Loop() {
			d, _ := testDeps(path, false)
			d.IO.Out = io.Discard
			opts := newOptions(d)
			opts.Export = exp
			if err := run(context.Background(), opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse-only", func(b *testing.B) {
		for b.Loop() {
			if _, err := configstore.Open(path, func(string) string { return "" }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
