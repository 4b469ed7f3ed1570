package authorization

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/oauthflow"
)

// A failed browser flow says one true thing about what it left: authorize
// and reauthorize changed nothing (run the command again); create has saved
// the definition as not_authorized with no token (`connctl authorize`
// tries again). Never both.
func TestFlowErrorSaysWhatWasLeft(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		kind     string
		msg      string
		redirect string
		created  bool
		code     exitcode.Code
		want     string
		hints    []string
	}{
		{"authorize timeout", "timeout", "no answer from the browser in time", "http://127.0.0.1:8976/callback", false, exitcode.Failure,
			"no answer from the browser in time: nothing was stored; run the command again (raise --timeout if you need longer)", nil},
		{"create timeout", "timeout", "no answer from the browser in time", "http://127.0.0.1:8976/callback", true, exitcode.Failure,
			`no answer from the browser in time: connection "crm" is saved as not_authorized, with no token stored`,
			[]string{"sign in with `connctl authorize crm` (raise --timeout if you need longer)"}},
		{"create timeout, any port", "timeout", "no answer from the browser in time", "", true, exitcode.Failure,
			`no answer from the browser in time: connection "crm" is saved as not_authorized, with no token stored`,
			[]string{"sign in with `connctl authorize crm` (raise --timeout if you need longer)", "if the browser showed an error about the redirect URI"}},
		{"authorize denied", "denied", "authorization was denied in the browser (access_denied)", "", false, exitcode.AuthNeeded,
			"authorization was denied in the browser (access_denied)",
			[]string{"run the command again and allow access, or sign in as another user"}},
		{"create denied", "denied", "authorization was denied in the browser (access_denied): The user said no.", "", true, exitcode.AuthNeeded,
			`authorization was denied in the browser (access_denied): The user said no: connection "crm" is saved as not_authorized, with no token stored`,
			[]string{"sign in with `connctl authorize crm` and allow access, or sign in as another user"}},
		{"authorize issuer", "issuer", `the authorization response came from issuer "x", not "y" (possible mix-up attack): nothing was stored`, "", false, exitcode.Failure,
			`the authorization response came from issuer "x", not "y" (possible mix-up attack): nothing was stored`, nil},
		{"create issuer", "issuer", `the authorization response came from issuer "x", not "y" (possible mix-up attack): nothing was stored`, "", true, exitcode.Failure,
			`the authorization response came from issuer "x", not "y" (possible mix-up attack): connection "crm" is saved as not_authorized, with no token stored`,
			[]string{"sign in with `connctl authorize crm`"}},
		{"authorize exchange", "exchange", "token exchange failed: invalid_grant", "", false, exitcode.Failure,
			"token exchange failed: invalid_grant", nil},
		{"create exchange", "exchange", "token exchange failed: invalid_grant", "", true, exitcode.Failure,
			`token exchange failed: invalid_grant: connection "crm" is saved as not_authorized, with no token stored`,
			[]string{"sign in with `connctl authorize crm`"}},
		{"create listen", "listen", "cannot listen on the loopback interface: denied", "", true, exitcode.Failure,
			"cannot listen on the loopback interface: denied",
			[]string{`connection "crm" is saved as not_authorized; after the fix, sign in with ` + "`connctl authorize crm`"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := flowError(&oauthflow.Error{Kind: tc.kind, Message: tc.msg}, "crm", tc.redirect, tc.created)
			if got := err.Error(); got != tc.want {
				t.Errorf("message:\n got %s\nwant %s", got, tc.want)
			}
			if got := exitcode.FromError(err); got != tc.code {
				t.Errorf("exit code %d, want %d", got, tc.code)
			}
			if !FlowFailed(err) {
				t.Errorf("FlowFailed = false")
			}
			hints := exitcode.Hints(err)
			if len(hints) != len(tc.hints) {
				t.Fatalf("hints %q, want %d starting %q", hints, len(tc.hints), tc.hints)
			}
			for i, h := range tc.hints {
				if !strings.HasPrefix(hints[i], h) {
					t.Errorf("hint %d: %q, want it to start %q", i, hints[i], h)
				}
			}
			if tc.created && strings.Contains(err.Error()+strings.Join(hints, "\n"), "nothing was stored") {
				t.Errorf("create says nothing was stored: %v %q", err, hints)
			}
		})
	}
}
