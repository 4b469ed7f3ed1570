package hubspot

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

type introspection struct {
	answer map[string]any
	form   url.Values
}

func (c *introspection) GetJSON(context.Context, string, string, any) error { panic("not used") }

func (c *introspection) PostForm(_ context.Context, _ string, form url.Values, out any) error {
	c.form = form
	*(out.(*map[string]any)) = c.answer
	return nil
}

// Who-am-I is token introspection: a POST form of the client's credentials
// and the token; an ended token is active: false.
func TestWhoAmIIsIntrospection(t *testing.T) {
	t.Parallel()
	req := &connector.WhoAmIRequest{URL: "https://api.hubapi.com/oauth/2026-03/token/introspect", AccessToken: "at", ClientID: "cid", ClientSecret: "cs"}
	c := &introspection{answer: map[string]any{"active": true, "user": "a@example.com", "hub_id": float64(42)}}
	doc, err := oauthHooks().WhoAmI(context.Background(), c, req)
	if err != nil || doc["hub_id"] != float64(42) {
		t.Fatalf("got %v, %v", doc, err)
	}
	want := url.Values{"client_id": {"cid"}, "client_secret": {"cs"}, "token": {"at"}, "token_type_hint": {"access_token"}}
	if c.form.Encode() != want.Encode() {
		t.Errorf("form %v, want %v", c.form, want)
	}
	c.answer = map[string]any{"active": false}
	var ce *connector.CallError
	if _, err := oauthHooks().WhoAmI(context.Background(), c, req); !errors.As(err, &ce) || ce.Kind != "revoked" || ce.Message != "HubSpot says the token is not active" {
		t.Fatalf("inactive: %v", err)
	}
}
