package configstore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var benchNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// benchConn is a connection of the shape the list benchmarks use (an s3
// connection with two fields and one secret).
func benchConn(i, n int) Connection {
	return Connection{
		ID: fmt.Sprintf("conn_%016x", i), Name: fmt.Sprintf("Conn-%06d", n-i), Connector: "s3",
		Fields:  map[string]string{"bucket": fmt.Sprintf("bucket-%d", i), "access_key_id": "AKIAIOSFODNN7EXAMPLE"},
		Secrets: []string{"secret_access_key"}, SecretBackend: "keyring", Status: StatusAuthorized,
		Account: "arn:aws:iam::123456789012:user/etl", CreatedAt: benchNow.Add(-time.Duration(i) * time.Minute), UpdatedAt: benchNow,
	}
}

// writeBenchConfig writes a config of n connections at a fresh path.
func writeBenchConfig(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yaml")
	s, err := Open(path, noEnv)
	if err != nil {
		tb.Fatal(err)
	}
	err = s.Update(context.Background(), func(d *Document) error {
		d.Settings = map[string]any{"limits": map[string]any{"crm": 2}}
		d.Connections = make([]Connection, 0, n)
		for i := range n {
			d.Connections = append(d.Connections, benchConn(i, n))
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkOpen10k: reading a 10,000-connection config (3.3 MB): warm (the
// parse cache is valid) and edited (one connection changed by hand since
// the cache was written, as after `$EDITOR config.yaml`).
func BenchmarkOpen10k(b *testing.B) {
	path := writeBenchConfig(b, 10_000)
	if _, err := Open(path, noEnv); err != nil {
		b.Fatal(err)
	}
	b.Run("warm", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Open(path, noEnv); err != nil {
				b.Fatal(err)
			}
		}
	})
	// cold: no parse cache (removed before each read), as on the first
	// run after the cache folder was emptied.
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			if err := os.Remove(cachePath(path)); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := Open(path, noEnv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("edited", func(b *testing.B) {
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		versions := [2][]byte{
			bytes.Replace(raw, []byte("bucket: bucket-5000\n"), []byte("bucket: bucket-5000a\n"), 1),
			bytes.Replace(raw, []byte("bucket: bucket-5000\n"), []byte("bucket: bucket-5000b\n"), 1),
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			b.StopTimer()
			if err := os.WriteFile(path, versions[i%2], 0o600); err != nil {
				b.Fatal(err)
			}
			i++
			b.StartTimer()
			if _, err := Open(path, noEnv); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCreate10k: `connctl create` with 10,000 connections present:
// open the config, then add one connection under the lock (read again,
// validate, encode, write, fsync, rename, parse cache).
func BenchmarkCreate10k(b *testing.B) {
	path := writeBenchConfig(b, 10_000)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s, err := Open(path, noEnv)
		if err != nil {
			b.Fatal(err)
		}
		name := fmt.Sprintf("new-%d", i)
		i++
		err = s.Update(context.Background(), func(d *Document) error {
			c := benchConn(20_000+i, 0)
			c.Name = name
			d.Connections = append(d.Connections, c)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
