package configstore

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// richDocument sets every field of every type in a Document, each map,
// slice and pointer non-nil and non-empty.
func richDocument() Document {
	at := time.Date(2026, 11, 26, 12, 30, 5, 0, time.UTC)
	at2, at3, at4 := at.Add(time.Hour), at.Add(2*time.Hour), at.Add(3*time.Hour)
	return Document{
		SchemaVersion: 1,
		Settings: map[string]any{"limits": map[string]any{"crm": 2, "list": []any{1, "x", map[string]any{"y": true}}},
			"odd": map[any]any{1: []any{"z"}}, "keyring": map[string]any{"timeout": "30s"}, "big": 1e6, "when": at},
		Connections: []Connection{{
			ID: "conn_1", Name: "CRM", Connector: "salesforce", Auth: "oauth2", Fields: map[string]string{"a": "b"},
			Secrets: []string{"refresh_token"}, SecretBackend: "keyring", Status: StatusAuthorized, StatusReason: "r",
			Account: "acct", CreatedAt: at, UpdatedAt: at, AuthorizedAt: &at2, Unverified: true,
			OAuth: &OAuthState{Scopes: []string{"api"}, IssuedAt: &at3, ExpiresAt: &at4, APIBase: "https://x", Subject: "s", Org: "o",
				Extra: map[string]string{"k": "v"}},
		}},
		Jobs: []Job{{ID: "job_1", Name: "J", ConnectionID: "conn_1", Source: "s", Params: map[string]string{"p": "q"},
			Dest: "-", Format: "ndjson", Mode: "full", Schedule: "daily", NotifyOn: "always", CreatedAt: at, UpdatedAt: at}},
	}
}

// TestCloneSharesNothing: the clone equals the original, and walking both
// by reflection finds no map, slice or pointer they share; every field of
// the original is set (so a new field without a clone line fails here).
func TestCloneSharesNothing(t *testing.T) {
	t.Parallel()
	orig := richDocument()
	assertAllSet(t, reflect.ValueOf(orig), "Document")
	c := cloneDocument(&orig)
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("clone differs:\n%#v\n%#v", c, orig)
	}
	assertDisjoint(t, reflect.ValueOf(orig), reflect.ValueOf(c), "Document")

	empty := Document{SchemaVersion: 1}
	if c := cloneDocument(&empty); !reflect.DeepEqual(c, empty) {
		t.Fatalf("empty clone differs: %#v", c)
	}
	withEmpties := Document{Connections: []Connection{}, Jobs: []Job{}, Settings: map[string]any{}}
	if c := cloneDocument(&withEmpties); !reflect.DeepEqual(c, withEmpties) {
		t.Fatalf("empty (not nil) clone differs: %#v", c)
	}
}

// assertAllSet fails for a zero field anywhere in v (time.Time excepted as
// a leaf).
func assertAllSet(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	if v.Type() == reflect.TypeOf(time.Time{}) {
		return
	}
	if v.IsZero() {
		t.Errorf("%s is not set in richDocument: set it (and clone it in clone.go)", path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		assertAllSet(t, v.Elem(), path)
	case reflect.Struct:
		for i := range v.NumField() {
			assertAllSet(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		for i := range v.Len() {
			assertAllSet(t, v.Index(i), path+"[]")
		}
	}
}

// assertDisjoint fails when a and b (equal values) share any memory a later
// change to one would show in the other.
func assertDisjoint(t *testing.T, a, b reflect.Value, path string) {
	t.Helper()
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return
		}
		if a.Pointer() == b.Pointer() {
			t.Errorf("%s: pointer shared", path)
		}
		assertDisjoint(t, a.Elem(), b.Elem(), path)
	case reflect.Interface:
		if !a.IsNil() {
			assertDisjoint(t, a.Elem(), b.Elem(), path)
		}
	case reflect.Map:
		if a.IsNil() {
			return
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			t.Errorf("%s: map shared", path)
		}
		for _, k := range a.MapKeys() {
			assertDisjoint(t, a.MapIndex(k), b.MapIndex(k), path+"[key]")
		}
	case reflect.Slice:
		if a.Len() == 0 {
			return
		}
		if unsafe.Pointer(a.Index(0).UnsafeAddr()) == unsafe.Pointer(b.Index(0).UnsafeAddr()) {
			t.Errorf("%s: slice shared", path)
		}
		for i := range a.Len() {
			assertDisjoint(t, a.Index(i), b.Index(i), path+"[]")
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeOf(time.Time{}) {
			return // a value; its *Location is shared and immutable
		}
		for i := range a.NumField() {
			assertDisjoint(t, a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)
		}
	}
}

// TestUpdateLeavesSnapshotsAlone: an Update that starts from the Store's
// own copy (the file unchanged) changes neither a snapshot taken before
// nor, if it fails, the Store's document.
func TestUpdateLeavesSnapshotsAlone(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.yaml")
	s, _ := Open(path, noEnv)
	err := s.Update(context.Background(), func(d *Document) error {
		d.Connections = append(d.Connections, Connection{ID: "i", Name: "a", Connector: "s3", Status: StatusAuthorized, Fields: map[string]string{"k": "v"}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Document()
	err = s.Update(context.Background(), func(d *Document) error {
		d.Connections[0].Fields["k"] = "changed"
		d.Connections[0].Name = "b"
		return errors.New("no")
	})
	if err == nil {
		t.Fatal("want the error")
	}
	if err := s.Update(context.Background(), func(d *Document) error { d.Connections[0].Fields["k"] = "w"; return nil }); err != nil {
		t.Fatal(err)
	}
	if before.Connections[0].Fields["k"] != "v" || before.Connections[0].Name != "a" {
		t.Fatalf("snapshot changed: %+v", before.Connections[0])
	}
	if got := s.Document().Connections[0].Fields["k"]; got != "w" {
		t.Fatalf("update lost: %q", got)
	}
}
