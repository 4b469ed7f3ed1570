package configstore

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseCacheRoundTrip: a Document comes back from the parse cache as it
// went in: nil and empty slices and maps, an empty oauth block, and each
// setting's Go type (an int stays an int, 1e6 a float64).
func TestParseCacheRoundTrip(t *testing.T) {
	t.Parallel()
	doc := richDocument()
	delete(doc.Settings, "odd") // map[any]any: not cached, tested below
	doc.Settings["ints"] = []any{1000000, uint64(1) << 63, -3, 0.5, -0.0, nil, "1e+06", false}
	doc.Connections = append(doc.Connections,
		Connection{ID: "conn_2", Name: "b", Connector: "s3", Status: StatusAuthorized, Fields: map[string]string{}, Secrets: []string{}, OAuth: &OAuthState{}},
		Connection{ID: "conn_3", Name: "c", Connector: "s3", Status: StatusAuthorized})
	path := filepath.Join(t.TempDir(), "config.yaml")
	sum := sha256.Sum256([]byte("x"))
	storeCached(path, cacheThreshold, sum, &doc, nil)
	c := loadCache(path, cacheThreshold)
	if !c.valid(sum) {
		t.Fatal("cache not written or not valid")
	}
	if !reflect.DeepEqual(c.Doc, doc) {
		t.Fatalf("cache round trip differs:\n got %#v\nwant %#v", c.Doc, doc)
	}
	if c.valid(sha256.Sum256([]byte("y"))) {
		t.Fatal("cache valid for other bytes")
	}

	// A setting the cache cannot hold exactly: no cache is written.
	odd := Document{SchemaVersion: 1, Settings: map[string]any{"x": map[any]any{1: 2}}}
	path2 := filepath.Join(t.TempDir(), "config.yaml")
	storeCached(path2, cacheThreshold, sum, &odd, nil)
	if loadCache(path2, cacheThreshold) != nil {
		t.Fatal("cached a setting it cannot hold")
	}
}

// TestEditedFileReusesUnchangedConnections: after a hand edit of a large
// config, the parse (reusing the cached parse of unchanged connections) is
// the same as a parse of the edited file from scratch, for edits inside a
// connection, of a comment, and that add, move or remove connections.
func TestEditedFileReusesUnchangedConnections(t *testing.T) {
	t.Parallel()
	path := writeBenchConfig(t, 4000) // over chunkedThreshold
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < chunkedThreshold {
		t.Fatalf("config of %d bytes is too small for the test", len(raw))
	}
	s, err := Open(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	orig := s.Document()
	conn := func(id string) string { // the lines of one connection
		i := bytes.Index(raw, []byte("  - id: "+id+"\n"))
		j := bytes.Index(raw[i+1:], []byte("  - id: "))
		return string(raw[i : i+1+j])
	}
	c10, c20 := conn("conn_000000000000000a"), conn("conn_0000000000000014")
	edits := map[string]string{
		"a field":            strings.Replace(string(raw), "bucket: bucket-3000\n", "bucket: bucket-3000x\n", 1),
		"a comment":          strings.Replace(string(raw), c20, c20+"  # note\n\n", 1),
		"removed":            strings.Replace(string(raw), c10, "", 1),
		"moved":              strings.Replace(strings.Replace(string(raw), c10, "", 1), c20, c20+c10, 1),
		"renamed":            strings.Replace(string(raw), "name: Conn-003990\n", "name: Renamed\n", 1),
		"a duplicate (fail)": strings.Replace(string(raw), c20, c20+c20, 1),
		"settings":           strings.Replace(string(raw), "crm: 2\n", "crm: 3\n", 1),
	}
	for name, text := range edits {
		if text == string(raw) {
			t.Fatalf("%s: edit did nothing", name)
		}
		// The cache holds the parse of the original file each time.
		storeCached(path, len(raw), sha256.Sum256(raw), orig, chunkSums(raw))
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := readDocument(path, nil)
		want, _, wantErr := parseDocument(path, []byte(text), nil)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%s: error %v, a fresh parse says %v", name, err, wantErr)
		}
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Errorf("%s: error %v, want %v", name, err, wantErr)
			}
			continue
		}
		if r.lazy == nil {
			t.Errorf("%s: not read straight into a parse cache (parseToCache)", name)
		}
		if got, err := r.document(); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reused parse differs from a fresh one (%v)", name, err)
		}
		// and the cache now holds the edited file's parse
		if c := loadCache(path, len(text)); !c.valid(sha256.Sum256([]byte(text))) || !reflect.DeepEqual(c.Doc, want) {
			t.Errorf("%s: cache not refreshed", name)
		}
	}
}

// FuzzDecodeCache: any bytes in the cache file give a Document or an error
// (the file is then parsed), never a panic or a huge allocation; what
// decodes encodes back to a cache that decodes to the same Document.
func FuzzDecodeCache(f *testing.F) {
	doc := richDocument()
	delete(doc.Settings, "odd")
	settings, err := tagSettings(doc.Settings)
	if err != nil {
		f.Fatal(err)
	}
	sum := sha256.Sum256([]byte("x"))
	good, err := encodeCache(sum[:], settings, &doc, []chunkSum{{1}}, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCache(b)
		if err != nil {
			return
		}
		settings, err := tagSettings(c.Doc.Settings)
		if err != nil {
			t.Fatal(err)
		}
		again, err := encodeCache(c.sum[:], settings, &c.Doc, c.sums, 0)
		if err != nil {
			return // a time MarshalBinary refuses
		}
		c2, err := decodeCache(again)
		if err != nil {
			t.Fatalf("re-encoded cache does not decode: %v", err)
		}
		if !reflect.DeepEqual(c2.Doc, c.Doc) && fmt.Sprint(c2.Doc) != fmt.Sprint(c.Doc) { // NaN settings
			t.Fatalf("differs:\n%#v\n%#v", c2.Doc, c.Doc)
		}
	})
}
