package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/connctl/connctl/internal/googlesa"
	"github.com/connctl/connctl/internal/keycheck"
)

// Google BigQuery with a service-account key: sign a JWT with the key
// (RS256), exchange it for an access token at the key's token_uri, then
// list at most one dataset of project_id.
// https://developers.google.com/identity/protocols/oauth2/service-account#httprest
// https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/list
func checkServiceAccount(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	project, err := in.Field("project_id")
	if err != nil {
		return nil, err
	}
	raw := in.FileSecret("service_account_key")
	if raw == "" {
		return nil, in.MissingSecret("service_account_key", "--secret-file key.json")
	}
	key, err := googlesa.ParseKey(raw)
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: err.Error() + ": download a new JSON key under IAM & Admin > Service Accounts > Keys and give it with --secret-file"}
	}
	in.Sensitive(key.PrivateKey)
	tokenURI, err := key.CheckedTokenURI()
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: err.Error() + ": download a new JSON key (Google's is " + googlesa.DefaultTokenURI + ")"}
	}
	assertion, err := key.Assertion(bigqueryScope, tokenURI, time.Now())
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "cannot sign with the service_account_key's private_key: download a new JSON key under IAM & Admin > Service Accounts > Keys"}
	}
	in.Sensitive(assertion)
	access, err := googleToken(ctx, in, tokenURI, assertion, key.ClientEmail)
	if err != nil {
		return nil, err
	}
	in.Sensitive(access)
	u := in.BaseURL("https://bigquery.googleapis.com") + "/bigquery/v2/projects/" + url.PathEscape(project) + "/datasets?maxResults=1"
	var list map[string]json.RawMessage
	_, err = in.GetJSON(ctx, u, "Authorization", "Bearer "+access, keycheck.Fixes{
		Unauthorized: "the access token for " + key.ClientEmail + " was refused: test again, or create a new key",
		Forbidden:    "grant " + key.ClientEmail + " a BigQuery role (e.g. BigQuery Metadata Viewer) on project " + project,
		NotFound:     "project " + project + " does not exist or " + key.ClientEmail + " cannot see it: check project_id",
	}, func(r *keycheck.Response) *keycheck.Error { return googleAPIError(in, r, project, key.ClientEmail) }, &list)
	if err != nil {
		return nil, err
	}
	return &keycheck.Identity{Account: key.ClientEmail, Subject: key.ClientID, Org: project}, nil
}

// googleToken exchanges the assertion for an access token (RFC 7523 JWT
// bearer grant). OAuth errors such as invalid_grant mean the key is wrong,
// deleted or disabled, or the clock is off.
func googleToken(ctx context.Context, in *keycheck.Call, tokenURI, assertion, email string) (string, error) {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	r, err := in.Do(ctx, keycheck.Request{
		Method: http.MethodPost, URL: tokenURI,
		Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		Body:   []byte(form.Encode()),
	})
	if err != nil {
		return "", err
	}
	if !r.OK() {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(r.Body, &oe)
		why := in.Quote(oe.Error)
		if d := in.Quote(oe.Description); d != "" {
			why += ": " + d
		}
		switch oe.Error {
		case "invalid_grant":
			return "", &keycheck.Error{Kind: keycheck.KindUnauthorized, Status: r.Status, Message: fmt.Sprintf("%s rejected the service account key (%s): the key was deleted or disabled, or this computer's clock is off; create a new key for %s", r.Host, why, email)}
		case "invalid_client", "unauthorized_client":
			return "", &keycheck.Error{Kind: keycheck.KindUnauthorized, Status: r.Status, Message: fmt.Sprintf("%s rejected service account %s (%s): the account is disabled or deleted", r.Host, email, why)}
		}
		if r.Status == http.StatusBadRequest && oe.Error != "" {
			return "", &keycheck.Error{Kind: keycheck.KindServer, Status: r.Status, Message: fmt.Sprintf("%s refused the token request (%s)", r.Host, why)}
		}
		return "", keycheck.StatusError(r, keycheck.Fixes{
			Unauthorized: "create a new key for " + email,
			Forbidden:    "service account " + email + " may not get tokens: check that it is enabled",
			NotFound:     "check the service_account_key's token_uri",
		})
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := keycheck.DecodeJSON(r, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", keycheck.Unexpected(r, "an access_token")
	}
	return tok.AccessToken, nil
}

// googleAPIError classifies a Google API error by its reason: BigQuery
// reports quota and rate limits as HTTP 403 rateLimitExceeded or
// quotaExceeded, and a disabled API as 403 accessNotConfigured.
// https://cloud.google.com/bigquery/docs/error-messages
func googleAPIError(in *keycheck.Call, r *keycheck.Response, project, email string) *keycheck.Error {
	var ge struct {
		Error struct {
			Message string `json:"message"`
			Status  string `json:"status"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
			Details []struct {
				Reason string `json:"reason"`
			} `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(r.Body, &ge) != nil {
		return nil
	}
	var reasons []string
	for _, e := range ge.Error.Errors {
		reasons = append(reasons, e.Reason)
	}
	for _, d := range ge.Error.Details {
		reasons = append(reasons, d.Reason)
	}
	for _, reason := range reasons {
		switch reason {
		case "rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "RATE_LIMIT_EXCEEDED":
			return &keycheck.Error{Kind: keycheck.KindRateLimit, Status: r.Status, Message: fmt.Sprintf("%s says a quota or rate limit is exceeded (HTTP %d %s): %s", r.Host, r.Status, reason, keycheck.RetryAfter(r.Header))}
		case "accessNotConfigured", "SERVICE_DISABLED":
			return &keycheck.Error{Kind: keycheck.KindForbidden, Status: r.Status, Message: fmt.Sprintf("%s says the BigQuery API is not enabled (HTTP %d %s): enable it in project %s (APIs & Services > Library > BigQuery API)", r.Host, r.Status, reason, project)}
		}
	}
	if r.Status == http.StatusForbidden && ge.Error.Message != "" {
		return &keycheck.Error{Kind: keycheck.KindForbidden, Status: r.Status, Message: fmt.Sprintf("%s refused access (HTTP 403: %s): grant %s a BigQuery role (e.g. BigQuery Metadata Viewer) on project %s", r.Host, in.Quote(ge.Error.Message), email, project)}
	}
	return nil
}
