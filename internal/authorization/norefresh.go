package authorization

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/connection"
)

// warnNoRefreshToken tells the user, at authorization time, that the grant
// came without a refresh token and so ends when its access token does: an
// hour (or 65 seconds) later, `token` and every job would exit 4. A grant
// with no expiry (a long-lived token) needs no warning.
func (s *Service) warnNoRefreshToken(name string, e *Endpoints, expires *time.Time) {
	if s.Stderr == nil || expires == nil {
		return
	}
	left := expires.Sub(s.now()).Round(time.Second)
	fmt.Fprintf(s.Stderr, "warning: the provider issued no refresh token: %s works until its access token expires at %s (in %s), then needs `connctl reauthorize %s`\n",
		name, expires.UTC().Format(time.RFC3339), left, connection.QuoteArg(name))
	q := connection.QuoteArg(name)
	offline := slices.Contains(e.Scopes, "offline_access")
	switch {
	case e.OpenID() && !offline:
		fmt.Fprintf(s.Stderr, "  to get one, ask for offline access: `connctl edit %s --set scopes=\"%s offline_access\"`, then reauthorize\n", q, strings.Join(e.Scopes, " "))
	case e.OpenID() && e.AuthParams["prompt"] == "":
		fmt.Fprintf(s.Stderr, "  OpenID providers grant offline_access only with prompt=consent (OpenID Connect Core §11), which auth_params stopped connctl sending: remove prompt= from auth_params\n")
	case e.OpenID() && e.AuthParams["prompt"] != "consent":
		fmt.Fprintf(s.Stderr, "  OpenID providers grant offline_access only with prompt=consent (OpenID Connect Core §11), which auth_params replaced with prompt=%s\n", e.AuthParams["prompt"])
	default:
		fmt.Fprintln(s.Stderr, "  to get one, the client's registration must allow the refresh_token grant, and the provider may want a scope (offline_access, refresh_token) or a parameter (auth_params=access_type=offline for Google)")
	}
}
