package jira

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/exitcode"
	"github.com/connctl/connctl/internal/textsafe"
)

// oauthHooks: a 3LO grant reaches one or more sites, listed by
// GET /oauth/token/accessible-resources; the connection keeps one, and its
// API base is https://api.atlassian.com/ex/jira/{cloudId}
// (https://developer.atlassian.com/cloud/oauth/getting-started/making-calls-to-api/).
func oauthHooks() *connector.OAuthHooks {
	return &connector.OAuthHooks{DescribeGrant: describeGrant}
}

func describeGrant(ctx context.Context, in *connector.GrantInput) (*connector.GrantInfo, error) {
	site, err := pickSite(ctx, in)
	if err != nil {
		return nil, err
	}
	return &connector.GrantInfo{
		APIBase: "https://api.atlassian.com/ex/jira/" + site.ID,
		Org:     site.ID,
		Extra:   map[string]string{"cloud_id": site.ID, "site_url": site.URL},
	}, nil
}

type site struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// pickSite picks the Jira site: the one matching the connection's
// site_url, the only one, or the user's choice.
func pickSite(ctx context.Context, in *connector.GrantInput) (*site, error) {
	// base_url is the API base (https://api.atlassian.com/ex/jira/{cloudId}):
	// the gateway root is what precedes /ex/jira/.
	base := "https://api.atlassian.com"
	if b := strings.TrimSuffix(in.Fields["base_url"], "/"); b != "" {
		if i := strings.Index(b, "/ex/jira/"); i >= 0 {
			b = b[:i]
		}
		base = b
	}
	var sites []site
	if err := in.Call.GetJSON(ctx, base+"/oauth/token/accessible-resources", "Bearer "+in.AccessToken, &sites); err != nil {
		return nil, fmt.Errorf("list the Atlassian sites this grant reaches: %w", err)
	}
	for i := range sites {
		// Shown in the choice and stored in the config: no terminal controls.
		sites[i].ID, sites[i].Name, sites[i].URL = textsafe.Sanitize(sites[i].ID), textsafe.Sanitize(sites[i].Name), textsafe.Sanitize(sites[i].URL)
	}
	if len(sites) == 0 {
		return nil, errors.New("the grant reaches no Jira site: sign in with an account that has Jira access")
	}
	if want := strings.TrimSuffix(in.Fields["site_url"], "/"); want != "" {
		for i := range sites {
			if strings.EqualFold(strings.TrimSuffix(sites[i].URL, "/"), want) {
				return &sites[i], nil
			}
		}
		return nil, fmt.Errorf("the grant does not reach site %s (it reaches: %s)", want, siteList(sites))
	}
	if len(sites) == 1 {
		return &sites[0], nil
	}
	if in.Prompt == nil {
		return nil, exitcode.WithHint(exitcode.UsageError("the grant reaches several Jira sites (%s) and connctl is not running interactively", siteList(sites)),
			"choose one with `--set site_url=https://<site>.atlassian.net` and authorize again")
	}
	opts := make([]string, len(sites))
	for i, st := range sites {
		opts[i] = st.Name + " (" + st.URL + ")"
	}
	i, err := in.Prompt("Which Jira site should this connection use?", opts)
	if err != nil {
		return nil, err
	}
	return &sites[i], nil
}

func siteList(sites []site) string {
	urls := make([]string, len(sites))
	for i, s := range sites {
		urls[i] = s.URL
	}
	return strings.Join(urls, ", ")
}
