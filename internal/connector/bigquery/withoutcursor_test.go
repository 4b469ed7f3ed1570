package bigquery

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

// A row whose incremental_column is NULL is written, leaves the checkpoint
// to the other rows and is counted in Stats.WithoutCursor (the
// jobrunner.Source rule for a column the user chose).
func TestQueryCountsRowsWithNullIncrementalColumn(t *testing.T) {
	f, srv := newFake(t)
	f.api = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != "POST" {
			return false
		}
		_ = json.NewDecoder(r.Body).Decode(&map[string]any{})
		null := testRow(2, t0)
		null["f"].([]any)[4] = cell(nil)
		writeJSON(w, 200, map[string]any{"jobReference": map[string]any{"jobId": "j1"}, "jobComplete": true,
			"schema": testSchema, "totalRows": "2", "rows": []any{testRow(1, t0), null}})
		return true
	}
	req := saRequest(f, srv, &jobrunnertest.Waits{}, map[string]string{
		"sql": "SELECT * FROM t WHERE updated > {since}", "incremental_column": "updated"})
	recs, cp, err := fetch(t, QuerySource(), req)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Fetch: %d records, %v", len(recs), err)
	}
	if cp != "2026-03-01T12:00:00.123456Z" {
		t.Errorf("checkpoint %q, want the non-NULL row's", cp)
	}
	if n := req.HTTP.Stats().WithoutCursor.Load(); n != 1 {
		t.Errorf("Stats.WithoutCursor = %d, want 1", n)
	}
}
