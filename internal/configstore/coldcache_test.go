package configstore

import (
	"context"
	"crypto/sha256"
	"os"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
)

// TestColdReadStraightToCache: a large config read with no valid parse
// cache (the first run after a hand edit) goes straight into a parse cache
// read lazily (parseToCache), never a whole Document, and gives exactly
// what a parse of the file gives: the same Document, the same cache that
// storeCached writes for it (valid only for these exact bytes), and
// for a file that breaks a rule, the same error, line number included
// (the fallback words it).
func TestColdReadStraightToCache(t *testing.T) {
	t.Parallel()
	path := writeBenchConfig(t, 4000) // over chunkedThreshold
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	rich := richDocument()
	err = s.Update(context.Background(), func(d *Document) error {
		d.Settings["keyring"] = map[string]any{"timeout": "30s"}
		d.Connections = append(d.Connections, rich.Connections...)
		d.Connections = append(d.Connections, Connection{ID: "conn_empty", Name: "empty", Connector: "s3", Status: StatusRevoked,
			OAuth: &OAuthState{}, Fields: map[string]string{}, Secrets: []string{}})
		d.Jobs = append(d.Jobs, rich.Jobs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	edit := func(old, new string) string {
		t.Helper()
		out := strings.Replace(text, old, new, 1)
		if out == text {
			t.Fatalf("edit %q did nothing", old)
		}
		return out
	}
	cases := []struct {
		name string
		text string
		lazy bool // read by parseToCache (else the fallback)
	}{
		{"as written", text, true},
		{"hand edited", edit("bucket: bucket-3000\n", "bucket: bucket-3000x # edited\n"), true},
		{"unknown top-level key", edit("jobs:\n", "jobs: []\nold_jobs:\n"), false},
		{"duplicate id", edit("id: conn_0000000000000014\n", "id: conn_000000000000000a\n"), false},
		{"names differ in case", edit("name: Conn-003990\n", "name: CONN-003991\n"), false},
		{"bad name", edit("name: Conn-003990\n", "name: \"\"\n"), false},
		{"control character", edit("bucket: bucket-3000\n", "bucket: \"bucket-\\u202E\"\n"), false},
		{"no connector", edit("connector: s3\n", "connector: \"\"\n"), false},
		{"bad status", edit("status: authorized\n", "status: bogus\n"), false},
		{"unknown key", edit("  - id: conn_0000000000000014\n", "  - id: conn_0000000000000014\n    colour: red\n"), false},
		{"job without its connection", edit("connection_id: conn_1\n", "connection_id: conn_nope\n"), false},
		{"job with a connection's id", edit("id: job_1\n", "id: conn_1\n"), false},
		{"schema too new", edit("schema_version: 1\n", "schema_version: 99\n"), false},
		{"another layout", "---\n" + text, false},
	}
	for _, tc := range cases {
		if err := os.Remove(cachePath(path)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		want, sums, wantErr := parseDocument(path, []byte(tc.text), nil)
		// Built in memory (no cache folder, or the one on disk replaced
		// meanwhile) and spilled to disk (the usual way).
		inMemory, err := readDocumentWith(path, nil, spillNever)
		if fmtErr(err) != fmtErr(wantErr) {
			t.Errorf("%s, in memory: error %v, a parse of the file says %v", tc.name, err, wantErr)
		} else if err == nil {
			if got, err := inMemory.document(); err != nil || !reflect.DeepEqual(got, want) || (inMemory.lazy != nil) != tc.lazy {
				t.Errorf("%s, in memory: Document differs from a parse of the file (%v)", tc.name, err)
			}
		}
		if err := os.Remove(cachePath(path)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		r, err := readDocumentWith(path, nil, spillAlways)
		if fmtErr(err) != fmtErr(wantErr) {
			t.Errorf("%s: error %v, a parse of the file says %v", tc.name, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if (r.lazy != nil) != tc.lazy {
			t.Errorf("%s: read straight into a parse cache: %v, want %v", tc.name, r.lazy != nil, tc.lazy)
		}
		if got, err := r.document(); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Document differs from a parse of the file (%v)", tc.name, err)
		}
		sum := sha256.Sum256([]byte(tc.text))
		settings, err := tagSettings(want.Settings)
		if err != nil {
			t.Fatal(err)
		}
		wantCache, err := encodeCache(sum[:], settings, &want, sums, 0)
		if err != nil {
			t.Fatal(err)
		}
		// (Settings are JSON objects, whose key order varies: the caches
		// are compared decoded.)
		got, err := os.ReadFile(cachePath(path))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, sealed := unsealCache(got)
		if !sealed {
			t.Errorf("%s: the cache written has no valid CRC-32C trailer", tc.name)
		}
		gc, err1 := decodeCache(got)
		wc, err2 := decodeCache(wantCache)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(gc, wc) {
			t.Errorf("%s: the cache written is not storeCached's for the parse (%v, %v)", tc.name, err1, err2)
		}
		if c := loadCacheFile(path, len(tc.text)); !c.valid(sum) {
			t.Errorf("%s: the cache is not valid for the file's bytes", tc.name)
		}
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestLowerGCOverlapping: cold reads that overlap restore the GOGC the
// first one found, whichever ends last.
func TestLowerGCOverlapping(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	a := lowerGC()
	b := lowerGC()
	a()
	if got := debug.SetGCPercent(coldGCPercent); got != coldGCPercent {
		t.Errorf("GOGC %d while a cold read runs, want %d", got, coldGCPercent)
	}
	b()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC %d after both, want 100", got)
	}
}
