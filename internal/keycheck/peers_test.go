package keycheck_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/awssig"
)

// This file holds one fake provider (a peer) per connector. Each follows its
// vendor's documented request and answer shapes: verify checks the method,
// path, query and credential header of what keycheck sends, and answer
// replies with the documented JSON or XML for a scenario.

// scenario is one kind of answer a peer gives.
type scenario string

const (
	scOK           scenario = "ok"
	scUnauthorized scenario = "unauthorized"
	scForbidden    scenario = "forbidden"
	scRateLimited  scenario = "rate_limited"
	scServerError  scenario = "server_error"
	scMalformed    scenario = "malformed"
	// scEcho is a refusal whose body repeats everything the request carried,
	// credentials included, as a careless provider or proxy might.
	scEcho scenario = "echo"
)

// wantKind is the Error kind each failing scenario must give.
var wantKind = map[scenario]string{
	scUnauthorized: kindUnauthorized,
	scForbidden:    kindForbidden,
	scRateLimited:  kindRateLimit,
	scServerError:  kindServer,
	scMalformed:    kindServer,
}

// peer is a fake provider for one connector's key-based auth method.
type peer struct {
	connector, auth string
	secrets         map[string]string
	// secretsAt, when set, builds the secrets for a server at base
	// (BigQuery's key names its token endpoint).
	secretsAt func(base string) map[string]string
	// fields are the connection's effective fields, pointed at base (the
	// test server's URL).
	fields func(base string) map[string]string
	// verify returns what is wrong with a request, or "".
	verify func(r *http.Request, body []byte) string
	// answer writes the vendor's answer for a scenario.
	answer func(w http.ResponseWriter, r *http.Request, s scenario)
	want   Identity
	// other serves requests that are not the who-am-I call (BigQuery's
	// token endpoint); it reports whether it answered.
	other func(t *testing.T, w http.ResponseWriter, r *http.Request, body []byte) bool
}

// secretsFor returns the secrets of a connection to a server at base.
func (p *peer) secretsFor(base string) map[string]string {
	if p.secretsAt != nil {
		return p.secretsAt(base)
	}
	return p.secrets
}

// handler serves p for scenario s, failing t on a request that does not
// follow the documented shape. seen receives the Host of every request.
func (p *peer) handler(t *testing.T, s scenario, seen *hosts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen.add(r.Host + " " + r.Method + " " + r.URL.RequestURI())
		seen.credentials(r, body)
		if p.other != nil && p.other(t, w, r, body) {
			return
		}
		if msg := p.verify(r, body); msg != "" {
			t.Errorf("%s: request %s %s does not follow the documented shape: %s", p.connector, r.Method, r.URL, msg)
			http.Error(w, "test peer: "+msg, http.StatusBadRequest)
			return
		}
		if s == scEcho {
			echo(w, r, body)
			return
		}
		p.answer(w, r, s)
	})
}

// hosts records what a peer was asked, and the credentials it was sent,
// safely across goroutines.
type hosts struct {
	mu    sync.Mutex
	list  []string
	creds []string
}

func (h *hosts) add(s string) { h.mu.Lock(); h.list = append(h.list, s); h.mu.Unlock() }

// credentials records every credential a request carried: the value of a
// Basic or Bearer Authorization header (without the scheme), key headers,
// the session token and a JWT assertion.
func (h *hosts) credentials(r *http.Request, body []byte) {
	var found []string
	if scheme, v, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && scheme != "AWS4-HMAC-SHA256" {
		found = append(found, v)
	}
	for _, k := range []string{"X-Aptrinsic-Api-Key", "Accesskey", "X-Amz-Security-Token"} {
		if v := r.Header.Get(k); v != "" {
			found = append(found, v)
		}
	}
	if form, err := parseForm(body); err == nil && form.Get("assertion") != "" {
		found = append(found, form.Get("assertion"))
	}
	h.mu.Lock()
	h.creds = append(h.creds, found...)
	h.mu.Unlock()
}

func (h *hosts) sent() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.creds...)
}

func (h *hosts) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.list...)
}

// echo refuses with a JSON body in the shapes this package quotes from
// (message, error_description, error.message) repeating every header
// value and the request body.
func echo(w http.ResponseWriter, r *http.Request, body []byte) {
	var all []string
	for k, vs := range r.Header {
		all = append(all, k+": "+strings.Join(vs, ","))
	}
	all = append(all, string(body))
	text := strings.Join(all, " | ")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"message": text, "error_description": text, "errorDesc": text,
		"error": map[string]any{"message": text, "errors": []any{map[string]string{"reason": "accessDenied", "message": text}}},
	})
}

// reply writes a JSON (or other) answer.
func reply(w http.ResponseWriter, status int, contentType, body string, header ...string) {
	for i := 0; i+1 < len(header); i += 2 {
		w.Header().Set(header[i], header[i+1])
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// jsonPeerAnswer answers a JSON API: ok with okBody; each failing scenario
// with its status and the vendor's error body from errs (a generic one when
// missing). Rate limits carry Retry-After: 7.
func jsonPeerAnswer(okBody string, errs map[scenario]string) func(http.ResponseWriter, *http.Request, scenario) {
	return func(w http.ResponseWriter, _ *http.Request, s scenario) {
		const ct = "application/json; charset=utf-8"
		body := errs[s]
		switch s {
		case scOK:
			reply(w, http.StatusOK, ct, okBody)
		case scUnauthorized:
			reply(w, http.StatusUnauthorized, ct, or(body, `{"message":"unauthorized"}`))
		case scForbidden:
			reply(w, http.StatusForbidden, ct, or(body, `{"message":"forbidden"}`))
		case scRateLimited:
			reply(w, http.StatusTooManyRequests, ct, or(body, `{"message":"too many requests"}`), "Retry-After", "7")
		case scServerError:
			reply(w, http.StatusInternalServerError, ct, or(body, `{"message":"internal error"}`))
		case scMalformed:
			// A login page or a proxy's error page where JSON was expected.
			reply(w, http.StatusOK, "text/html", "<html><body>Sign in</body></html>")
		}
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// basicIs checks an Authorization header is Basic user:password.
func basicIs(r *http.Request, user, password string) string {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	if got := r.Header.Get("Authorization"); got != want {
		return fmt.Sprintf("Authorization is %q, want Basic base64(%s:<secret>)", redactedHeader(got), user)
	}
	return ""
}

func bearerIs(r *http.Request, token string) string {
	if got := r.Header.Get("Authorization"); got != "Bearer "+token {
		return fmt.Sprintf("Authorization is %q, want Bearer <token>", redactedHeader(got))
	}
	return ""
}

// redactedHeader keeps test failure messages free of credentials.
func redactedHeader(v string) string {
	if scheme, _, ok := strings.Cut(v, " "); ok {
		return scheme + " ..."
	}
	if v == "" {
		return ""
	}
	return "..."
}

// request shape checks, first failure wins.
func checks(msgs ...string) string {
	for _, m := range msgs {
		if m != "" {
			return m
		}
	}
	return ""
}

func methodIs(r *http.Request, m string) string {
	if r.Method != m {
		return "method " + r.Method + ", want " + m
	}
	return ""
}

func pathIs(r *http.Request, p string) string {
	if r.URL.Path != p {
		return "path " + r.URL.Path + ", want " + p
	}
	return ""
}

func queryIs(r *http.Request, k, v string) string {
	if got := r.URL.Query().Get(k); got != v {
		return fmt.Sprintf("query %s=%q, want %q", k, got, v)
	}
	return ""
}

// Secrets used by the peers: distinctive, so that a leak is easy to find.
const (
	freshdeskKey     = "fd-KEY-9f8e7d6c5b4a"
	zendeskToken     = "zd-TOKEN-1a2b3c4d5e6f"
	jiraToken        = "ATATT-jira-TOKEN-77aa88bb"
	hubspotToken     = "pat-na1-HUBSPOT-TOKEN-0c0d0e"
	surveyToken      = "sm-TOKEN-qwertyuiop"
	mixpanelSecret   = "mp-SECRET-asdfghjkl"
	pxKey            = "px-KEY-zxcvbnm12345"
	gainsightKey     = "gs-ACCESSKEY-poiuytrewq"
	s3Secret         = "s3SECRET/K7MDENG/bPxRfiCYEXAMPLEKEY0"
	s3SessionToken   = "FwoGZXIvYXdzEXAMPLE-SESSION-TOKEN"
	bigqueryAccessTk = "ya29.BIGQUERY-ACCESS-TOKEN-xyz"
)

func freshdeskPeer() *peer {
	// https://developers.freshdesk.com/api/#me (View the currently authenticated agent)
	// https://developers.freshdesk.com/api/#error (error codes and bodies)
	return &peer{
		connector: "freshdesk", auth: "api_key",
		secrets: map[string]string{"api_key": freshdeskKey},
		fields: func(base string) map[string]string {
			return map[string]string{"domain": "acme", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/api/v2/agents/me"), basicIs(r, freshdeskKey, "X"))
		},
		answer: jsonPeerAnswer(`{"available":false,"occasional":false,"id":19000004114,"ticket_scope":1,"signature":null,
			"group_ids":[],"role_ids":[19000078283],"skill_ids":[],"available_since":null,
			"contact":{"active":true,"email":"john.smith@acme.com","job_title":null,"language":"en","last_login_at":"2024-09-22T05:30:11Z",
			"mobile":null,"name":"John Smith","phone":null,"time_zone":"Chennai","created_at":"2024-09-21T12:34:19Z","updated_at":"2024-09-22T05:30:11Z"},
			"created_at":"2024-09-21T12:34:19Z","updated_at":"2024-09-22T05:30:11Z","type":"support_agent"}`,
			map[scenario]string{
				scUnauthorized: `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`,
				scForbidden:    `{"code":"access_denied","message":"You are not authorized to perform this action."}`,
			}),
		want: Identity{Account: "john.smith@acme.com", Subject: "19000004114", Org: "acme.freshdesk.com"},
	}
}

func zendeskPeer() *peer {
	// https://developer.zendesk.com/api-reference/ticketing/users/users/#show-the-currently-authenticated-user
	// https://developer.zendesk.com/api-reference/introduction/security-and-auth/#api-token
	return &peer{
		connector: "zendesk", auth: "api_token",
		secrets: map[string]string{"api_token": zendeskToken},
		fields: func(base string) map[string]string {
			return map[string]string{"auth": "api_token", "subdomain": "acme", "email": "jane@acme.com", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/api/v2/users/me.json"), basicIs(r, "jane@acme.com/token", zendeskToken))
		},
		answer: jsonPeerAnswer(`{"user":{"id":35436,"url":"https://acme.zendesk.com/api/v2/users/35436.json","name":"Jane Agent",
			"email":"jane@acme.com","role":"admin","active":true,"verified":true,"time_zone":"Copenhagen","locale":"en-US"}}`,
			map[scenario]string{
				scUnauthorized: `{"error":"Couldn't authenticate you"}`,
				scForbidden:    `{"error":{"title":"Forbidden","message":"You do not have access to this page. Please contact the account owner of this help desk for further help."}}`,
			}),
		want: Identity{Account: "jane@acme.com", Subject: "35436", Org: "acme.zendesk.com"},
	}
}

func jiraPeer() *peer {
	// https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-myself/#api-rest-api-3-myself-get
	// https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
	return &peer{
		connector: "jira", auth: "api_token",
		secrets: map[string]string{"api_token": jiraToken},
		fields: func(base string) map[string]string {
			return map[string]string{"auth": "api_token", "site_url": "https://acme.atlassian.net", "email": "mia@acme.com", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/rest/api/3/myself"), basicIs(r, "mia@acme.com", jiraToken))
		},
		answer: jsonPeerAnswer(`{"self":"https://acme.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
			"accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","emailAddress":"mia@acme.com",
			"displayName":"Mia Krystof","active":true,"timeZone":"Australia/Sydney","locale":"en_US"}`,
			map[scenario]string{
				scUnauthorized: `{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}`,
				scForbidden:    `{"errorMessages":["You do not have permission to access this resource."],"errors":{}}`,
			}),
		want: Identity{Account: "mia@acme.com", Subject: "5b10a2844c20165700ede21g", Org: "acme.atlassian.net"},
	}
}

func hubspotPeer() *peer {
	// https://developers.hubspot.com/docs/api-reference/latest/account/account-information/get-account-details
	// https://developers.hubspot.com/docs/api-reference/error-handling
	return &peer{
		connector: "hubspot", auth: "private_app",
		secrets: map[string]string{"access_token": hubspotToken},
		fields: func(base string) map[string]string {
			return map[string]string{"auth": "private_app", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/account-info/2026-03/details"), bearerIs(r, hubspotToken))
		},
		answer: jsonPeerAnswer(`{"portalId":2519445,"accountType":"STANDARD","timeZone":"US/Eastern","companyCurrency":"USD",
			"additionalCurrencies":[],"utcOffset":"-05:00","utcOffsetMilliseconds":-18000000,"uiDomain":"app.hubspot.com","dataHostingLocation":"na1"}`,
			map[scenario]string{
				scUnauthorized: `{"status":"error","message":"Authentication credentials not found.","correlationId":"a4d6b5e1-2b3c-4d5e-8f9a-0b1c2d3e4f5a","category":"INVALID_AUTHENTICATION"}`,
				scForbidden:    `{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","correlationId":"b5e7c6f2-3c4d-5e6f-9a0b-1c2d3e4f5a6b","category":"MISSING_SCOPES"}`,
				scRateLimited:  `{"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT","correlationId":"c6f8d7a3-4d5e-6f7a-0b1c-2d3e4f5a6b7c","policyName":"SECONDLY"}`,
			}),
		want: Identity{Org: "2519445"},
	}
}

func surveymonkeyPeer() *peer {
	// https://api.surveymonkey.com/v3/docs#users-me and #error-codes
	return &peer{
		connector: "surveymonkey", auth: "private_app",
		secrets: map[string]string{"access_token": surveyToken},
		fields: func(base string) map[string]string {
			return map[string]string{"auth": "private_app", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/v3/users/me"), bearerIs(r, surveyToken))
		},
		answer: jsonPeerAnswer(`{"id":"123456789","username":"jdoe","first_name":"John","last_name":"Doe","language":"en",
			"email":"jdoe@acme.com","email_verified":true,"account_type":"enterprise","date_created":"2015-10-06T12:56:55+00:00",
			"date_last_login":"2024-12-04T13:47:13.543000+00:00","scopes":{"available":["users_read"],"granted":["users_read"]},
			"sso_connections":[],"href":"https://api.surveymonkey.com/v3/users/123456789"}`,
			map[scenario]string{
				scUnauthorized: `{"error":{"id":"1011","name":"Authorization Error","docs":"https://developer.surveymonkey.com/api/v3/#error-codes","message":"The authorization token provided was invalid.","http_status_code":401}}`,
				scForbidden:    `{"error":{"id":"1014","name":"Permission Error","docs":"https://developer.surveymonkey.com/api/v3/#error-codes","message":"The scopes granted by the user do not allow this request.","http_status_code":403}}`,
				scRateLimited:  `{"error":{"id":"1040","name":"Rate Limit Reached","docs":"https://developer.surveymonkey.com/api/v3/#error-codes","message":"Too many requests were made, try again later.","http_status_code":429}}`,
				scServerError:  `{"error":{"id":"1050","name":"Internal Server Error","docs":"https://developer.surveymonkey.com/api/v3/#error-codes","message":"Oh bananas! We couldn't process your request.","http_status_code":500}}`,
			}),
		want: Identity{Account: "jdoe@acme.com", Subject: "123456789"},
	}
}

func mixpanelPeer() *peer {
	// https://developer.mixpanel.com/reference/service-accounts (GET /api/app/me with Basic username:secret)
	// https://docs.mixpanel.com/reference/service-accounts-api (servers: mixpanel, eu.mixpanel, in.mixpanel)
	return &peer{
		connector: "mixpanel", auth: "service_account",
		secrets: map[string]string{"service_account_secret": mixpanelSecret},
		fields: func(base string) map[string]string {
			return map[string]string{"project_id": "1234567", "region": "us", "service_account_username": "export.a1b2c3.mp-service-account", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/api/app/me"), basicIs(r, "export.a1b2c3.mp-service-account", mixpanelSecret))
		},
		answer: jsonPeerAnswer(`{"status":"ok","results":{"user_id":4811162,"user_name":"export.a1b2c3.mp-service-account","user_email":"",
			"organizations":{"1011":{"id":1011,"name":"Acme","role":"member"}},
			"projects":{"1234567":{"id":1234567,"name":"Acme Web","organization_id":1011,"role":{"name":"Consumer"}}},
			"workspaces":{"3300":{"id":3300,"name":"All Project Data","project_id":1234567}}}}`,
			map[scenario]string{
				scUnauthorized: `{"status":"error","error":"Invalid credentials"}`,
				scForbidden:    `{"status":"error","error":"Permission denied"}`,
			}),
		want: Identity{Account: "export.a1b2c3.mp-service-account", Subject: "4811162", Org: "1234567"},
	}
}

func gainsightPXPeer() *peer {
	// https://px-apidocs.gainsight.com/ (Accounts: GET /v1/accounts, pageSize, scrollId; header X-APTRINSIC-API-KEY)
	return &peer{
		connector: "gainsight-px", auth: "api_key",
		secrets: map[string]string{"api_key": pxKey},
		fields: func(base string) map[string]string {
			return map[string]string{"region": "eu", "base_url": base + "/v1"}
		},
		verify: func(r *http.Request, _ []byte) string {
			key := ""
			if r.Header.Get("X-APTRINSIC-API-KEY") != pxKey {
				key = "X-APTRINSIC-API-KEY does not carry the api_key"
			}
			return checks(methodIs(r, "GET"), pathIs(r, "/v1/accounts"), queryIs(r, "pageSize", "1"), key)
		},
		answer: jsonPeerAnswer(`{"accounts":[{"id":"acme-001","name":"Acme","trackedSubscriptionId":"","sfdcId":"","lastSeenDate":1718000000000,
			"dunsNumber":"","industry":"Software","numberOfEmployees":120,"website":"acme.com","createDate":1650000000000,"lastModifiedDate":1718000000000}],
			"scrollId":"c2Nhbjs1OzEyMzQ1Njc4OTA=","totalHits":42}`, nil),
		want: Identity{Org: "api-eu.aptrinsic.com"},
	}
}

func gainsightAPIPeer() *peer {
	// https://support.gainsight.com/gainsight_nxt/API_and_Developer_Docs/Company_and_Relationship_API/Company_API_Documentation
	// (Read: POST /v1/data/objects/query/Company, header accesskey, answer {result, errorCode, errorDesc, requestId, data})
	return &peer{
		connector: "gainsight-api", auth: "api_key",
		secrets: map[string]string{"access_key": gainsightKey},
		fields: func(base string) map[string]string {
			return map[string]string{"domain": "acme.gainsightcloud.com", "base_url": base}
		},
		verify: func(r *http.Request, body []byte) string {
			key, ct, q := "", "", ""
			if r.Header.Get("accesskey") != gainsightKey {
				key = "the accesskey header does not carry the access_key"
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				ct = "Content-Type is not application/json"
			}
			var query struct {
				Select []string `json:"select"`
				Limit  int      `json:"limit"`
			}
			if json.Unmarshal(body, &query) != nil || len(query.Select) == 0 || query.Limit != 1 {
				q = "body is not a one-row query with select: " + string(body)
			}
			return checks(methodIs(r, "POST"), pathIs(r, "/v1/data/objects/query/Company"), key, ct, q)
		},
		answer: jsonPeerAnswer(`{"result":true,"errorCode":null,"errorDesc":null,"requestId":"47d9c8be-4912-4610-806c-0eec22b73236",
			"data":{"records":[{"Gsid":"1P02IPL3ZBE8UNUKMNKIG2NRFP8D1W0WEPOK"}]},"message":null}`, nil),
		want: Identity{Org: "acme.gainsightcloud.com"},
	}
}

func s3Peer() *peer {
	// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html (request and ListBucketResult)
	// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (Error XML and codes)
	// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html (Authorization header)
	p := &peer{
		connector: "s3", auth: "aws_keys",
		secrets: map[string]string{"secret_access_key": s3Secret, "session_token": s3SessionToken},
		fields: func(base string) map[string]string {
			return map[string]string{"bucket": "acme-exports", "region": "eu-west-1", "endpoint": base, "path_style": "false", "access_key_id": "ASIAIOSFODNN7EXAMPLE"}
		},
		want: Identity{Account: "ASIAIOSFODNN7EXAMPLE", Org: "acme-exports"},
	}
	p.verify = func(r *http.Request, _ []byte) string {
		path := ""
		if r.URL.Path != "/" && !bucketPath.MatchString(r.URL.Path) {
			path = "path " + r.URL.Path + ", want /{bucket} (path style) or / (virtual-hosted style)"
		}
		return checks(methodIs(r, "GET"), path, queryIs(r, "list-type", "2"), queryIs(r, "max-keys", "1"),
			verifySigV4(r, "ASIAIOSFODNN7EXAMPLE", s3Secret, "eu-west-1", s3SessionToken))
	}
	p.answer = func(w http.ResponseWriter, _ *http.Request, s scenario) {
		const ct = "application/xml"
		s3err := func(status int, code, msg string, header ...string) {
			reply(w, status, ct, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>"+code+"</Code><Message>"+msg+
				"</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>", header...)
		}
		switch s {
		case scOK:
			reply(w, http.StatusOK, ct, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>acme-exports</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <Contents><Key>exports/2026/01.csv</Key><LastModified>2026-01-12T17:50:30.000Z</LastModified>
  <ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size><StorageClass>STANDARD</StorageClass></Contents>
</ListBucketResult>`)
		case scUnauthorized:
			s3err(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		case scForbidden:
			s3err(http.StatusForbidden, "AccessDenied", "Access Denied")
		case scRateLimited:
			// S3 throttles with 503 SlowDown, not 429.
			s3err(http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", "Retry-After", "7")
		case scServerError:
			s3err(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		case scMalformed:
			reply(w, http.StatusOK, "text/html", "<html><body>Sign in</body></html>")
		}
	}
	return p
}

var bucketPath = regexp.MustCompile(`^(/[a-z0-9-]+)?/[a-z0-9][a-z0-9.-]+$`)

// verifySigV4 recomputes, from the request as received, the signature a
// server would expect, and compares it with the one sent. Together with
// the AWS document vectors (internal/awssig) this checks that what is signed
// is what goes on the wire: host, path, query and x-amz-* headers.
func verifySigV4(r *http.Request, keyID, secret, region, token string) string {
	auth := r.Header.Get("Authorization")
	prefix := "AWS4-HMAC-SHA256 Credential=" + keyID + "/"
	if !strings.HasPrefix(auth, prefix) {
		return "Authorization is not AWS4-HMAC-SHA256 with Credential=" + keyID
	}
	var signedList, sig string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "SignedHeaders":
			signedList = v
		case "Signature":
			sig = v
		case "Credential":
			if !strings.HasSuffix(v, "/"+region+"/s3/aws4_request") {
				return "credential scope is not " + region + "/s3/aws4_request"
			}
		}
	}
	date := r.Header.Get("X-Amz-Date")
	if r.Header.Get("X-Amz-Content-Sha256") != awssig.EmptySHA256 {
		return "x-amz-content-sha256 is not the hash of an empty body"
	}
	if token != "" && r.Header.Get("X-Amz-Security-Token") != token {
		return "X-Amz-Security-Token does not carry the session_token"
	}
	h := map[string]string{}
	for _, name := range strings.Split(signedList, ";") {
		if name == "host" {
			h[name] = r.Host
		} else {
			h[name] = r.Header.Get(name)
		}
	}
	if token != "" && h["x-amz-security-token"] == "" {
		return "x-amz-security-token is not signed"
	}
	tm, err := parseAmzDate(date)
	if err != nil {
		return "x-amz-date " + date + " is not yyyymmddThhmmssZ"
	}
	s := &awssig.Request{
		Method: r.Method, URI: r.URL.EscapedPath(), Query: r.URL.Query(), Header: h, PayloadHash: awssig.EmptySHA256,
		Time: tm, Region: region, Service: "s3", KeyID: keyID, Secret: secret,
	}
	if got := s.Signature(); got != sig {
		creq, _ := s.CanonicalRequest()
		return "signature does not match the request as received; canonical request:\n" + creq
	}
	return ""
}

// bigqueryPeer serves Google's token endpoint (/token) and the BigQuery API
// on one server. The token endpoint verifies the JWT with the public half
// of key.
func bigqueryPeer(t *testing.T, key *rsa.PrivateKey) *peer {
	t.Helper()
	// https://developers.google.com/identity/protocols/oauth2/service-account#httprest
	// https://cloud.google.com/bigquery/docs/reference/rest/v2/datasets/list
	// https://cloud.google.com/bigquery/docs/error-messages
	p := &peer{
		connector: "bigquery", auth: "service_account",
		fields: func(base string) map[string]string {
			return map[string]string{"auth": "service_account", "project_id": "acme-analytics", "base_url": base}
		},
		verify: func(r *http.Request, _ []byte) string {
			return checks(methodIs(r, "GET"), pathIs(r, "/bigquery/v2/projects/acme-analytics/datasets"),
				queryIs(r, "maxResults", "1"), bearerIs(r, bigqueryAccessTk))
		},
		secretsAt: func(base string) map[string]string {
			return map[string]string{"service_account_key": serviceAccountJSON(t, pemPKCS8(t, key), base+"/token")}
		},
		answer: googleAnswer,
		want:   Identity{Account: "connctl-test@acme-analytics.iam.gserviceaccount.com", Subject: "103526573214908357951", Org: "acme-analytics"},
	}
	p.other = func(t *testing.T, w http.ResponseWriter, r *http.Request, body []byte) bool {
		if r.URL.Path != "/token" {
			return false
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if msg := verifyJWTBearer(r, body, &key.PublicKey, scheme+"://"+r.Host+"/token"); msg != "" {
			t.Errorf("bigquery: token request does not follow the documented shape: %s", msg)
			reply(w, http.StatusBadRequest, "application/json", `{"error":"invalid_request","error_description":"test peer: bad request"}`)
			return true
		}
		reply(w, http.StatusOK, "application/json; charset=utf-8", `{"access_token":"`+bigqueryAccessTk+`","expires_in":3599,"token_type":"Bearer"}`)
		return true
	}
	return p
}

// googleAnswer answers datasets.list as BigQuery does; quota and rate
// limits come as HTTP 403 with reason rateLimitExceeded.
func googleAnswer(w http.ResponseWriter, _ *http.Request, s scenario) {
	const ct = "application/json; charset=UTF-8"
	gerr := func(status int, reason, msg, st string, header ...string) {
		reply(w, status, ct, fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"message":%q,"domain":"global","reason":%q}],"status":%q}}`,
			status, msg, msg, reason, st), header...)
	}
	switch s {
	case scOK:
		reply(w, http.StatusOK, ct, `{"kind":"bigquery#datasetList","etag":"kZ4Z0z1p3mWiLJmSbpAqnw==","nextPageToken":"sales",
			"datasets":[{"kind":"bigquery#dataset","id":"acme-analytics:marketing","datasetReference":{"datasetId":"marketing","projectId":"acme-analytics"},"location":"EU"}]}`)
	case scUnauthorized:
		gerr(http.StatusUnauthorized, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.", "UNAUTHENTICATED")
	case scForbidden:
		gerr(http.StatusForbidden, "accessDenied", "Access Denied: Project acme-analytics: User does not have bigquery.datasets.list permission in project acme-analytics.", "PERMISSION_DENIED")
	case scRateLimited:
		gerr(http.StatusForbidden, "rateLimitExceeded", "Exceeded rate limits: too many api requests per user per method for this user_method.", "PERMISSION_DENIED", "Retry-After", "7")
	case scServerError:
		gerr(http.StatusInternalServerError, "backendError", "Backend error. Job aborted.", "INTERNAL")
	case scMalformed:
		reply(w, http.StatusOK, "text/html", "<html><body>Sign in</body></html>")
	}
}

// verifyJWTBearer checks a JWT bearer grant (RFC 7523) as Google's token
// endpoint does: form fields, RS256 header, claims and signature.
func verifyJWTBearer(r *http.Request, body []byte, pub *rsa.PublicKey, aud string) string {
	if r.Method != http.MethodPost {
		return "method " + r.Method + ", want POST"
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "Content-Type is not a form"
	}
	form, err := parseForm(body)
	if err != nil {
		return "body is not a form"
	}
	if form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		return "grant_type is " + form.Get("grant_type")
	}
	header, claims, err := verifyRS256(form.Get("assertion"), pub)
	if err != nil {
		return "assertion: " + err.Error()
	}
	if header["alg"] != "RS256" || header["typ"] != "JWT" || header["kid"] != "0123456789abcdef0123456789abcdef01234567" {
		return fmt.Sprintf("JWT header %v", header)
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	switch {
	case claims["iss"] != "connctl-test@acme-analytics.iam.gserviceaccount.com":
		return fmt.Sprintf("iss = %v", claims["iss"])
	case claims["scope"] != "https://www.googleapis.com/auth/bigquery":
		return fmt.Sprintf("scope = %v", claims["scope"])
	case claims["aud"] != aud:
		return fmt.Sprintf("aud = %v, want %s", claims["aud"], aud)
	case iat == 0 || exp-iat != 3600:
		return fmt.Sprintf("iat %v and exp %v are not one hour apart", iat, exp)
	}
	return ""
}

// testRSAKey is the service account's key pair, made once for the tests:
// Google issues 2048-bit RSA keys.
var testRSAKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := testRSAKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// pemPKCS8 encodes key as Google's key files do ("BEGIN PRIVATE KEY").
func pemPKCS8(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// serviceAccountJSON is a key file in the layout Google's console
// downloads, whose token_uri is tokenURI.
func serviceAccountJSON(t *testing.T, pemKey []byte, tokenURI string) string {
	t.Helper()
	b, err := json.MarshalIndent(map[string]string{
		"type":                        "service_account",
		"project_id":                  "acme-analytics",
		"private_key_id":              "0123456789abcdef0123456789abcdef01234567",
		"private_key":                 string(pemKey),
		"client_email":                "connctl-test@acme-analytics.iam.gserviceaccount.com",
		"client_id":                   "103526573214908357951",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/connctl-test%40acme-analytics.iam.gserviceaccount.com",
		"universe_domain":             "googleapis.com",
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parseAmzDate(v string) (time.Time, error) { return time.Parse(awssig.DateFormat, v) }

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }

// verifyRS256 checks a compact JWT's RS256 signature and returns its header
// and claims.
func verifyRS256(jwt string, pub *rsa.PublicKey) (map[string]any, map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, errors.New("signature is not base64url")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, nil, errors.New("RS256 signature does not verify with the key's public half")
	}
	var header, claims map[string]any
	for i, out := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, out) != nil {
			return nil, nil, errors.New("header or claims are not base64url JSON")
		}
	}
	return header, claims, nil
}
