package connectortest_test

import (
	"testing"

	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/connector/connectortest"
)

// TestSources runs the source suite on every source of every case, and
// checks that every source in the catalogue is some case's.
func TestSources(t *testing.T) {
	cat := all.Catalogue()
	targets := connectortest.Targets(t, cat.Lookup)
	have := map[string]bool{}
	for _, s := range targets {
		have[s.Connector.ID+"/"+s.Source.Name] = true
	}
	for _, c := range cat.All() {
		for _, src := range c.Sources {
			if !have[c.ID+"/"+src.Name] {
				t.Errorf("no case runs %s source %s: add it to a connectortest Case's Source or Also", c.ID, src.Name)
			}
		}
	}
	for _, s := range targets {
		t.Run(s.Name(), func(t *testing.T) {
			t.Parallel()
			connectortest.RunSourceSuite(t, s)
		})
	}
}
