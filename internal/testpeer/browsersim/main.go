package browsersim

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

// Environment variables read by Main.
const (
	// DenyEnv=1 makes Main click "deny" instead of "allow".
	DenyEnv = "CONNCTL_TEST_BROWSER_DENY"
	// LogEnv names a file Main appends each URL it is given to, one a line,
	// so that tests can check what connctl opened (the authorization URL
	// carries the PKCE challenge, never the verifier or a token).
	LogEnv = "CONNCTL_TEST_BROWSER_LOG"
)

// Main is a $BROWSER command ("browser-standin" in the end-to-end scripts):
// it runs Follow on os.Args[1] and exits 0 once the client's callback page has
// loaded, whatever that page says, printing nothing. Errors go to stderr with
// exit 1.
func Main() {
	if code := Run(os.Args[1:], os.Stderr); code != 0 {
		os.Exit(code)
	}
}

// Run is Main with its arguments and error stream passed in; it returns the
// exit code.
func Run(args []string, stderr io.Writer) int {
	if len(args) != 1 || args[0] == "" {
		fmt.Fprintln(stderr, "usage: browser-standin <url>")
		return 2
	}
	authURL := args[0]
	if p := os.Getenv(LogEnv); p != "" {
		if err := appendLine(p, authURL); err != nil {
			fmt.Fprintf(stderr, "browser-standin: %s: %v\n", LogEnv, err)
			return 1
		}
	}
	var opts []Option
	if os.Getenv(DenyEnv) == "1" {
		opts = append(opts, Deny())
	}
	if l := os.Getenv(LoginEnv); l != "" {
		opts = append(opts, Login(l))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := Follow(ctx, authURL, opts...); err != nil {
		fmt.Fprintf(stderr, "browser-standin: %v\n", err)
		return 1
	}
	return 0
}

func appendLine(path, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(f, line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
