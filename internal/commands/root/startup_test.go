package root

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/connctl/connctl/internal/activitylog"
	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/deps"
	"github.com/connctl/connctl/internal/iostreams"
	"github.com/connctl/connctl/internal/secretstore"
)

// The connection verbs build no service for --help or a bad flag: the
// config, the secret store, the HTTP client and the activity log are
// opened only by run.
func TestConnectionVerbsStartCheap(t *testing.T) {
	t.Parallel()
	verbs := [][]string{{"create"}, {"list"}, {"show", "crm"}, {"edit", "crm"}, {"delete", "crm"}, {"authorize", "crm"},
		{"reauthorize", "crm"}, {"revoke", "crm"}, {"test", "crm"}, {"token", "crm"}}
	for _, v := range verbs {
		for _, tail := range [][]string{{"--help"}, {"--no-such-flag"}} {
			argv := append(append([]string{}, v...), tail...)
			t.Run(strings.Join(argv, " "), func(t *testing.T) {
				t.Parallel()
				var (
					mu     sync.Mutex
					opened []string
				)
				touch := func(what string) {
					mu.Lock()
					defer mu.Unlock()
					opened = append(opened, what)
				}
				ios, _, _, _ := iostreams.Test()
				d := &deps.Deps{IO: ios, Getenv: func(string) string { return "" }, Catalog: sync.OnceValue(all.Catalogue),
					Config:        func() (configstore.Config, error) { touch("config"); return nil, io.EOF },
					Secrets:       func() (secretstore.Store, error) { touch("secrets"); return nil, io.EOF },
					SecretBackend: func(string) (secretstore.Store, error) { touch("secret backend"); return nil, io.EOF },
					HTTP:          func() *http.Client { touch("http"); return nil },
					Activities:    func() (activitylog.Log, error) { touch("activities"); return nil, io.EOF },
				}
				cmd := NewCmd(d)
				cmd.SetArgs(argv)
				cmd.SetOut(io.Discard)
				cmd.SetErr(io.Discard)
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				err := cmd.ExecuteContext(context.Background())
				if wantErr := tail[0] != "--help"; (err != nil) != wantErr {
					t.Errorf("error %v, want one: %v", err, wantErr)
				}
				if len(opened) > 0 {
					t.Errorf("opened %v", opened)
				}
			})
		}
	}
}
