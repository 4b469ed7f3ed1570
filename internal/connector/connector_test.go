package connector

import "testing"

func TestSuggest(t *testing.T) {
	t.Parallel()
	cat := NewCatalogue()
	for _, id := range []string{"salesforce", "freshdesk", "zendesk", "gainsight-px"} {
		c := &Connector{ID: id, Auths: []AuthMethod{{ID: "x"}}}
		if id == "gainsight-px" {
			c.Aliases = []string{"px"}
		}
		cat.Add(c)
	}
	for typed, want := range map[string]string{"salesforc": "salesforce", "SalesFroce": "salesforce", "fresh": "freshdesk",
		"zendsk": "zendesk", "pz": "gainsight-px", "gainsight": "gainsight-px", "jira": "", "": ""} {
		if got := cat.Suggest(typed); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", typed, got, want)
		}
	}
}
