package zoho

import (
	"strings"
	"testing"
)

// The warning starts at the 20th grant connctl holds for one client.
func TestGrantCapWarning(t *testing.T) {
	t.Parallel()
	h := oauthHooks()
	if h.GrantCapWarning == nil {
		t.Fatal("no GrantCapWarning hook")
	}
	for held, want := range map[int]string{
		0:  "",
		18: "",
		19: "this is the 20th Zoho grant connctl holds for client 1000.ABC: Zoho keeps at most 20 refresh tokens per user",
		20: "connctl already holds 20 Zoho grants for client 1000.ABC",
		25: "connctl already holds 25 Zoho grants",
	} {
		got := h.GrantCapWarning(held, "1000.ABC")
		if want == "" && got != "" || !strings.Contains(got, want) || strings.Contains(got, "\n") {
			t.Errorf("held %d: %q, want %q", held, got, want)
		}
		if want != "" && !strings.Contains(got, zohoRefreshSource) {
			t.Errorf("held %d: no source in %q", held, got)
		}
	}
}
