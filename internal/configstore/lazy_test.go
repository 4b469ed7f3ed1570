package configstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"reflect"
	"testing"
)

// lazyConfig writes a config over cacheThreshold (so a parse cache is
// kept) whose connections and jobs use every field, and returns its path.
func lazyConfig(t *testing.T) string {
	t.Helper()
	path := writeBenchConfig(t, 1500)
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	rich := richDocument()
	err = s.Update(context.Background(), func(d *Document) error {
		d.Settings["secrets"] = map[string]any{"backend": "file"}
		d.Connections = append(d.Connections, rich.Connections...)
		d.Connections = append(d.Connections, Connection{ID: "conn_empty", Name: "empty", Connector: "s3", Status: StatusRevoked,
			OAuth: &OAuthState{}})
		d.Jobs = append(d.Jobs, rich.Jobs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// collect returns the connections EachConnection gives, deep copies (the
// memory it hands over is reused from one to the next).
func collect(t *testing.T, defs Definitions) []Connection {
	t.Helper()
	var out []Connection
	if err := EachConnection(defs, func(c *Connection) error {
		out = append(out, cloneConnection(c))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// isLazy reports whether s has not decoded its parse cache (yet).
func isLazy(s *Store) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc == nil && s.lazy != nil
}

// defsOnly hides every method of a Definitions but the interface's, as a
// backend without EachConnection (pgstore) has.
type defsOnly struct{ Definitions }

// TestLazyDecodeMatchesEager: with a valid parse cache, Open decodes no
// connection; settings are read, and EachConnection gives, one at a time,
// exactly the connections a parse of the file gives, in file order, as do
// Document, a Join and a backend without EachConnection.
func TestLazyDecodeMatchesEager(t *testing.T) {
	t.Parallel()
	path := lazyConfig(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := parseDocument(path, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !isLazy(s) {
		t.Fatal("Open decoded the parse cache")
	}
	if got := s.String("secrets.backend"); got != "file" {
		t.Errorf("secrets.backend = %q, want file", got)
	}
	if got := s.Int("limits.crm"); got != 2 {
		t.Errorf("limits.crm = %d", got)
	}
	if len(s.All()) == 0 {
		t.Error("no settings")
	}
	if n := ConnectionCount(s); n != len(want.Connections) {
		t.Errorf("ConnectionCount = %d, want %d", n, len(want.Connections))
	}
	if got := collect(t, s); !reflect.DeepEqual(got, want.Connections) {
		t.Fatalf("EachConnection differs from a parse of the file (%d vs %d connections)", len(got), len(want.Connections))
	}
	if !isLazy(s) {
		t.Error("settings or EachConnection decoded the whole cache")
	}
	// Stopping early returns fn's error.
	stop := errTest("stop")
	n := 0
	if err := s.EachConnection(func(*Connection) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("EachConnection did not stop at the first error: %v after %d", err, n)
	}
	if got := collect(t, defsOnly{s}); !reflect.DeepEqual(got, want.Connections) {
		t.Error("EachConnection of a Definitions without the method differs")
	}
	if got := collect(t, Join(s, s.SettingsView)); !reflect.DeepEqual(got, want.Connections) {
		t.Error("EachConnection of a Join differs")
	}
	for _, defs := range []Definitions{s, defsOnly{s}, Join(s, s.SettingsView)} {
		if n := ConnectionCount(defs); n != len(want.Connections) {
			t.Errorf("ConnectionCount(%T) = %d, want %d", defs, n, len(want.Connections))
		}
	}
	if doc := s.Document(); !reflect.DeepEqual(*doc, want) {
		t.Fatal("Document of a lazily read cache differs from a parse of the file")
	}
	if got := collect(t, s); !reflect.DeepEqual(got, want.Connections) {
		t.Error("EachConnection after Document differs")
	}
}

// TestEachConnectionAt: EachConnectionAt gives the connections at the
// indices asked for, in that order (repeats included), the same whether
// read lazily from the parse cache, after Document, through a Join or
// from a backend without the method; an index out of range is an error
// before any connection is given, and fn's error stops it.
func TestEachConnectionAt(t *testing.T) {
	t.Parallel()
	path := lazyConfig(t)
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !isLazy(s) {
		t.Fatal("Open decoded the parse cache")
	}
	all := collect(t, s)
	n := len(all)
	at := []int{n - 1, 0, n / 2, n - 2, 0, 7, n - 1}
	check := func(name string, defs Definitions) {
		t.Helper()
		var got []Connection
		if err := EachConnectionAt(defs, at, func(c *Connection) error {
			got = append(got, cloneConnection(c))
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, i := range at {
			if k >= len(got) || !reflect.DeepEqual(got[k], all[i]) {
				t.Fatalf("%s: connection %d (index %d) differs", name, k, i)
			}
		}
		if len(got) != len(at) {
			t.Errorf("%s: %d connections, want %d", name, len(got), len(at))
		}
		for _, bad := range [][]int{{0, n}, {-1}} {
			calls := 0
			if err := EachConnectionAt(defs, bad, func(*Connection) error { calls++; return nil }); err == nil || calls != 0 {
				t.Errorf("%s: indices %v: err %v after %d calls", name, bad, err, calls)
			}
		}
		stop := errTest("stop")
		calls := 0
		if err := EachConnectionAt(defs, at, func(*Connection) error { calls++; return stop }); err != stop || calls != 1 {
			t.Errorf("%s: did not stop at fn's error: %v after %d", name, err, calls)
		}
	}
	check("lazy", s)
	check("join", Join(s, s.SettingsView))
	if !isLazy(s) {
		t.Error("EachConnectionAt decoded the whole cache")
	}
	check("without the method", defsOnly{s})
	s.Document()
	check("after Document", s)
}

type errTest string

func (e errTest) Error() string { return string(e) }

// TestLazyDecodeStaleOrCorruptCache: a cache made from other bytes (a hand
// edit) or damaged in any way gives, lazily, exactly what the eager path
// gives: the parse of the file when the cache is refused, else the cache's
// own Document.
func TestLazyDecodeStaleOrCorruptCache(t *testing.T) {
	t.Parallel()
	path := lazyConfig(t)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cache := cachePath(path)
	good, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(raw, []byte("bucket: bucket-700\n"), []byte("bucket: bucket-700-edited\n"), 1)
	if bytes.Equal(edited, raw) {
		t.Fatal("the edit did nothing")
	}
	damage := map[string][]byte{
		"truncated":      good[:len(good)/2],
		"one byte short": good[:len(good)-1],
		"garbage after":  append(append([]byte(nil), good...), 0xff, 0x01),
		"empty":          {},
		"magic only":     []byte(cacheMagic),
	}
	for _, at := range []int{len(cacheMagic) + 40, len(good) / 3, len(good) - 10} {
		b := append([]byte(nil), good...)
		b[at] ^= 0xa5
		damage[fmt.Sprintf("flipped byte at %d", at)] = b
	}
	check := func(name string, text []byte) {
		t.Helper()
		want, _, err := parseDocument(path, text, nil)
		if err != nil {
			t.Fatal(err)
		}
		lazy, errL := Open(path, noEnv)
		eager, errE := Open(path, noEnv)
		if (errL == nil) != (errE == nil) {
			t.Fatalf("%s: errors differ: %v, %v", name, errL, errE)
		}
		if errL != nil {
			return
		}
		got := collect(t, lazy)
		if doc := eager.Document(); !reflect.DeepEqual(got, doc.Connections) {
			t.Errorf("%s: EachConnection differs from Document", name)
		}
		if !isLazy(lazy) && !reflect.DeepEqual(got, want.Connections) { // the cache was refused
			t.Errorf("%s: the file was parsed, but EachConnection differs from its parse", name)
		}
	}
	// A stale cache: the file edited by hand after the cache was written.
	if err := os.WriteFile(path, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cache, good, 0o600); err != nil {
		t.Fatal(err)
	}
	check("stale", edited)
	// A damaged cache of the very bytes of the file.
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, b := range damage {
		if err := os.WriteFile(cache, b, 0o600); err != nil {
			t.Fatal(err)
		}
		// The CRC-32C trailer refuses every one of them.
		if loadCacheFile(path, len(raw)) != nil {
			t.Errorf("%s: a damaged cache was read", name)
		}
		check(name, raw)
	}
	// A torn write (the file's length, its end zeroed, as a crash after a
	// rename without fsync can leave it) is refused too.
	torn := append([]byte(nil), good...)
	clear(torn[len(torn)/2:])
	if err := os.WriteFile(cache, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	if loadCacheFile(path, len(raw)) != nil {
		t.Error("a torn cache was read")
	}
	check("torn", raw)
}

// TestUpdateAfterLazyOpen: an Update of a Store that has not decoded its
// cache starts from the file's connections, and changing them changes
// nothing EachConnection reads.
func TestUpdateAfterLazyOpen(t *testing.T) {
	t.Parallel()
	path := lazyConfig(t)
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	orig := collect(t, s)
	before := orig[0].Fields["bucket"]
	var during []Connection
	err = s.Update(context.Background(), func(d *Document) error {
		d.Connections[0].Fields["bucket"] = "changed"
		d.Settings["limits"].(map[string]any)["crm"] = 5
		during = collect(t, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if during[0].Fields["bucket"] != before || !reflect.DeepEqual(during, orig) {
		t.Error("changing the Update's document changed what the Store reads")
	}
	if s.Document().Connections[0].Fields["bucket"] != "changed" || s.Int("limits.crm") != 5 {
		t.Error("the Update was lost")
	}
	again, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, again); got[0].Fields["bucket"] != "changed" || again.Int("limits.crm") != 5 {
		t.Error("the file or its cache does not hold the Update")
	}
}

// FuzzScanCache: whatever bytes scanCache accepts decode without error,
// whole or one connection at a time, to the same connections.
func FuzzScanCache(f *testing.F) {
	doc := richDocument()
	delete(doc.Settings, "odd")
	doc.Connections = append(doc.Connections, Connection{ID: "conn_2", Name: "b", Connector: "s3", Status: StatusAuthorized,
		Fields: map[string]string{}, Secrets: []string{}, OAuth: &OAuthState{}})
	settings, err := tagSettings(doc.Settings)
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256([]byte("x"))
	good, err := encodeCache(sum[:], settings, &doc, []chunkSum{{1}, {2}}, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := scanCache(b)
		if err != nil {
			return
		}
		d, err := c.document()
		if err != nil {
			t.Fatalf("scanned cache does not decode: %v", err)
		}
		for _, scratch := range []bool{false, true} {
			i := 0
			if err := c.each(scratch, func(x *Connection) error {
				if i >= len(d.Connections) || !reflect.DeepEqual(*x, d.Connections[i]) {
					t.Fatalf("scratch=%v: connection %d differs from document's", scratch, i)
				}
				i++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if i != len(d.Connections) {
				t.Fatalf("scratch=%v: %d connections, document has %d", scratch, i, len(d.Connections))
			}
		}
		// Each connection on its own, last first.
		at := make([]int, len(d.Connections))
		for i := range at {
			at[i] = len(at) - 1 - i
		}
		k := 0
		if err := c.eachAt(at, func(x *Connection) error {
			if !reflect.DeepEqual(*x, d.Connections[at[k]]) {
				t.Fatalf("eachAt: connection %d differs from document's", at[k])
			}
			k++
			return nil
		}); err != nil || k != len(at) {
			t.Fatalf("eachAt: %v after %d of %d", err, k, len(at))
		}
	})
}
