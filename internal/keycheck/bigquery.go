package keycheck

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// bigqueryScope is the scope the service account's token asks for.
const bigqueryScope = "https://www.googleapis.com/auth/bigquery"

// googleTokenURI is the token endpoint of keys that do not name one.
const googleTokenURI = "https://oauth2.googleapis.com/token"

// serviceAccountKey is the part of a Google service-account JSON key file
// the check needs.
type serviceAccountKey struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	TokenURI     string `json:"token_uri"`
}

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
	key, priv, err := parseServiceAccountKey(raw)
	if err != nil {
		return nil, err
	}
	in.sensitiveValue(key.PrivateKey)
	tokenURI, err := checkTokenURI(key.TokenURI)
	if err != nil {
		return nil, err
	}
	assertion, err := signJWT(priv, key.PrivateKeyID, map[string]any{
		"iss": key.ClientEmail, "scope": bigqueryScope, "aud": tokenURI,
	}, time.Now())
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

// parseServiceAccountKey reads the key file and its RSA private key. Its
// messages never quote the key.
func parseServiceAccountKey(raw string) (*serviceAccountKey, *rsa.PrivateKey, error) {
	var key serviceAccountKey
	fail := func(what string) (*serviceAccountKey, *rsa.PrivateKey, error) {
		return nil, nil, &Error{Kind: kindConfig, Message: "service_account_key " + what + ": download a new JSON key under IAM & Admin > Service Accounts > Keys and give it with --secret-file"}
	}
	if err := json.Unmarshal([]byte(raw), &key); err != nil {
		return fail("is not JSON")
	}
	if key.Type != "" && key.Type != "service_account" {
		return fail("is not a service-account key")
	}
	if key.ClientEmail == "" || key.PrivateKey == "" {
		return fail("lacks client_email or private_key")
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	if block == nil {
		return fail("has a private_key that is not PEM")
	}
	var priv *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return fail("has a private_key that is not an RSA key")
		}
		priv = rk
	} else if rk, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		priv = rk
	} else {
		return fail("has a private_key that cannot be read")
	}
	return &key, priv, nil
}

// checkTokenURI accepts https, and http only for a loopback host (a local
// test server): the signed assertion must not cross a network in clear.
func checkTokenURI(v string) (string, error) {
	if v == "" {
		return googleTokenURI, nil
	}
	u, err := url.Parse(v)
	if err == nil && u.Host != "" && u.User == nil {
		if u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname())) {
			return v, nil
		}
	}
	return "", &Error{Kind: kindConfig, Message: "service_account_key's token_uri is not an https URL: download a new JSON key (Google's is " + googleTokenURI + ")"}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// signJWT returns a compact RS256 JWT with claims plus iat and exp (one
// hour later), as Google's token endpoint expects for the JWT bearer grant.
func signJWT(priv *rsa.PrivateKey, kid string, claims map[string]any, now time.Time) (string, error) {
	header := map[string]string{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	body := map[string]any{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range claims {
		body[k] = v
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
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
