package configstore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"hash/maphash"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/connctl/connctl/internal/atomicfile"
)

// coldGCPercent is the GOGC parseToCache runs with on a config of at
// least bigConfig bytes, which is also the size from which it spills the
// cache to disk (toDisk): below, the memory saved (a few times the file) is not
// worth the extra collections and the cache read back (a 3.3 MB config of
// 10,000 connections is read in memory at the default GOGC).
const (
	coldGCPercent = 25
	bigConfig     = 16 << 20
)

// parseToCache is the cold read of a large config in the layout connctl
// writes (issue #17): it decodes the connections one at a time, as
// decodeChunked does, checks each as parseDocument would, and encodes it
// straight into a parse cache, which it writes (best effort) and returns
// scanned, to be read lazily. So no Document of every connection is ever
// held: only the file, the cache being built and hashes of the ids and
// names seen (for the uniqueness checks).
//
// Connections whose lines old (the parse cache of an earlier version of
// the file) knows are taken from it, as decodeChunked takes them.
//
// It reports false for anything but that happy path: another layout, a
// piece that does not decode, a rule broken, a value the cache cannot
// hold exactly. The caller then parses the file as before, which gives
// the very result or error (with its line number) it always gave; the
// cache is then valid only for these exact bytes (sum), as always.
//
// With toDisk (readDocument sets it for a config of bigConfig bytes or
// more), the parse runs with GOGC coldGCPercent and the cache is written as it is made to a temporary file
// renamed into place at the end, and not kept: parseToCache then returns
// nil, true, and the caller, having let go of the file's bytes, reads the
// cache back (loadCacheFile). So the file and its cache are never in
// memory together. Without toDisk, or with no cache folder, the cache is
// built in memory, returned scanned, and written (best effort).
func parseToCache(path string, raw []byte, sum [sha256.Size]byte, old *cacheFile, toDisk bool) (*cacheFile, bool) {
	rest, spans, ok := splitChunked(raw)
	if !ok || rest.SchemaVersion > SchemaVersion || rest.SchemaVersion < 0 {
		return nil, false
	}
	if rest.SchemaVersion == 0 {
		rest.SchemaVersion = SchemaVersion
	}
	settings, err := tagSettings(rest.Settings)
	if err != nil {
		return nil, false
	}
	// Each connection decoded is garbage a moment later, beside a live
	// heap of the file and the cache being built (100 MB at 145,672
	// connections): with the default GOGC the heap would grow to twice
	// that before each collection. Collecting more often bounds it at a
	// quarter more than what is live, for some CPU time.
	if toDisk {
		defer lowerGC()()
	}
	var reuse map[chunkSum]int // chunk digest -> connection of old
	if old != nil && len(old.sums) > 0 && len(old.offsets) == old.nConns {
		reuse = make(map[chunkSum]int, old.nConns)
		for i := range old.nConns {
			reuse[chunkSum(old.sums[i*chunkSumLen:(i+1)*chunkSumLen])] = i
		}
	}
	var sink *os.File
	var sinkErr error
	if p := cachePath(path); toDisk && p != "" && os.MkdirAll(filepath.Dir(p), 0o700) == nil {
		if f, err := os.CreateTemp(filepath.Dir(p), ".config-*.tmp"); err == nil {
			sink = f
			defer func() {
				if sink != nil { // not renamed into place
					_ = sink.Close()
					_ = os.Remove(sink.Name())
				}
			}()
		}
	}
	// The cache is smaller than the file (its keys are not repeated): a
	// 145,672-connection config of 53 MB makes a cache of 29 MB. Room is
	// counted by the garbage collector whether used or not.
	w := &cacheWriter{b: make([]byte, 0, len(raw)*5/8)}
	const piece = 256 << 10
	if sink != nil {
		w.b = make([]byte, 0, 2*piece)
	}
	var crc uint32    // of what went to sink, for the trailer
	spill := func() { // to the file, a piece at a time
		if sink != nil && len(w.b) >= piece {
			crc = crc32.Update(crc, castagnoli(), w.b)
			if _, err := sink.Write(w.b); err != nil && sinkErr == nil {
				sinkErr = err
			}
			w.b = w.b[:0]
		}
	}
	w.header(sum[:], string(settings), rest.SchemaVersion)
	w.count(len(spans), false)

	// The ids and names seen are kept as 64-bit hashes: a collision only
	// looks like a duplicate, which sends the file to the fallback, whose
	// exact check decides. What jobs refer to is checked exactly: the
	// jobs are known before the connections are read.
	seed := maphash.MakeSeed()
	seenID := make(map[uint64]struct{}, len(spans))
	seenName := make(map[uint64]struct{}, len(spans))
	jobRefs := make(map[string]bool, len(rest.Jobs)) // connection ids jobs use: found yet?
	jobIDs := make(map[string]bool, len(rest.Jobs))
	jobNames := make(map[string]bool, len(rest.Jobs))
	for i := range rest.Jobs {
		j := &rest.Jobs[i]
		key := NameKey(j.Name)
		if j.ID == "" || jobIDs[j.ID] || ValidateName(j.Name) != nil || jobNames[key] {
			return nil, false
		}
		jobIDs[j.ID], jobNames[key], jobRefs[j.ConnectionID] = true, true, false
	}
	sums := make([]byte, 0, len(spans)*chunkSumLen)
	oldReader := &cacheReader{scratch: true}
	var item bytes.Buffer
	for _, span := range spans {
		cs := sumChunk(span)
		sums = append(sums, cs[:]...)
		var c Connection
		if i, ok := reuse[cs]; ok {
			delete(reuse, cs)
			oldReader.b, oldReader.err = old.conns[old.offsets[i]:], nil
			oldReader.connection(&c)
			if oldReader.err != nil {
				return nil, false // never: scanCache read these bytes
			}
		} else {
			item.Reset()
			itemText(&item, span)
			if !decodeStrict(item.Bytes(), &c) {
				return nil, false
			}
		}
		// validateDocument's and checkFieldValues's rules, connection by
		// connection; the fallback words any error.
		if c.ID == "" || jobIDs[c.ID] || ValidateName(c.Name) != nil || c.Connector == "" || !fieldsSafe(c.Fields) {
			return nil, false
		}
		if _, err := ParseStatus(string(c.Status)); err != nil {
			return nil, false
		}
		id, name := maphash.String(seed, c.ID), maphash.String(seed, NameKey(c.Name))
		if _, dup := seenID[id]; dup {
			return nil, false
		}
		if _, dup := seenName[name]; dup {
			return nil, false
		}
		seenID[id], seenName[name] = struct{}{}, struct{}{}
		if _, ok := jobRefs[c.ID]; ok {
			jobRefs[c.ID] = true
		}
		if w.connection(&c) != nil {
			return nil, false
		}
		spill()
	}
	for _, found := range jobRefs {
		if !found {
			return nil, false
		}
	}
	if len(spans) > 0 {
		w.uvarint(uint64(len(spans)))
		w.b = append(w.b, sums...)
	} else {
		w.uvarint(0)
	}
	w.count(len(rest.Jobs), rest.Jobs == nil)
	for i := range rest.Jobs {
		if w.job(&rest.Jobs[i]) != nil {
			return nil, false
		}
	}
	if sink != nil {
		crc = crc32.Update(crc, castagnoli(), w.b)
		w.b = binary.LittleEndian.AppendUint32(w.b, crc)
		if _, err := sink.Write(w.b); err != nil && sinkErr == nil {
			sinkErr = err
		}
		if err := sink.Close(); err != nil && sinkErr == nil {
			sinkErr = err
		}
		if sinkErr != nil {
			return nil, false
		}
		p := cachePath(path)
		_ = os.Remove(strings.TrimSuffix(p, ".cache") + ".json") // the JSON cache of connctl before 2026-12
		if os.Rename(sink.Name(), p) != nil {
			return nil, false
		}
		sink = nil
		return nil, true
	}
	cf, err := scanCache(w.b)
	if err != nil {
		return nil, false // never: the bytes were written by cacheWriter
	}
	writeCacheFile(path, len(raw), w.b)
	return cf, true
}

// gcLow counts the cold reads running with GOGC coldGCPercent, so that
// the setting the first one replaced is restored by the last one, however
// they overlap (SetGCPercent is process-wide).
var gcLow struct {
	sync.Mutex
	n     int
	saved int
}

// lowerGC sets GOGC to coldGCPercent until the function it returns is
// called.
func lowerGC() (restore func()) {
	gcLow.Lock()
	if gcLow.n == 0 {
		gcLow.saved = debug.SetGCPercent(coldGCPercent)
	}
	gcLow.n++
	gcLow.Unlock()
	return func() {
		gcLow.Lock()
		gcLow.n--
		if gcLow.n == 0 {
			debug.SetGCPercent(gcLow.saved)
		}
		gcLow.Unlock()
	}
}

// writeCacheFile saves b, a parse cache of the config at configPath of
// size bytes, for the next run (best effort), as storeCached does.
func writeCacheFile(configPath string, size int, b []byte) {
	if size < cacheThreshold {
		return
	}
	p := cachePath(configPath)
	if p == "" {
		return
	}
	if os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	_ = os.Remove(strings.TrimSuffix(p, ".cache") + ".json") // the JSON cache of connctl before 2026-12
	_ = atomicfile.Write(p, sealCache(b), atomicfile.Options{TempPattern: ".config-*.tmp", NoSync: true})
}
