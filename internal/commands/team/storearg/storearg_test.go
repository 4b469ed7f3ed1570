package storearg

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// TestPasswordNeverInArgv: a URL with a password on the command line is a
// usage error naming both fixes and never repeating the password; from
// stdin ("-") it is taken.
func TestPasswordNeverInArgv(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"postgres://u:s3cr3t@h/db", "postgres://u@h/db?password=s3cr3t&sslmode=disable"} {
		ios, _, _, _ := iostreams.Test()
		_, err := Resolve(ios, store, "team init")
		if exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "--store -") || !strings.Contains(err.Error(), "PGPASSWORD") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: %v", store, err)
		}
	}
	ios, stdin, _, _ := iostreams.Test()
	stdin.WriteString("postgres://u:s3cr3t@h/db\n")
	got, err := Resolve(ios, "-", "team init")
	if err != nil || got != "postgres://u:s3cr3t@h/db" {
		t.Fatalf("stdin: %q %v", got, err)
	}
	ios, _, _, _ = iostreams.Test()
	if _, err := Resolve(ios, "-", "team init"); exitcode.FromError(err) != exitcode.Usage || !strings.Contains(err.Error(), "nothing on stdin") {
		t.Fatalf("empty stdin: %v", err)
	}
	if got, err := Resolve(ios, "postgres://u@h:5432/db", "team init"); err != nil || got != "postgres://u@h:5432/db" {
		t.Fatalf("plain URL: %q %v", got, err)
	}
	if _, err := Resolve(ios, "http://h/db", "team init"); exitcode.FromError(err) != exitcode.Usage {
		t.Fatalf("http URL: %v", err)
	}
}
