package configstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/connctl/connctl/internal/atomicfile"
)

// cacheThreshold is the config size above which a parsed copy is kept as
// JSON: YAML parsing costs ~60 ms per 1,000 connections, JSON decoding a
// tenth of that. Small files are parsed directly.
const cacheThreshold = 256 << 10

// parseCache is a parsed config, valid only for the exact bytes it was made
// from (sum, their SHA-256). It holds nothing the config file does not (no
// secrets). Its layout is in cachecodec.go: settings are kept apart, each
// value tagged with its Go type (see tagValue), so that a number comes back
// as the int, uint64 or float64 yaml.v3 decoded, not as JSON's float64; sums
// holds, for a file in the layout decodeChunked reads, a digest of each
// connection's lines (in file order): after a hand edit, connections whose
// lines did not change are taken from here instead of parsed again.
type parseCache struct {
	sum  [sha256.Size]byte
	Doc  Document
	sums []chunkSum
}

func cachePath(configPath string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(configPath))
	return filepath.Join(dir, "connctl", "config-"+hex.EncodeToString(sum[:8])+".cache")
}

// loadCache is loadCacheFile decoded whole.
func loadCache(configPath string, size int) *parseCache {
	f := loadCacheFile(configPath, size)
	if f == nil {
		return nil
	}
	doc, err := f.document()
	if err != nil {
		return nil
	}
	return &parseCache{sum: f.sum, Doc: doc, sums: f.chunkSums()}
}

// valid reports whether c was made from the file whose digest is sum.
func (c *parseCache) valid(sum [sha256.Size]byte) bool {
	return c != nil && c.sum == sum
}

// loadCacheFile reads the parse cache kept for configPath, whichever bytes
// it was made from (nil if there is none or it cannot be read), checked
// from end to end but not decoded (scanCache). The caller checks that it
// is valid for the file's bytes.
func loadCacheFile(configPath string, size int) *cacheFile {
	if size < cacheThreshold {
		return nil
	}
	p := cachePath(configPath)
	if p == "" {
		return nil
	}
	b, err := os.ReadFile(p) // one allocation; the Document's strings point into it
	if err != nil {
		return nil
	}
	b, ok := unsealCache(b)
	if !ok {
		return nil
	}
	c, err := scanCache(b)
	if err != nil {
		return nil
	}
	return c
}

// valid reports whether c was made from the file whose digest is sum.
func (c *cacheFile) valid(sum [sha256.Size]byte) bool {
	return c != nil && c.sum == sum
}

// storeCached saves the parse of the file whose digest is sum, of size
// bytes, for the next run (best effort). sums are its connections' chunk
// digests, or nil. The cache is written atomically but without fsync: a
// cache lost in a crash is rebuilt from the file.
func storeCached(configPath string, size int, sum [sha256.Size]byte, doc *Document, sums []chunkSum) {
	if size < cacheThreshold {
		return
	}
	p := cachePath(configPath)
	if p == "" {
		return
	}
	settings, err := tagSettings(doc.Settings)
	if err != nil {
		return // a value the cache cannot hold exactly: parse the file next time
	}
	b, err := encodeCache(sum[:], settings, doc, sums, size+size/2)
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	_ = os.Remove(strings.TrimSuffix(p, ".cache") + ".json") // the JSON cache of connctl before 2026-12
	_ = atomicfile.Write(p, sealCache(b), atomicfile.Options{TempPattern: ".config-*.tmp", NoSync: true})
}

// tagSettings encodes settings as JSON in which every value says its Go
// type: ["s","text"], ["i","-3"], ["u","18446744073709551615"],
// ["f","1e+06"], ["b",true], ["n"], ["t","2026-01-01T00:00:00Z"],
// ["l",[...]], ["m",{"key":...}]. These are the types yaml.v3 decodes a
// document into; any other value is an error (the document is then not
// cached).
func tagSettings(m map[string]any) (jsontext.Value, error) {
	if m == nil {
		return nil, nil
	}
	t, err := tagValue(m)
	if err != nil {
		return nil, err
	}
	return json.Marshal(t)
}

func tagValue(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return []any{"n"}, nil
	case string:
		return []any{"s", v}, nil
	case bool:
		return []any{"b", v}, nil
	case int:
		return []any{"i", strconv.Itoa(v)}, nil
	case uint64:
		return []any{"u", strconv.FormatUint(v, 10)}, nil
	case float64:
		return []any{"f", strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case time.Time:
		if v.Location() != time.UTC {
			return nil, errors.New("a time outside UTC")
		}
		return []any{"t", v.Format(time.RFC3339Nano)}, nil
	case []any:
		l := make([]any, len(v))
		for i := range v {
			t, err := tagValue(v[i])
			if err != nil {
				return nil, err
			}
			l[i] = t
		}
		return []any{"l", l}, nil
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			t, err := tagValue(e)
			if err != nil {
				return nil, err
			}
			m[k] = t
		}
		return []any{"m", m}, nil
	}
	return nil, fmt.Errorf("a setting of type %T", v)
}

func untagSettings(raw jsontext.Value) (map[string]any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var t any
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	v, err := untagValue(t)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("settings are not a map")
	}
	return m, nil
}

func untagValue(t any) (any, error) {
	l, ok := t.([]any)
	if !ok || len(l) == 0 {
		return nil, errors.New("untagged value")
	}
	tag, _ := l[0].(string)
	if tag == "n" && len(l) == 1 {
		return nil, nil
	}
	if len(l) != 2 {
		return nil, errors.New("bad tagged value")
	}
	s, isString := l[1].(string)
	switch tag {
	case "s":
		if isString {
			return s, nil
		}
	case "b":
		if b, ok := l[1].(bool); ok {
			return b, nil
		}
	case "i":
		if isString {
			return strconv.Atoi(s)
		}
	case "u":
		if isString {
			return strconv.ParseUint(s, 10, 64)
		}
	case "f":
		if isString {
			return strconv.ParseFloat(s, 64) // reads "+Inf", "NaN" and "-0" back
		}
	case "t":
		if isString {
			return time.Parse(time.RFC3339Nano, s)
		}
	case "l":
		if in, ok := l[1].([]any); ok {
			out := make([]any, len(in))
			for i := range in {
				v, err := untagValue(in[i])
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}
	case "m":
		if in, ok := l[1].(map[string]any); ok {
			out := make(map[string]any, len(in))
			for k, e := range in {
				v, err := untagValue(e)
				if err != nil {
					return nil, err
				}
				out[k] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("bad tagged value %q", tag)
}
