package connection

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/secretstore"
)

// An oversized secret is refused when it is given, naming the field and
// the limit, before a provider is asked or anything is saved; a field's
// own MaxBytes, when smaller, wins.
func TestOversizedSecretRefusedEarly(t *testing.T) {
	t.Parallel()
	m := connector.AuthMethod{ID: "key", Fields: []connector.Field{
		{Name: "api_key", Secret: true, Required: true},
		{Name: "small", Secret: true, MaxBytes: 10},
	}}
	ctr := &connector.Connector{ID: "demo", Auths: []connector.AuthMethod{m}}
	for _, tc := range []struct {
		field, value string
		ok           bool
	}{
		{"api_key", strings.Repeat("k", secretstore.MaxItemBytes), true},
		{"api_key", strings.Repeat("k", secretstore.MaxItemBytes+1), false},
		{"small", "0123456789", true},
		{"small", "0123456789x", false},
	} {
		err := checkSecretKinds(ctr, &ctr.Auths[0], map[string]string{tc.field: tc.value})
		if tc.ok != (err == nil) {
			t.Errorf("%s of %d bytes: err %v", tc.field, len(tc.value), err)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), "secret "+tc.field+" is") || strings.Contains(err.Error(), tc.value)) {
			t.Errorf("message %q should name %s and its size, never the value", err, tc.field)
		}
	}
}
