package connection

import (
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

// --set refuses a value a terminal would obey, as the config loader does,
// and shows it escaped; a secret (which is never printed) is not checked.
func TestCheckValueRefusesControls(t *testing.T) {
	t.Parallel()
	f := &connector.Field{Name: "auth_url"}
	for v, want := range map[string]string{
		"http://127.0.0.1:9/auth\x1b]0;x": `field auth_url contains a control character (http://127.0.0.1:9/auth\x1b]0;x): remove it`,
		"a\u009bb":                        `field auth_url contains a control character (a\u009bb): remove it`,
		"a\tb":                            `field auth_url contains a control character (a\tb): remove it`,
	} {
		if err := CheckValue(f, v); err == nil || err.Error() != want {
			t.Errorf("CheckValue(%q) = %v, want %s", v, err, want)
		}
	}
	if err := CheckValue(f, "https://idp.example/authorize?x=ü"); err != nil {
		t.Errorf("a clean value: %v", err)
	}
	if err := CheckValue(&connector.Field{Name: "client_secret", Secret: true}, "s\x1bcret"); err != nil {
		t.Errorf("a secret: %v", err)
	}
}
