package all

import "testing"

// TestOneRegistrationPerConnector: Register's one line per connector brings
// the connector's job sources with it (connector.Source.New), so every
// declared source runs, and JobSource answers from the catalogue alone.
func TestOneRegistrationPerConnector(t *testing.T) {
	t.Parallel()
	for _, c := range Catalogue().All() {
		for _, s := range c.Sources {
			if s.New == nil {
				t.Errorf("%s/%s: the source has no New: set it to the constructor in the connector's source.go", c.ID, s.Name)
				continue
			}
			if src, ok := JobSource(c.ID, s.Name); !ok || src == nil {
				t.Errorf("JobSource(%q, %q) = %v, %v; want the source", c.ID, s.Name, src, ok)
			}
		}
	}
	for _, tc := range []struct{ connector, source string }{
		{"freshdesk", "nosuch"}, {"nosuch", "tickets"}, {"sfdc", "accounts"}, // an alias is not an id
	} {
		if _, ok := JobSource(tc.connector, tc.source); ok {
			t.Errorf("JobSource(%q, %q) found a source", tc.connector, tc.source)
		}
	}
}
