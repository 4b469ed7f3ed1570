package connectortest_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector/connectortest"
)

// TestNoBugSkips fails while any case skips a source-suite check for a
// known defect (a Skip reason starting "BUG:"): a skip is for what the
// vendor cannot express, and a defect is fixed, not skipped.
func TestNoBugSkips(t *testing.T) {
	var bugs []string
	for _, c := range connectortest.Cases() {
		for src, o := range c.Suite {
			for check, why := range o.Skip {
				if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(why)), "BUG:") {
					bugs = append(bugs, c.Connector+"/"+src+" "+string(check)+": "+why)
				}
			}
		}
	}
	sort.Strings(bugs)
	for _, b := range bugs {
		t.Errorf("skipped for a defect: %s", b)
	}
	if len(bugs) > 0 {
		t.Log("fix the source so that the check passes, and remove the skip")
	}
}
