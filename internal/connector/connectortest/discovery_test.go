package connectortest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBigQueryDiscoveryJudgesRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method, target, bad string
	}{
		{"POST", "/bigquery/v2/projects/acme-analytics/queries", ""},
		{"GET", "/bigquery/v2/projects/acme-analytics/queries/job_1?location=EU&timeoutMs=10000&maxResults=1000&pageToken=t2", ""},
		{"GET", "/bigquery/v2/projects/p/datasets/d/tables/t", ""},
		{"GET", "/bigquery/v2/projects/p/datasets/d/tables/t/data?maxResults=500&formatOptions.useInt64Timestamp=true", ""},
		{"GET", "/bigquery/v2/projects/p/datasets?maxResults=1", ""},
		{"GET", "/token", ""}, // outside basePath: not checked
		{"GET", "/bigquery/v2/projects/p/queries/j?timeoutMs=soon", "timeoutMs"},
		{"GET", "/bigquery/v2/projects/p/queries/j?useLegacySql=false", "useLegacySql"},
		{"GET", "/bigquery/v2/projects/p/datasets/d/tables/t/data?formatOptions.useInt64Timestamp=yes", "useInt64Timestamp"},
		{"GET", "/bigquery/v2/projects/p/datasets/d/tables/t?view=ALL", "view"},
		{"DELETE", "/bigquery/v2/projects/p/datasets/d/tables/t", "no method"},
		{"GET", "/bigquery/v2/projects/p/jobs", "no method"},
	} {
		err := BigQueryDiscovery.Check(httptest.NewRequest(tc.method, tc.target, nil))
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("%s %s refused: %v", tc.method, tc.target, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), tc.bad)):
			t.Errorf("%s %s: %v, want a complaint about %s", tc.method, tc.target, err, tc.bad)
		}
	}
}
