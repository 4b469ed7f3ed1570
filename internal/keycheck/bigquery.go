package keycheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/connctl/connctl/internal/googlesa"
)

// bigqueryScope is the scope the service account's token asks for.
const bigqueryScope = "https://www.googleapis.com/auth/bigquery"

// Google BigQuery with a service-account key: sign a JWT with the key
// (RS256), exchange it for an access token at the key's token_uri, then
// list at most one dataset of project_id.
// https://developers.google.com/identity/protocols/oauth2/service-account#httprest
// https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/list
func checkBigQuery(ctx context.Context, in *input) (*Identity, error) {
	project, err := in.field("project_id")
	if err != nil {
		return nil, err
	}
	raw := in.fileSecret("service_account_key")
	if raw == "" {
		return nil, in.missingSecret("service_account_key", "--secret-file key.json")
	}
	key, err := googlesa.ParseKey(raw)
	if err != nil {
		return nil, &Error{Kind: kindConfig, Message: err.Error() + ": download a new JSON key under IAM & Admin > Service Accounts > Keys and give it with --secret-file"}
	}
	in.sensitiveValue(key.PrivateKey)
	tokenURI, err := key.CheckedTokenURI()
	if err != nil {
		return nil, &Error{Kind: kindConfig, Message: err.Error() + ": download a new JSON key (Google's is " + googlesa.DefaultTokenURI + ")"}
	}
	assertion, err := key.Assertion(bigqueryScope, tokenURI, time.Now())
	if err != nil {
		return nil, &Error{Kind: kindConfig, Message: "cannot sign with the service_account_key's private_key: download a new JSON key under IAM & Admin > Service Accounts > Keys"}
	}
	in.sensitiveValue(assertion)
	access, err := in.googleToken(ctx, tokenURI, assertion, key.ClientEmail)
	if err != nil {
		return nil, err
	}
	in.sensitiveValue(access)
	u := in.baseURL("https://bigquery.googleapis.com") + "/bigquery/v2/projects/" + url.PathEscape(project) + "/datasets?maxResults=1"
	var list map[string]json.RawMessage
	_, err = in.getJSON(ctx, u, "Authorization", "Bearer "+access, fixes{
		unauthorized: "the access token for " + key.ClientEmail + " was refused: test again, or create a new key",
		forbidden:    "grant " + key.ClientEmail + " a BigQuery role (e.g. BigQuery Metadata Viewer) on project " + project,
		notFound:     "project " + project + " does not exist or " + key.ClientEmail + " cannot see it: check project_id",
	}, func(r *response) *Error { return in.googleAPIError(r, project, key.ClientEmail) }, &list)
	if err != nil {
		return nil, err
	}
	return &Identity{Account: key.ClientEmail, Subject: key.ClientID, Org: project}, nil
}

// googleToken exchanges the assertion for an access token (RFC 7523 JWT
// bearer grant). OAuth errors such as invalid_grant mean the key is wrong,
// deleted or disabled, or the clock is off.
func (in *input) googleToken(ctx context.Context, tokenURI, assertion, email string) (string, error) {
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {assertion}}
	r, err := in.do(ctx, request{
		method: http.MethodPost, url: tokenURI,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body:   []byte(form.Encode()),
	})
	if err != nil {
		return "", err
	}
	if !r.ok() {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(r.body, &oe)
		why := in.quote(oe.Error)
		if d := in.quote(oe.Description); d != "" {
			why += ": " + d
		}
		switch oe.Error {
		case "invalid_grant":
			return "", &Error{Kind: kindUnauthorized, Status: r.status, Message: fmt.Sprintf("%s rejected the service account key (%s): the key was deleted or disabled, or this computer's clock is off; create a new key for %s", r.host, why, email)}
		case "invalid_client", "unauthorized_client":
			return "", &Error{Kind: kindUnauthorized, Status: r.status, Message: fmt.Sprintf("%s rejected service account %s (%s): the account is disabled or deleted", r.host, email, why)}
		}
		if r.status == http.StatusBadRequest && oe.Error != "" {
			return "", &Error{Kind: kindServer, Status: r.status, Message: fmt.Sprintf("%s refused the token request (%s)", r.host, why)}
		}
		return "", statusError(r, fixes{
			unauthorized: "create a new key for " + email,
			forbidden:    "service account " + email + " may not get tokens: check that it is enabled",
			notFound:     "check the service_account_key's token_uri",
		})
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := decodeJSON(r, &tok); err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", unexpected(r, "an access_token")
	}
	return tok.AccessToken, nil
}

// googleAPIError classifies a Google API error by its reason: BigQuery
// reports quota and rate limits as HTTP 403 rateLimitExceeded or
// quotaExceeded, and a disabled API as 403 accessNotConfigured.
// https://cloud.google.com/bigquery/docs/error-messages
func (in *input) googleAPIError(r *response, project, email string) *Error {
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
	if json.Unmarshal(r.body, &ge) != nil {
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
			return &Error{Kind: kindRateLimit, Status: r.status, Message: fmt.Sprintf("%s says a quota or rate limit is exceeded (HTTP %d %s): %s", r.host, r.status, reason, retryAfter(r.header))}
		case "accessNotConfigured", "SERVICE_DISABLED":
			return &Error{Kind: kindForbidden, Status: r.status, Message: fmt.Sprintf("%s says the BigQuery API is not enabled (HTTP %d %s): enable it in project %s (APIs & Services > Library > BigQuery API)", r.host, r.status, reason, project)}
		}
	}
	if r.status == http.StatusForbidden && ge.Error.Message != "" {
		return &Error{Kind: kindForbidden, Status: r.status, Message: fmt.Sprintf("%s refused access (HTTP 403: %s): grant %s a BigQuery role (e.g. BigQuery Metadata Viewer) on project %s", r.host, in.quote(ge.Error.Message), email, project)}
	}
	return nil
}
