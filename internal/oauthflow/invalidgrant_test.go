package oauthflow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A rejected refresh token: RFC 6749's 400 invalid_grant, and a provider's
// own code for it when the caller names it (Zoho's invalid_code, which its
// accounts server may answer with HTTP 200), and only then.
func TestRefreshRejectedIsInvalidGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		codes  []string
		want   bool
	}{
		{http.StatusBadRequest, `{"error":"invalid_grant","error_description":"expired"}`, nil, true},
		{http.StatusOK, `{"error":"invalid_code"}`, []string{"invalid_code"}, true},
		{http.StatusOK, `{"error":"invalid_code"}`, nil, false},
		{http.StatusBadRequest, `{"error":"invalid_client"}`, []string{"invalid_code"}, false},
		{http.StatusInternalServerError, `oops`, nil, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := Refresh(context.Background(), Client{ID: "c", Secret: "s", TokenURL: srv.URL, AuthStyle: "params", HTTP: srv.Client()}, "rt")
		srv.Close()
		if err == nil || IsInvalidGrant(err, tc.codes...) != tc.want {
			t.Errorf("%d %s %v: err %v, IsInvalidGrant want %v", tc.status, tc.body, tc.codes, err, tc.want)
		}
	}
}
