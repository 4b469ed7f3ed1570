package configstore

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 12, 30, 5, 123456789, time.UTC)
	doc := Document{
		SchemaVersion: 1,
		Settings:      map[string]any{"limits": map[string]any{"crm": 2}, "keyring": map[string]any{"timeout": "30s"}},
		Connections: []Connection{
			{ID: "conn_1", Name: "CRM-Prod", Connector: "salesforce", Auth: "oauth2", Status: StatusNotAuthorized, CreatedAt: at, UpdatedAt: at},
			{ID: "conn_2", Name: "yes", Connector: "s3", Fields: map[string]string{
				"bucket": "true", "endpoint": "http://127.0.0.1:9000", "region": "", "prefix": "a: b # c",
				"quote": `she said "hi"\n`, "unicode": "données – ✓", "num": "0123", "neg": "-1", "star": "*x", "amp": "&a",
				"multi": "line1\nline2", "tab": "a\tb", "lead": " x", "colon": "x:", "null": "~", "bang": "!x", "pct": "%x",
			}, Secrets: []string{"secret_access_key"}, SecretBackend: "keyring", Status: StatusAuthorized,
				Account: "arn:aws:iam::1:user/etl", CreatedAt: at, UpdatedAt: at, AuthorizedAt: &at},
			{ID: "conn_3", Name: "sf", Connector: "salesforce", Auth: "oauth2", Status: StatusAuthorized, CreatedAt: at, UpdatedAt: at,
				OAuth: &OAuthState{Scopes: []string{"api", "refresh_token"}, IssuedAt: &at, ExpiresAt: &at, APIBase: "https://acme.my.salesforce.com",
					Subject: "005xx", Org: "00Dxx", Extra: map[string]string{"id_url": "https://login.salesforce.com/id/00D/005", "yes": "no"}}},
			{ID: "conn_4", Name: "empty-oauth", Connector: "oauth2", Status: StatusNotAuthorized, CreatedAt: at, UpdatedAt: at, OAuth: &OAuthState{}},
		},
		Jobs: []Job{
			{ID: "job_1", Name: "Tickets", ConnectionID: "conn_2", Source: "tickets", Params: map[string]string{"query": "SELECT Id FROM Account"},
				Dest: "-", Format: "ndjson", Mode: "incremental", Schedule: "daily", CreatedAt: at, UpdatedAt: at},
			{ID: "job_2", Name: "yes", ConnectionID: "conn_3", Source: "soql", Dest: "/tmp/out file.csv", Format: "csv", Mode: "full", CreatedAt: at, UpdatedAt: at},
		},
	}
	out, err := encodeDocument(&doc)
	if err != nil {
		t.Fatal(err)
	}
	var got Document
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode: %v\n%s", err, out)
	}
	// yaml.v3 decodes ints in settings as int.
	if !reflect.DeepEqual(got, doc) {
		t.Fatalf("round trip differs:\n%s\ngot  %#v\nwant %#v", out, got, doc)
	}
	if !strings.Contains(string(out), "  - id: conn_1\n    name: CRM-Prod\n") {
		t.Errorf("plain strings should stay plain:\n%s", out)
	}
	empty, _ := encodeDocument(&Document{SchemaVersion: 1})
	var e Document
	if err := yaml.Unmarshal(empty, &e); err != nil || e.Connections == nil {
		t.Fatalf("empty doc: %v %q", err, empty)
	}
}

func FuzzEncodeString(f *testing.F) {
	for _, s := range []string{"", "a", "yes", "No", "1", "a: b", "- x", "#", "'", `"`, "\\", "\x00", "é", "a\nb", "null", "~", "@x", "x@y.z", "e5", "1e5", "0x10", ".inf", "2026-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8Valid(s) {
			t.Skip()
		}
		doc := Document{SchemaVersion: 1, Connections: []Connection{{ID: "i", Name: "n", Connector: "c", Status: StatusAuthorized, Account: s, Fields: map[string]string{"k": s}}}}
		out, err := encodeDocument(&doc)
		if err != nil {
			t.Fatal(err)
		}
		var got Document
		if err := yaml.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %v\n%s", s, err, out)
		}
		if got.Connections[0].Account != s || got.Connections[0].Fields["k"] != s {
			t.Fatalf("%q came back as %q / %q\n%s", s, got.Connections[0].Account, got.Connections[0].Fields["k"], out)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// oldPlainSafe is the regular expression plainSafe replaced, with its word
// list: plainSafe must accept exactly what it accepted.
var oldPlainSafe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.@/+-]*$`)

var oldYAMLWords = map[string]bool{"y": true, "yes": true, "n": true, "no": true, "true": true, "false": true,
	"on": true, "off": true, "null": true, "nan": true, "inf": true}

// FuzzPlainSafe: a string plainSafe lets through plain reads back from
// yaml.v3 as the same string, whether decoded into a string or into any (so
// never as a bool, number, null or time), and plainSafe agrees with the
// regular expression it replaced.
func FuzzPlainSafe(f *testing.F) {
	for _, s := range []string{"", "a", "yes", "YES", "No", "oN", "Null", "NaN", "inf", "infinity", "y", "Y", "n", "x:", "a#b", "a b",
		"a.b@c/d+e-f_g", "1a", "-a", "e5", "E5", "true1", "a\x00", "é", "aé", "x1e5", "TRUE", "off-site", "a:b", "ab", "abcdef", "yes."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := oldPlainSafe.MatchString(s) && !oldYAMLWords[strings.ToLower(s)]
		if got := plainSafe(s); got != want {
			t.Fatalf("plainSafe(%q) = %v, the old check said %v", s, got, want)
		}
		if !want {
			return
		}
		var asAny map[string]any
		if err := yaml.Unmarshal([]byte("v: "+s+"\n"), &asAny); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if v, ok := asAny["v"].(string); !ok || v != s {
			t.Fatalf("plain %q reads back as %#v", s, asAny["v"])
		}
		var asString struct{ V string }
		if err := yaml.Unmarshal([]byte("v: "+s+"\n"), &asString); err != nil || asString.V != s {
			t.Fatalf("plain %q reads back as %q (%v)", s, asString.V, err)
		}
	})
}
