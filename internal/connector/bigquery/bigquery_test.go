package bigquery

import "testing"

// A query job that names its incremental_column runs incrementally, so the
// runner hands the source its checkpoint for {since}; one without runs in
// full every time.
func TestQueryIncrementalByColumnParam(t *testing.T) {
	for _, s := range Connector().Sources {
		switch s.Name {
		case "query":
			if !s.Incremental(map[string]string{"sql": "SELECT 1 WHERE t >= {since}", "incremental_column": "t"}) {
				t.Error("a query job with incremental_column does not run incrementally")
			}
			if s.Incremental(map[string]string{"sql": "SELECT 1"}) {
				t.Error("a query job without incremental_column runs incrementally")
			}
		case "table":
			if s.Incremental(map[string]string{"dataset": "d", "table": "t"}) {
				t.Error("the table source runs incrementally")
			}
		}
	}
}
