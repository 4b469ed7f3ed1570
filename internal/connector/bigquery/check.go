package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/connctl/connctl/internal/googlesa"
	"github.com/connctl/connctl/internal/keycheck"
)

// Google BigQuery with a service-account key: sign a JWT with the key
// (RS256) and exchange it for an access token at the key's token_uri (both
// by golang.org/x/oauth2/jwt, see googleToken), then
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
	access, err := googleToken(ctx, in, key, tokenURI)
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

// googleToken gets an access token with the key: golang.org/x/oauth2/jwt
// signs the assertion and makes the JWT bearer grant request (RFC 7523),
// which goes out through in.Do, so its answer is classified here as every
// other answer of a check is. OAuth errors such as invalid_grant mean the
// key is wrong, deleted or disabled, or the clock is off.
func googleToken(ctx context.Context, in *keycheck.Call, key *googlesa.Key, tokenURI string) (string, error) {
	email := key.ClientEmail
	var r *keycheck.Response
	var sendErr error
	send := func(hr *http.Request) (*http.Response, error) {
		var body []byte
		if hr.Body != nil {
			b, err := io.ReadAll(hr.Body)
			if err != nil {
				return nil, err
			}
			body = b
		}
		if form, err := url.ParseQuery(string(body)); err == nil {
			in.Sensitive(form.Get("assertion"))
		}
		r, sendErr = in.Do(ctx, keycheck.Request{Method: hr.Method, URL: hr.URL.String(), Header: hr.Header, Body: body})
		if sendErr != nil {
			return nil, sendErr
		}
		return &http.Response{StatusCode: r.Status, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.Body)), Request: hr}, nil
	}
	access, err := key.Token(ctx, send, bigqueryScope, tokenURI)
	switch {
	case sendErr != nil:
		return "", sendErr
	case r == nil && err != nil:
		return "", &keycheck.Error{Kind: keycheck.KindConfig, Message: "cannot sign with the service_account_key's private_key: download a new JSON key under IAM & Admin > Service Accounts > Keys"}
	case err == nil:
		return access, nil
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
	return "", keycheck.Unexpected(r, "an access_token")
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
