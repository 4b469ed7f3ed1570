package configstore

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
)

// cacheThreshold is the config size above which a parsed copy is kept as
// JSON: YAML parsing costs ~60 ms per 1,000 connections, JSON decoding a
// tenth of that. Small files are parsed directly.
const cacheThreshold = 256 << 10

// parseCache is a parsed config, valid only for the exact bytes it was made
// from. It holds nothing the config file does not (no secrets).
type parseCache struct {
	SourceSHA256 string   `json:"source_sha256"`
	Doc          Document `json:"doc"`
}

func cachePath(configPath string) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(configPath))
	return filepath.Join(dir, "connctl", "config-"+hex.EncodeToString(sum[:8])+".json")
}

// loadCached returns the cached parse of raw, if there is a valid one.
func loadCached(configPath string, raw []byte) (Document, bool) {
	if len(raw) < cacheThreshold {
		return Document{}, false
	}
	p := cachePath(configPath)
	if p == "" {
		return Document{}, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return Document{}, false
	}
	var c parseCache
	sum := sha256.Sum256(raw)
	if json.Unmarshal(b, &c) != nil || c.SourceSHA256 != hex.EncodeToString(sum[:]) {
		return Document{}, false
	}
	return c.Doc, true
}

// storeCached saves the parse of raw for the next run (best effort).
func storeCached(configPath string, raw []byte, doc *Document) {
	if len(raw) < cacheThreshold {
		return
	}
	p := cachePath(configPath)
	if p == "" {
		return
	}
	sum := sha256.Sum256(raw)
	b, err := json.Marshal(parseCache{SourceSHA256: hex.EncodeToString(sum[:]), Doc: *doc})
	if err != nil {
		return
	}
	if os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	_ = writeAtomic(p, b, false)
}
