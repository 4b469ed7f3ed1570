package keycheck_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A Mixpanel project secret is HTTP Basic {secret}: with an empty password
// (https://docs.mixpanel.com/reference/project-secret); the check is a
// one-event export of today, and a 401 is unauthorized, without the secret
// in the message.
func TestMixpanelProjectSecret(t *testing.T) {
	t.Parallel()
	const secret = "mp-project-secret-7f3a"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		q := r.URL.Query()
		if r.URL.Path != "/api/2.0/export" || q.Get("limit") != "1" || q.Get("project_id") != "42" || q.Get("from_date") == "" || q.Get("from_date") != q.Get("to_date") {
			t.Errorf("request %s does not follow the documented export shape", r.URL)
		}
		if !ok || user != secret || pass != "" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"Invalid API secret ` + user + `"}`))
			return
		}
		w.Header().Set("Content-Type", "text/plain")
	}))
	defer srv.Close()
	fields := map[string]string{"auth": "api_secret", "project_id": "42", "base_url": srv.URL}
	id, err := checkByID(context.Background(), srv.Client(), "mixpanel", "api_secret", fields, map[string]string{"api_secret": secret})
	if err != nil || id.Account != "project 42" {
		t.Fatalf("check = %+v, %v; want project 42", id, err)
	}
	_, err = checkByID(context.Background(), srv.Client(), "mixpanel", "", fields, map[string]string{"api_secret": "wrong-secret-value"})
	e := asError(t, err)
	if e.Kind != kindUnauthorized || !strings.Contains(e.Message, "check api_secret") || strings.Contains(e.Message, "wrong-secret-value") {
		t.Fatalf("error = %+v, want unauthorized naming api_secret, secret redacted", e)
	}
}
