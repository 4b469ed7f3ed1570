package jira_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/jira"
)

// Atlassian's own example issue (the search/jql response in the Jira Cloud
// platform OpenAPI) has no fields.updated. Such an issue is written, leaves
// the checkpoint where the other issues put it, and is counted.
func TestIssueWithoutUpdatedIsWrittenAndCounted(t *testing.T) {
	t.Parallel()
	j, srv := newJira(t)
	j.addIssues(3, "SUP")
	delete(j.issues[1]["fields"].(map[string]any), "updated")
	j.issues[2]["fields"].(map[string]any)["updated"] = "yesterday"
	served := j.issues
	j.hook = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/rest/api/3/search/jql" {
			return false
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issues": served, "isLast": true})
		return true
	}
	r := run(t, jira.IssuesSource(), srv, options{})
	if r.Err != nil || keys(r) != "SUP-1,SUP-2,SUP-3" {
		t.Fatalf("%s, %v", keys(r), r.Err)
	}
	if want := t0.Format(time.RFC3339); r.Checkpoint != want {
		t.Errorf("checkpoint %q, want %q (the only readable fields.updated)", r.Checkpoint, want)
	}
	if n := r.Stats.WithoutCursor.Load(); n != 2 {
		t.Errorf("WithoutCursor = %d, want 2", n)
	}

	// Nothing readable at all: the checkpoint stays where it was.
	delete(j.issues[0]["fields"].(map[string]any), "updated")
	since := t0.Add(-time.Hour).Format(time.RFC3339)
	r = run(t, jira.IssuesSource(), srv, options{since: since})
	if r.Err != nil || r.Checkpoint != since || r.Stats.WithoutCursor.Load() != 3 {
		t.Errorf("checkpoint %q, %d without cursor, %v", r.Checkpoint, r.Stats.WithoutCursor.Load(), r.Err)
	}
}

// projectPages serves n projects two a page with the given isLast and
// total, counting the requests.
func projectPages(t *testing.T, n int, isLast func(start, to int) bool, total func() any) (*httptest.Server, *int) {
	t.Helper()
	j, srv := newJira(t)
	requests := 0
	j.hook = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		requests++
		if requests > 50 {
			t.Errorf("still paging after %d requests", requests)
			jiraError(w, http.StatusBadRequest, "stop")
			return true
		}
		start, _ := strconv.Atoi(r.URL.Query().Get("startAt"))
		from, to := min(start, n), min(start+2, n)
		values := []map[string]any{}
		for i := from; i < to; i++ {
			values = append(values, map[string]any{"id": strconv.Itoa(10000 + i), "key": "P" + strconv.Itoa(i)})
		}
		page := map[string]any{"startAt": start, "maxResults": 2, "isLast": isLast(start, to), "values": values}
		if tot := total(); tot != nil {
			page["total"] = tot
		}
		_ = json.NewEncoder(w).Encode(page)
		return true
	}
	return srv, &requests
}

func TestProjectPagingStopsWithoutIsLast(t *testing.T) {
	t.Parallel()
	never := func(int, int) bool { return false }
	for _, tc := range []struct {
		name     string
		total    func() any
		records  int
		requests int
	}{
		// isLast stays false, but startAt + len(values) reaches total.
		{"total", func() any { return 5 }, 5, 3},
		// isLast stays false and no total: the empty page ends it.
		{"empty page", func() any { return nil }, 5, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, requests := projectPages(t, 5, never, tc.total)
			r := run(t, jira.ProjectsSource(), srv, options{})
			if r.Err != nil || len(r.Records) != tc.records || *requests != tc.requests {
				t.Errorf("%d records in %d requests, %v", len(r.Records), *requests, r.Err)
			}
		})
	}
}
