package configstore

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestDecodeChunkedMatchesWhole: for files connctl writes, and hand edits of
// them, decoding one connection at a time gives what yaml.v3 gives for the
// whole file; for layouts it does not handle it declines.
func TestDecodeChunkedMatchesWhole(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 12, 30, 5, 0, time.UTC)
	doc := Document{
		SchemaVersion: 1,
		Settings:      map[string]any{"limits": map[string]any{"crm": 2}},
		Connections: []Connection{
			{ID: "conn_1", Name: "CRM-Prod", Connector: "salesforce", Auth: "oauth2", Status: StatusNotAuthorized, CreatedAt: at, UpdatedAt: at},
			{ID: "conn_2", Name: "yes", Connector: "s3", Fields: map[string]string{"prefix": "a: b # c", "multi": "line1\nline2", "star": "*x", "amp": "&a", "dash": "  - x"},
				Secrets: []string{"secret_access_key"}, Status: StatusAuthorized, CreatedAt: at, UpdatedAt: at, AuthorizedAt: &at},
			{ID: "conn_3", Name: "sf", Connector: "salesforce", Status: StatusAuthorized, CreatedAt: at, UpdatedAt: at,
				OAuth: &OAuthState{Scopes: []string{"api"}, ExpiresAt: &at, Extra: map[string]string{"yes": "no"}}},
		},
		Jobs: []Job{{ID: "job_1", Name: "Tickets", ConnectionID: "conn_2", Source: "tickets", Dest: "-", Format: "ndjson", Mode: "full", CreatedAt: at, UpdatedAt: at}},
	}
	out, err := encodeDocument(&doc)
	if err != nil {
		t.Fatal(err)
	}
	written := string(out)
	handEdited := strings.Replace(written, "  - id: conn_2\n", "  # a note\n\n  - id: conn_2\n", 1) + "# the end\n"
	for name, tc := range map[string]struct {
		raw  string
		want bool
	}{
		"as written":                    {written, true},
		"with comments and blank lines": {handEdited, true},
		"alias across items":            {strings.Replace(strings.Replace(written, "connector: salesforce\n", "connector: &c salesforce\n", 1), "connector: s3", "connector: *c", 1), false},
		"flow list":                     {"schema_version: 1\nconnections: [{id: conn_1, name: a, connector: s3, status: authorized}]\n", false},
		"a second document":             {written + "---\nschema_version: 1\n", true},
		"a document marker first":       {"---\n" + written, false},
		"unknown field":                 {strings.Replace(written, "    connector: s3\n", "    connector: s3\n    colour: red\n", 1), false},
	} {
		got, _, ok := decodeChunked([]byte(tc.raw), nil)
		if ok != tc.want {
			t.Errorf("%s: chunked %v, want %v", name, ok, tc.want)
			continue
		}
		if !ok {
			continue
		}
		var whole Document
		if err := decodeWhole("config.yaml", []byte(tc.raw), &whole); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, whole) {
			t.Errorf("%s: chunked\n%+v\nwhole\n%+v", name, got, whole)
		}
	}
}
