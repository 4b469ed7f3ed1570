package oauthflow

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/oauth2"

	"github.com/connctl/connctl/internal/textsafe"
)

// The token endpoint's error text is the provider's: shown escaped, cut on
// a character boundary (#10 item 4).
func TestTokenErrorShowsControlsEscaped(t *testing.T) {
	t.Parallel()
	got := DescribeTokenError(&oauth2.RetrieveError{ErrorCode: "invalid_grant\x1bc", ErrorDescription: "\x1b]0;pwned\x07\x1b[2J\rtoken \u202eexpired\u009b"})
	if !textsafe.Safe(got) || !strings.Contains(got, `\x1b]0;pwned\x07`) {
		t.Errorf("DescribeTokenError = %q", got)
	}
	long := oneLine(strings.Repeat("é", 150), 201) // 201 falls inside a 2-byte é
	if !utf8.ValidString(long) || !textsafe.Safe(long) {
		t.Errorf("oneLine cut a character: %q", long)
	}
}
