package freshdesk_test

import (
	"testing"

	"github.com/connctl/connctl/internal/connector/freshdesk"
)

func TestHostAcceptsBothFormsOfDomain(t *testing.T) {
	t.Parallel()
	for _, domain := range []string{"acme", "acme.freshdesk.com"} {
		if got := freshdesk.Host(domain); got != "acme.freshdesk.com" {
			t.Errorf("Host(%q) = %q, want acme.freshdesk.com", domain, got)
		}
	}
}
