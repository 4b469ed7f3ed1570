package pgstore

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/configstore"
)

// FuzzParseCache holds the local cache's reader to nil, never a panic, on
// any bytes, including bytes with a valid CRC (a file written by someone
// else, not damaged by chance); what it accepts decodes whole.
func FuzzParseCache(f *testing.F) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	doc := &configstore.Document{SchemaVersion: configstore.SchemaVersion, Connections: []configstore.Connection{
		{ID: "conn_a", Name: "a", Connector: "s3", Status: configstore.StatusAuthorized, Fields: map[string]string{"k": "v"}, CreatedAt: now, UpdatedAt: now},
	}, Jobs: []configstore.Job{{ID: "job_a", Name: "j", ConnectionID: "conn_a", CreatedAt: now, UpdatedAt: now}}}
	snap, err := configstore.EncodeSnapshot("g1", doc)
	if err != nil {
		f.Fatal(err)
	}
	var w teamCacheWriter
	w.row("conn_a", rowMeta{version: 3, by: "alice", host: "a", at: now, xmin: 77})
	w.row("job_a", rowMeta{version: 1, by: "bob", host: "b", at: now, xmin: 78})
	good := w.file("g1", snap)
	if parseCache(good) == nil {
		f.Fatal("a good file is refused")
	}
	f.Add(good[len(teamCacheMagic)+4:])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, rest []byte) {
		// rest with the magic and a valid CRC in front of it.
		b := append([]byte(teamCacheMagic), 0, 0, 0, 0)
		b = append(b, rest...)
		binary.LittleEndian.PutUint32(b[len(teamCacheMagic):], crc32.Checksum(rest, castagnoli()))
		c := parseCache(b)
		if c == nil {
			return
		}
		c.rows()
		c.index()
		c.materialize()
		_ = c.snap.EachConnection(func(*configstore.Connection) error { return nil })
	})
}
