package bigquery

import (
	"maps"
	"testing"
)

func TestExecEnv(t *testing.T) {
	t.Parallel()
	fields := map[string]string{"project_id": "acme-analytics"}
	got := Connector().ExecEnv(fields, nil, "ya29.token")
	want := map[string]string{"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.token", "CLOUDSDK_AUTH_ACCESS_TOKEN": "ya29.token"}
	if !maps.Equal(got, want) {
		t.Errorf("OAuth: %v, want %v", got, want)
	}
	// A service account's key is never put where tools want a file.
	if got := Connector().ExecEnv(fields, map[string]string{"service_account_key": "{}"}, ""); len(got) != 0 {
		t.Errorf("service account: %v, want none", got)
	}
}
