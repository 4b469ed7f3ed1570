package keycheck_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBigQueryTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	// https://developers.google.com/identity/protocols/oauth2/service-account#error-codes
	tests := []struct {
		name    string
		status  int
		body    func(assertion string) string
		kind    string
		contain string
	}{
		{"invalid_grant", 400, func(a string) string {
			// A careless endpoint repeating the assertion it got.
			return `{"error":"invalid_grant","error_description":"Invalid JWT Signature. assertion=` + a + `"}`
		}, kindUnauthorized, "the key was deleted or disabled"},
		{"invalid_client", 401, func(string) string {
			return `{"error":"invalid_client","error_description":"The OAuth client was disabled."}`
		}, kindUnauthorized, "disabled or deleted"},
		{"unsupported", 400, func(string) string { return `{"error":"invalid_scope"}` }, kindServer, "invalid_scope"},
		{"rate limited", 429, func(string) string { return `{"error":"rate_limit_exceeded"}` }, kindRateLimit, "HTTP 429"},
		{"server error", 503, func(string) string { return `<html>unavailable</html>` }, kindServer, "HTTP 503"},
		{"no access_token", 200, func(string) string { return `{"token_type":"Bearer"}` }, kindServer, "without an access_token"},
	}
	key := rsaKey(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var assertion string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/token" {
					t.Errorf("the API was called after the token request failed: %s", r.URL)
					return
				}
				_ = r.ParseForm()
				assertion = r.PostForm.Get("assertion")
				reply(w, tc.status, "application/json", tc.body(assertion), "Retry-After", "5")
			}))
			defer srv.Close()
			secrets := map[string]string{"service_account_key": serviceAccountJSON(t, pemPKCS8(t, key), srv.URL+"/token")}
			_, err := checkByID(context.Background(), srv.Client(), "bigquery", "service_account", map[string]string{"project_id": "acme-analytics", "base_url": srv.URL}, secrets)
			e := asError(t, err)
			if e.Kind != tc.kind || !strings.Contains(e.Message, tc.contain) {
				t.Fatalf("error = %+v, want %s containing %q", e, tc.kind, tc.contain)
			}
			if assertion == "" || strings.Contains(e.Message, assertion) {
				t.Fatalf("message %q repeats the signed assertion (or none was sent)", e.Message)
			}
		})
	}
}

func TestBigQueryAPIErrors(t *testing.T) {
	t.Parallel()
	key := rsaKey(t)
	tests := []struct {
		name    string
		status  int
		body    string
		kind    string
		contain string
	}{
		{"API disabled", 403, `{"error":{"code":403,"message":"BigQuery API has not been used in project 1234 before or it is disabled.",
			"errors":[{"message":"...","domain":"usageLimits","reason":"accessNotConfigured"}],"status":"PERMISSION_DENIED",
			"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}`,
			kindForbidden, "enable it in project acme-analytics"},
		{"quota", 403, `{"error":{"code":403,"message":"Quota exceeded","errors":[{"reason":"quotaExceeded"}],"status":"PERMISSION_DENIED"}}`,
			kindRateLimit, "quotaExceeded"},
		{"no such project", 404, `{"error":{"code":404,"message":"Not found: Project acme-analytics","errors":[{"reason":"notFound"}],"status":"NOT_FOUND"}}`,
			kindConfig, "check project_id"},
		{"access denied names the role", 403, `{"error":{"code":403,"message":"Access Denied: Project acme-analytics: User does not have bigquery.datasets.list permission.","errors":[{"reason":"accessDenied"}],"status":"PERMISSION_DENIED"}}`,
			kindForbidden, "grant connctl-test@acme-analytics.iam.gserviceaccount.com a BigQuery role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := bigqueryPeer(t, key)
			_, e := checkWith(t, p, func(w http.ResponseWriter, _ *http.Request) {
				reply(w, tc.status, "application/json; charset=UTF-8", tc.body)
			})
			if e == nil || e.Kind != tc.kind || !strings.Contains(e.Message, tc.contain) {
				t.Fatalf("error = %+v, want %s containing %q", e, tc.kind, tc.contain)
			}
		})
	}
}

func TestBigQueryKeyProblems(t *testing.T) {
	t.Parallel()
	key := rsaKey(t)
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent with an unusable key: %s", r.URL)
	}))
	defer srv.Close()
	tests := []struct {
		name, key, contain string
	}{
		{"not JSON", "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----", "is not JSON"},
		{"OAuth client file", `{"installed":{"client_id":"x"}}`, "lacks client_email"},
		{"user credentials", `{"type":"authorized_user","client_id":"x","refresh_token":"1//0g-REFRESH"}`, "is not a service-account key"},
		{"private key not PEM", strings.Replace(serviceAccountJSON(t, pemPKCS8(t, key), srv.URL+"/token"), "-----BEGIN PRIVATE KEY-----", "", 1), "not PEM"},
		{"EC key", serviceAccountJSON(t, ecPEM, srv.URL+"/token"), "not an RSA key"},
		{"token_uri over plain http", serviceAccountJSON(t, pemPKCS8(t, key), "http://oauth2.example.com/token"), "token_uri is not an https URL"},
		{"token_uri with a password", serviceAccountJSON(t, pemPKCS8(t, key), "https://u:p@oauth2.example.com/token"), "token_uri is not an https URL"},
	}
	for _, tc := range tests {
		_, err := checkByID(context.Background(), srv.Client(), "bigquery", "", map[string]string{"project_id": "acme-analytics", "base_url": srv.URL},
			map[string]string{"service_account_key": tc.key})
		e := asError(t, err)
		if e.Kind != kindConfig || !strings.Contains(e.Message, tc.contain) {
			t.Errorf("%s: error = %+v, want config containing %q", tc.name, e, tc.contain)
		}
		if strings.Contains(e.Message, "PRIVATE KEY") || strings.Contains(e.Message, "REFRESH") {
			t.Errorf("%s: message %q quotes the key", tc.name, e.Message)
		}
	}
}

// Older key files carry a PKCS #1 "RSA PRIVATE KEY".
func TestBigQueryPKCS1Key(t *testing.T) {
	t.Parallel()
	key := rsaKey(t)
	p := bigqueryPeer(t, key)
	p.secretsAt = func(base string) map[string]string {
		pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		return map[string]string{"service_account_key": serviceAccountJSON(t, pkcs1, base+"/token")}
	}
	res := run(t, p, scOK)
	if res.err != nil || *res.id != p.want {
		t.Fatalf("identity %+v, error %v", res.id, res.err)
	}
}
