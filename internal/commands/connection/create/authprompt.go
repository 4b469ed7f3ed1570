package create

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/iostreams"
)

// askAuth reports whether create should ask for the auth method: on a
// terminal, when the connector has several and neither --auth nor
// --set auth= chose one. Elsewhere the first method is the default.
func askAuth(ios *iostreams.IOStreams, ctr *connector.Connector, sets []connection.Assignment) bool {
	if len(ctr.Auths) < 2 || !ios.CanPrompt() {
		return false
	}
	for _, a := range sets {
		if a.Key == "auth" {
			return false
		}
	}
	return true
}

// promptAuth asks which auth method to use, as a numbered choice; Enter
// takes the first (the default), and the method's id is accepted too.
// Ctrl-C ends the prompt as every prompt does.
func promptAuth(ios *iostreams.IOStreams, ctr *connector.Connector) (string, error) {
	fmt.Fprintf(ios.ErrOut, "%s has several auth methods:\n", ctr.Name)
	for i, m := range ctr.Auths {
		def := ""
		if i == 0 {
			def = " (default)"
		}
		fmt.Fprintf(ios.ErrOut, "  %d) %s: %s%s\n", i+1, m.ID, m.Label, def)
	}
	for range 3 {
		v, err := ios.Prompt(fmt.Sprintf("Auth method [1-%d, Enter for 1]: ", len(ctr.Auths)))
		if err != nil {
			return "", err
		}
		v = strings.TrimSpace(v)
		if v == "" {
			return ctr.Auths[0].ID, nil
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(ctr.Auths) {
			return ctr.Auths[n-1].ID, nil
		}
		if m, err := ctr.Auth(v); err == nil {
			return m.ID, nil
		}
		fmt.Fprintf(ios.ErrOut, "choose a number from 1 to %d\n", len(ctr.Auths))
	}
	return "", exitcode.UsageError("no valid auth method given (choose one with --auth: %s)", strings.Join(ctr.AuthIDs(), ", "))
}
