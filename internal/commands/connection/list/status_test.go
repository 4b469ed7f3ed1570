package list

import (
	"context"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
)

// --status matches the status shown in the STATUS column: unverified is
// accepted, and authorized leaves out the unverified connections.
func TestStatusFilterMatchesWhatIsShown(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, 3) // Conn-00001..3, all authorized
	s, err := configstore.Open(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(d *configstore.Document) error {
		_, c := d.Find("Conn-00002")
		c.Unverified = true
		_, c = d.Find("Conn-00003")
		c.Status = configstore.StatusRevoked
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]string{
		"unverified": "Conn-00002\ts3\tunverified\t",
		"authorized": "Conn-00001\ts3\tauthorized\t",
		"revoked":    "Conn-00003\ts3\trevoked\t",
	} {
		for _, tty := range []bool{false, true} {
			got := runList(t, path, tty, Options{Status: status})
			if tty {
				if n := strings.Count(got, "Conn-"); n != 1 || !strings.Contains(got, strings.SplitN(want, "\t", 2)[0]) {
					t.Errorf("--status %s on a terminal:\n%s", status, got)
				}
				continue
			}
			if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, want) {
				t.Errorf("--status %s:\n%s\nwant one row starting %q", status, got, want)
			}
		}
	}
}

func TestStatusFlagNamesEveryShownStatus(t *testing.T) {
	t.Parallel()
	d, _ := testDeps(writeConfig(t, 1), false)
	err := run(context.Background(), withDeps(d, Options{Status: "verified"}))
	want := `--status: unknown status "verified" (choose one of: not_authorized, authorized, unverified, revoked, needs_reauthorization)`
	if err == nil || err.Error() != want || exitcode.FromError(err) != exitcode.Usage {
		t.Fatalf("got %v, want %s (exit 2)", err, want)
	}
	cmd := NewCmd(d, nil)
	if u := cmd.Flags().Lookup("status").Usage; !strings.Contains(u, "authorized, unverified, revoked") {
		t.Errorf("--status help: %s", u)
	}
	complete, ok := cmd.GetFlagCompletionFunc("status")
	if !ok {
		t.Fatal("no completion for --status")
	}
	got, _ := complete(cmd, nil, "")
	if strings.Join(got, ",") != "not_authorized,authorized,unverified,revoked,needs_reauthorization" {
		t.Errorf("completion: %q", got)
	}
}
