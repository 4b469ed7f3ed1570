package jira

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
)

// sitesCaller answers GET /oauth/token/accessible-resources with sites
// (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/).
type sitesCaller struct {
	sites   []site
	err     error
	gotURL  string
	gotAuth string
}

func (c *sitesCaller) GetJSON(_ context.Context, u, auth string, out any) error {
	c.gotURL, c.gotAuth = u, auth
	if c.err != nil {
		return c.err
	}
	*(out.(*[]site)) = append([]site(nil), c.sites...)
	return nil
}

func (c *sitesCaller) PostForm(context.Context, string, url.Values, any) error { panic("not used") }

func TestGrantPicksASite(t *testing.T) {
	t.Parallel()
	two := []site{{ID: "cloud-1", Name: "acme", URL: "https://acme.atlassian.net"}, {ID: "cloud-2", Name: "beta\x1b[31m", URL: "https://beta.atlassian.net"}}
	pick1 := func(string, []string) (int, error) { return 1, nil }
	for _, tc := range []struct {
		name    string
		sites   []site
		fields  map[string]string
		prompt  func(string, []string) (int, error)
		wantID  string
		wantErr string
		usage   bool
	}{
		{name: "only site", sites: two[:1], wantID: "cloud-1"},
		{name: "site_url", sites: two, fields: map[string]string{"site_url": "https://BETA.atlassian.net/"}, wantID: "cloud-2"},
		{name: "site_url not reached", sites: two, fields: map[string]string{"site_url": "https://gamma.atlassian.net"}, wantErr: "does not reach site https://gamma.atlassian.net (it reaches: https://acme.atlassian.net, https://beta.atlassian.net)"},
		{name: "user's choice", sites: two, prompt: pick1, wantID: "cloud-2"},
		{name: "nobody to ask", sites: two, wantErr: "several Jira sites (https://acme.atlassian.net, https://beta.atlassian.net)", usage: true},
		{name: "no site", wantErr: "reaches no Jira site"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &sitesCaller{sites: tc.sites}
			g, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{AccessToken: "at", Fields: tc.fields, Call: c, Prompt: tc.prompt})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || (exitcode.FromError(err) == exitcode.Usage) != tc.usage {
					t.Fatalf("got %v (exit %d), want %q", err, exitcode.FromError(err), tc.wantErr)
				}
				return
			}
			if err != nil || g.Org != tc.wantID || g.Extra["cloud_id"] != tc.wantID || g.APIBase != "https://api.atlassian.com/ex/jira/"+tc.wantID {
				t.Fatalf("got %+v, %v", g, err)
			}
			if c.gotURL != "https://api.atlassian.com/oauth/token/accessible-resources" || c.gotAuth != "Bearer at" {
				t.Fatalf("asked %s with %q", c.gotURL, c.gotAuth)
			}
		})
	}
}

// base_url is the API base, .../ex/jira/{cloudId}: the sites are listed at
// the gateway's root; a failed listing says what was being done.
func TestSitesListedAtTheGatewayRoot(t *testing.T) {
	t.Parallel()
	c := &sitesCaller{err: errors.New("127.0.0.1:9 rejected the credentials (HTTP 401)")}
	_, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{AccessToken: "at", Fields: map[string]string{"base_url": "http://127.0.0.1:9/ex/jira/cloud-1/"}, Call: c})
	if c.gotURL != "http://127.0.0.1:9/oauth/token/accessible-resources" {
		t.Errorf("asked %s", c.gotURL)
	}
	if err == nil || err.Error() != "list the Atlassian sites this grant reaches: 127.0.0.1:9 rejected the credentials (HTTP 401)" {
		t.Errorf("got %v", err)
	}
}

// Site names and URLs are shown in the choice and stored: no terminal
// controls get through.
func TestSiteNamesAreSanitized(t *testing.T) {
	t.Parallel()
	var shown []string
	c := &sitesCaller{sites: []site{{ID: "c1", Name: "a\x1b]0;x\x07", URL: "https://a.atlassian.net"}, {ID: "c2", Name: "b", URL: "https://b.atlassian.net"}}}
	_, err := oauthHooks().DescribeGrant(context.Background(), &connector.GrantInput{Call: c, Prompt: func(_ string, opts []string) (int, error) { shown = opts; return 0, nil }})
	if err != nil || len(shown) != 2 || strings.ContainsAny(shown[0], "\x1b\x07") {
		t.Fatalf("got %q, %v", shown, err)
	}
}
