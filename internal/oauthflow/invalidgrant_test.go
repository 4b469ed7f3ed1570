package oauthflow

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A rejected refresh token: RFC 6749's 400 invalid_grant, and Zoho's
// invalid_code, which its accounts server may answer with HTTP 200.
func TestRefreshRejectedIsInvalidGrant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		body   string
		want   bool
	}{
		{http.StatusBadRequest, `{"error":"invalid_grant","error_description":"expired"}`, true},
		{http.StatusOK, `{"error":"invalid_code"}`, true},
		{http.StatusBadRequest, `{"error":"invalid_client"}`, false},
		{http.StatusInternalServerError, `oops`, false},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(tc.body))
		}))
		_, err := Refresh(context.Background(), Client{ID: "c", Secret: "s", TokenURL: srv.URL, AuthStyle: "params", HTTP: srv.Client()}, "rt")
		srv.Close()
		if err == nil || IsInvalidGrant(err) != tc.want {
			t.Errorf("%d %s: err %v, IsInvalidGrant want %v", tc.status, tc.body, err, tc.want)
		}
	}
}
