package configstore

import (
	"reflect"
	"testing"
)

// A snapshot round-trips a Document's connections and jobs exactly, is
// refused under another key, and a SnapshotBuilder that copies some
// definitions from it and encodes others makes the snapshot of the
// Document that holds them in that order.
func TestSnapshotAndBuilder(t *testing.T) {
	t.Parallel()
	doc := richDocument()
	doc.Settings = nil
	doc.SchemaVersion = SchemaVersion
	doc.Connections = append(doc.Connections,
		Connection{ID: "conn_2", Name: "b", Connector: "s3", Status: StatusAuthorized, Fields: map[string]string{}, Secrets: []string{}, OAuth: &OAuthState{}},
		Connection{ID: "conn_3", Name: "c", Connector: "s3", Status: StatusAuthorized})
	doc.Jobs = append(doc.Jobs, Job{ID: "job_2", Name: "j2", ConnectionID: "conn_2", Params: map[string]string{}})
	b, err := EncodeSnapshot("gen-1", &doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSnapshot("gen-2", b); err == nil {
		t.Fatal("a snapshot opened under another key")
	}
	s, err := OpenSnapshot("gen-1", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Document(); !reflect.DeepEqual(*got, doc) {
		t.Fatalf("snapshot round trip differs:\n got %#v\nwant %#v", *got, doc)
	}
	if s.ConnectionCount() != len(doc.Connections) || s.JobCount() != len(doc.Jobs) {
		t.Fatalf("counts %d, %d", s.ConnectionCount(), s.JobCount())
	}

	// Copy the last connection, add a new one, copy the first; copy the
	// second job, add one.
	added := Connection{ID: "conn_9", Name: "z", Connector: "hubspot", Status: StatusNotAuthorized, Fields: map[string]string{"k": "v"}}
	addedJob := Job{ID: "job_9", Name: "j9", ConnectionID: "conn_9", Params: map[string]string{"a": "b", "c": "d"}}
	var sb SnapshotBuilder
	last := len(doc.Connections) - 1
	sb.CopyConnection(s, last)
	sb.AddConnection(&added)
	sb.CopyConnection(s, 0)
	sb.CopyJob(s, len(doc.Jobs)-1)
	sb.AddJob(&addedJob)
	nb, err := sb.Bytes("gen-3")
	if err != nil {
		t.Fatal(err)
	}
	ns, err := OpenSnapshot("gen-3", nb)
	if err != nil {
		t.Fatalf("the builder's snapshot does not open: %v", err)
	}
	want := Document{SchemaVersion: SchemaVersion,
		Connections: []Connection{doc.Connections[last], added, doc.Connections[0]},
		Jobs:        []Job{doc.Jobs[len(doc.Jobs)-1], addedJob}}
	if got := ns.Document(); !reflect.DeepEqual(*got, want) {
		t.Fatalf("built snapshot differs:\n got %#v\nwant %#v", *got, want)
	}

	// Nothing added: no connections (an empty list) and no jobs (nil).
	var empty SnapshotBuilder
	eb, err := empty.Bytes("gen-4")
	if err != nil {
		t.Fatal(err)
	}
	es, err := OpenSnapshot("gen-4", eb)
	if err != nil {
		t.Fatal(err)
	}
	if got := es.Document(); got.Connections == nil || len(got.Connections) != 0 || got.Jobs != nil {
		t.Fatalf("empty build: %#v", got)
	}
}
