package authorization

import (
	"context"
	"testing"
)

// SurveyMonkey's OAuth endpoints are on the API host of the account's data
// centre (https://api.surveymonkey.com/v3/docs, "Data centers"): the region
// field picks it, and auth_url/token_url still override.
func TestSurveyMonkeyRegionPicksTheOAuthHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		set  map[string]string
		auth string
		tok  string
	}{
		{"us", map[string]string{}, "https://api.surveymonkey.com/oauth/authorize", "https://api.surveymonkey.com/oauth/token"},
		{"eu", map[string]string{"region": "eu"}, "https://api.eu.surveymonkey.com/oauth/authorize", "https://api.eu.surveymonkey.com/oauth/token"},
		{"ca", map[string]string{"region": "ca"}, "https://api.surveymonkey.ca/oauth/authorize", "https://api.surveymonkey.ca/oauth/token"},
		{"override", map[string]string{"region": "eu", "token_url": "http://127.0.0.1:9/token"}, "https://api.eu.surveymonkey.com/oauth/authorize", "http://127.0.0.1:9/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newService(t)
			set := map[string]string{"auth": "oauth2", "client_id": "cid"}
			for k, v := range tc.set {
				set[k] = v
			}
			create(t, s, "surveymonkey", "sm", set, map[string]string{"client_secret": "sec"})
			c, _ := s.Mgr.Config.Find("sm")
			e, err := s.Resolve(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if e.AuthURL != tc.auth || e.TokenURL != tc.tok {
				t.Errorf("auth %s, token %s; want %s, %s", e.AuthURL, e.TokenURL, tc.auth, tc.tok)
			}
		})
	}
}
