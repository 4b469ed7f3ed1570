package zendesk

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/connctl/connctl/internal/connector"
)

type usersMe struct{ answer map[string]any }

func (c usersMe) GetJSON(_ context.Context, _, _ string, out any) error {
	*(out.(*map[string]any)) = c.answer
	return nil
}

func (usersMe) PostForm(context.Context, string, url.Values, any) error { panic("not used") }

// users/me answers 200 with an anonymous user (id null) when it does not
// accept the credentials
// (https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user).
func TestAnonymousUserIsUnauthorized(t *testing.T) {
	t.Parallel()
	req := &connector.WhoAmIRequest{URL: "https://acme.zendesk.com/api/v2/users/me", AccessToken: "at"}
	anon := usersMe{map[string]any{"user": map[string]any{"id": nil, "name": "Anonymous user"}}}
	var ce *connector.CallError
	if _, err := oauthHooks().WhoAmI(context.Background(), anon, req); !errors.As(err, &ce) || ce.Kind != "unauthorized" ||
		ce.Message != "acme.zendesk.com answered as an anonymous user: it did not accept the access token" {
		t.Fatalf("anonymous: %v", err)
	}
	agent := usersMe{map[string]any{"user": map[string]any{"id": float64(3723), "email": "agent@acme.example"}}}
	if doc, err := oauthHooks().WhoAmI(context.Background(), agent, req); err != nil || doc["user"] == nil {
		t.Fatalf("agent: %v, %v", doc, err)
	}
}
