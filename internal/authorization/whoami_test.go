package authorization

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/connctl/connctl/internal/connector/all"
)

// A 403 is a missing permission, unless it says the token itself is bad:
// RFC 6750's invalid_token, or Salesforce's Bad_OAuth_Token from its
// identity and userinfo endpoints
// (https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_openid.htm).
func TestForbiddenThatMeansABadToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, header, body, kind string
	}{
		{"salesforce", "", "Bad_OAuth_Token", "unauthorized"},
		{"rfc6750", `Bearer error="invalid_token", error_description="expired"`, "", "unauthorized"},
		{"scope", `Bearer error="insufficient_scope"`, `{"error":"insufficient_scope"}`, "forbidden"},
		{"plain", "", "Forbidden", "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("WWW-Authenticate", tc.header)
				}
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s := &Service{HTTP: srv.Client()}
			var ce *CallError
			if err := s.getJSON(context.Background(), srv.URL, "Bearer x", nil); !errors.As(err, &ce) || ce.Kind != tc.kind {
				t.Fatalf("got %v, want kind %s", err, tc.kind)
			}
		})
	}
}

// Zendesk's users/me answers 200 with an anonymous user (id null) when it
// does not accept the credentials
// (https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
func TestZendeskAnonymousUserIsUnauthorized(t *testing.T) {
	t.Parallel()
	anonymous := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if anonymous {
			_, _ = w.Write([]byte(`{"user":{"id":null,"name":"Anonymous user","email":"invalid@example.com","role":"end-user"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"user":{"id":3723,"name":"Agent","email":"agent@acme.example","role":"admin"}}`))
	}))
	defer srv.Close()
	s := &Service{HTTP: srv.Client()}
	ctr, _ := all.Catalogue().Lookup("zendesk")
	m, _ := ctr.Auth("oauth2")
	e := &Endpoints{Connector: ctr, Method: m, UserinfoURL: srv.URL}
	var ce *CallError
	if _, err := s.identity(context.Background(), e, "tok", nil); !errors.As(err, &ce) || ce.Kind != "unauthorized" {
		t.Fatalf("anonymous: got %v, want unauthorized", err)
	}
	anonymous = false
	if id, err := s.identity(context.Background(), e, "tok", nil); err != nil || id.Account != "agent@acme.example" {
		t.Fatalf("agent: got %+v, %v", id, err)
	}
}
