// Package storearg reads the --store flag of `connctl team init` and
// `connctl team export`: a PostgreSQL URL, or "-" for standard input, so
// that a password never sits in argv.
package storearg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// Resolve returns the store URL that flag names: flag itself, or, for
// "-", the first line of stdin (a hidden prompt on a terminal). A URL with
// a password given in argv is refused: shell history and ps would show it.
func Resolve(ios *iostreams.IOStreams, flag, cmd string) (string, error) {
	v := strings.TrimSpace(flag)
	if v == "-" {
		var err error
		if ios.IsStdinTTY() {
			v, err = ios.PromptSecret("Team store URL: ")
		} else {
			v, err = ios.Prompt("")
		}
		if err != nil && !errors.Is(err, iostreams.ErrPromptAborted) {
			return "", fmt.Errorf("read the store URL from stdin: %w", err)
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return "", exitcode.UsageError("--store -: nothing on stdin: pipe the URL in, e.g. printf %%s \"$URL\" | connctl %s --store -", cmd)
		}
	} else if configstore.StoreURLHasPassword(v) {
		return "", exitcode.UsageError("--store holds a password on the command line, where shell history and ps show it: pipe the URL in with --store - (printf %%s \"$URL\" | connctl %s --store -), or leave the password out and set PGPASSWORD or ~/.pgpass", cmd)
	}
	st, _ := configstore.LookupSetting("store.url")
	if _, err := st.Validate(v); err != nil {
		return "", exitcode.UsageError("--store: %s", err.Error())
	}
	return v, nil
}
