package connection_test

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector/all"
	"github.com/connctl/connctl/internal/exitcode"
)

// The rules of a whole set of definitions (team init's merge): one
// connection of a single-connection connector, and the CRM / Support
// system limits, each with the fix.
func TestCheckDocumentRules(t *testing.T) {
	t.Parallel()
	cat := all.Catalogue()
	limits := map[string]int{"limits.crm": 1, "limits.support": 1}
	doc := func(conns ...[2]string) *configstore.Document {
		d := &configstore.Document{}
		for _, c := range conns {
			d.Connections = append(d.Connections, configstore.Connection{Name: c[0], Connector: c[1]})
		}
		return d
	}
	for _, c := range []struct {
		name string
		doc  *configstore.Document
		err  string
		hint string
	}{
		{"fine", doc([2]string{"sf", "salesforce"}, [2]string{"sf2", "salesforce"}, [2]string{"fd", "freshdesk"}, [2]string{"s3a", "s3"}, [2]string{"s3b", "s3"}), "", ""},
		{"two Support systems", doc([2]string{"fd", "freshdesk"}, [2]string{"zd", "zendesk"}),
			`Support limit: there would be 2 Support systems (freshdesk ("fd"), zendesk ("zd")), and limits.support allows 1`, "connctl config set limits.support 2"},
		{"two CRM systems", doc([2]string{"sf", "salesforce"}, [2]string{"z", "zoho"}),
			`CRM limit: there would be 2 CRM systems (salesforce ("sf"), zoho ("z")), and limits.crm allows 1`, "connctl config set limits.crm 2"},
		{"a single-connection connector twice", doc([2]string{"hs1", "hubspot"}, [2]string{"hs2", "hubspot"}),
			`connector hubspot allows one connection, and there would be two: "hs1" and "hs2"`, "connctl delete hs2"},
	} {
		err := connection.CheckDocumentRules(cat, func(k string) int { return limits[k] }, c.doc)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if err == nil || err.Error() != c.err || exitcode.FromError(err) != exitcode.Usage {
			t.Errorf("%s: err = %v (exit %d); want %q, exit 2", c.name, err, exitcode.FromError(err), c.err)
			continue
		}
		if h := strings.Join(exitcode.Hints(err), "\n"); !strings.Contains(h, c.hint) {
			t.Errorf("%s: hints %q, want %q", c.name, h, c.hint)
		}
	}
	limits["limits.support"] = 2
	if err := connection.CheckDocumentRules(cat, func(k string) int { return limits[k] }, doc([2]string{"fd", "freshdesk"}, [2]string{"zd", "zendesk"})); err != nil {
		t.Errorf("with limits.support 2: %v", err)
	}
}
