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

func TestSourceIncremental(t *testing.T) {
	fixed := &Source{Name: "tickets", IncrementalField: "updated_at"}
	described := &Source{Name: "http", IncrementalParam: "incremental_field"}
	for _, tc := range []struct {
		src    *Source
		params map[string]string
		want   bool
	}{
		{fixed, nil, true},
		{described, nil, false},
		{described, map[string]string{"incremental_field": " "}, false},
		{described, map[string]string{"incremental_field": "updated_at"}, true},
		{&Source{Name: "events"}, map[string]string{"incremental_field": "x"}, false},
	} {
		if got := tc.src.Incremental(tc.params); got != tc.want {
			t.Errorf("%s.Incremental(%v) = %v, want %v", tc.src.Name, tc.params, got, tc.want)
		}
	}
}
