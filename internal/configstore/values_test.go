package configstore

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A field value with a character a terminal would obey is refused on load,
// with the file, line, connection, field and character, as a name is; and
// never written.
func TestFieldValueWithControlIsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, value, want string }{
		{"esc", `"https://x.example/\e]0;t\a"`, `:9: connection "crm" field auth_url contains the control character \x1b: remove it from that line`},
		{"bel", `"a\ab"`, `field auth_url contains the control character \x07`},
		{"tab", `"a\tb"`, `field auth_url contains the control character \t`},
		{"c1", `"a\u0085b"`, `field auth_url contains the control character \u0085`},
		{"bidi", `"a\u202eb"`, `field auth_url contains the control character \u202e`},
		{"block scalar", "|\n        https://x.example/\n", `:9: connection "crm" field auth_url contains the control character \n`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "config.yaml")
			conf := "schema_version: 1\nconnections:\n  - id: conn_1\n    name: crm\n    connector: oauth2\n    status: not_authorized\n    fields:\n      client_id: abc\n      auth_url: " + tc.value + "\n"
			if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(p, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "config file "+p) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			if strings.ContainsAny(err.Error(), "\x1b\a\t\n\u0085\u202e") {
				t.Errorf("the error itself holds a raw control: %q", err)
			}
		})
	}
}

func TestFieldValueWithControlIsNeverWritten(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "config.yaml")
	s, err := Open(p, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(d *Document) error {
		d.Connections = append(d.Connections, Connection{ID: "conn_1", Name: "crm", Connector: "oauth2", Status: StatusNotAuthorized,
			Fields: map[string]string{"auth_url": "https://x.example/\x1b[2J"}})
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), `refusing to write an invalid config: config file `+p+`: connection "crm" field auth_url contains the control character \x1b: remove it (`) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("the file was written: %v", err)
	}
}
