package authorization

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/connctl/connctl/internal/configstore"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/safehttp"
	"github.com/connctl/connctl/internal/textsafe"
)

// whoAmI asks the provider who the token belongs to (OIDC userinfo or the
// provider's own who-am-I). It is best effort during authorization: a
// failure leaves the account empty.
func (s *Service) whoAmI(ctx context.Context, e *Endpoints, access string, st *configstore.OAuthState) (account, subject, org string) {
	info, err := s.identity(ctx, e, access, st)
	if err != nil {
		return "", "", ""
	}
	return info.Account, info.Subject, info.Org
}

// Identity is who a connection is authorized as.
type Identity struct {
	Account string `json:"account"`
	Subject string `json:"subject"`
	Org     string `json:"org"`
}

func (s *Service) identity(ctx context.Context, e *Endpoints, access string, st *configstore.OAuthState) (*Identity, error) {
	u := e.UserinfoURL
	if st != nil && strings.Contains(u, "{") {
		vars := map[string]string{}
		for k, v := range st.Extra {
			vars[k] = v
		}
		for k, v := range e.Fields {
			vars[k] = v
		}
		var err error
		if u, err = expand(u, vars); err != nil {
			return nil, fmt.Errorf("who-am-I endpoint %s", err)
		}
	}
	if u == "" {
		return nil, fmt.Errorf("%s has no who-am-I endpoint", e.Connector.Name)
	}
	var doc map[string]any
	if h := e.hooks(); h.WhoAmI != nil {
		d, err := h.WhoAmI(ctx, caller{s}, &connector.WhoAmIRequest{URL: u, AccessToken: access, ClientID: e.ClientID, ClientSecret: e.ClientSecret})
		if err != nil {
			return nil, err
		}
		doc = d
	} else if err := s.getJSON(ctx, u, "Bearer "+access, &doc); err != nil {
		return nil, err
	}
	return pickIdentity(doc), nil
}

func (s *Service) postForm(ctx context.Context, u string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// The form carries the client secret and the token (token
	// introspection): no redirect is followed, to any origin.
	resp, err := safehttp.NoRedirects(s.HTTP, "introspection endpoint").Do(req)
	if err != nil {
		if re := safehttp.AsRedirect(err); re != nil {
			return &CallError{Kind: "server", Message: re.Error()}
		}
		return &CallError{Kind: "network", Message: "cannot reach " + hostOf(u) + ": " + shortErr(err)}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return &CallError{Kind: "server", Status: resp.StatusCode, Message: fmt.Sprintf("%s answered HTTP %d", hostOf(u), resp.StatusCode)}
	}
	return json.Unmarshal(body, out)
}

// pickIdentity finds the user's name, id and org in a who-am-I answer,
// looking at the top level, then "user", then the first of "users".
func pickIdentity(doc map[string]any) *Identity {
	scopes := []map[string]any{doc}
	if u, ok := doc["user"].(map[string]any); ok {
		scopes = append(scopes, u)
	}
	if us, ok := doc["users"].([]any); ok && len(us) > 0 {
		if u, ok := us[0].(map[string]any); ok {
			scopes = append(scopes, u)
		}
	}
	first := func(keys ...string) string {
		for _, m := range scopes {
			for _, k := range keys {
				switch v := m[k].(type) {
				case string:
					if v != "" {
						return v
					}
				case float64:
					return fmt.Sprintf("%.0f", v)
				}
			}
		}
		return ""
	}
	// The provider chose these strings: they are stored and shown, so
	// terminal controls in them are escaped here, where they come in.
	return &Identity{
		Account: textsafe.Sanitize(first("email", "preferred_username", "username", "name", "user", "UserId", "user_id", "sub")),
		Subject: textsafe.Sanitize(first("sub", "user_id", "account_id", "UserId", "id")),
		Org:     textsafe.Sanitize(first("organization_id", "OrganizationId", "hub_id")),
	}
}
