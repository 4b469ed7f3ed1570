package keycheck_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/keycheck"
)

func allPeers(t *testing.T) []*peer {
	t.Helper()
	return []*peer{
		freshdeskPeer(), zendeskPeer(), jiraPeer(), hubspotPeer(), surveymonkeyPeer(), mixpanelPeer(),
		gainsightPXPeer(), gainsightAPIPeer(), s3Peer(), bigqueryPeer(t, rsaKey(t)),
	}
}

// result is one Check against a peer.
type result struct {
	id   *Identity
	err  error
	host string // the test server's host:port
	seen *hosts
}

// run checks p's connection against a new server playing scenario s.
func run(t *testing.T, p *peer, s scenario) result {
	t.Helper()
	seen := &hosts{}
	srv := httptest.NewServer(p.handler(t, s, seen))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := checkByID(ctx, srv.Client(), p.connector, p.auth, p.fields(srv.URL), p.secretsFor(srv.URL))
	u, _ := url.Parse(srv.URL)
	return result{id: id, err: err, host: u.Host, seen: seen}
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *keycheck.Error", err, err)
	}
	if strings.ContainsAny(e.Message, "\r\n") {
		t.Errorf("message is not one line: %q", e.Message)
	}
	return e
}

// TestCheckScenarios runs every connector through success and each kind of
// documented failure.
func TestCheckScenarios(t *testing.T) {
	t.Parallel()
	for _, p := range allPeers(t) {
		t.Run(p.connector, func(t *testing.T) {
			t.Parallel()
			for _, s := range []scenario{scOK, scUnauthorized, scForbidden, scRateLimited, scServerError, scMalformed} {
				t.Run(string(s), func(t *testing.T) {
					res := run(t, p, s)
					if s == scOK {
						if res.err != nil {
							t.Fatalf("Check: %v", res.err)
						}
						if *res.id != p.want {
							t.Fatalf("identity = %+v, want %+v", *res.id, p.want)
						}
						return
					}
					if res.err == nil {
						t.Fatalf("Check succeeded with %+v, want a %s error", *res.id, wantKind[s])
					}
					e := asError(t, res.err)
					if e.Kind != wantKind[s] {
						t.Errorf("kind = %s, want %s (message %q)", e.Kind, wantKind[s], e.Message)
					}
					if e.Status == 0 {
						t.Errorf("status = 0, want the HTTP status (message %q)", e.Message)
					}
					if !strings.Contains(e.Message, res.host) {
						t.Errorf("message %q does not name the provider host %s", e.Message, res.host)
					}
					if s == scRateLimited && !strings.Contains(e.Message, "7 seconds") {
						t.Errorf("message %q does not pass on Retry-After: 7", e.Message)
					}
				})
			}
		})
	}
}

// TestCheckNetworkError points every connector at a closed port.
func TestCheckNetworkError(t *testing.T) {
	t.Parallel()
	for _, p := range allPeers(t) {
		t.Run(p.connector, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.NotFoundHandler())
			base, host := srv.URL, srv.Listener.Addr().String()
			srv.Close()
			_, err := checkByID(context.Background(), nil, p.connector, p.auth, p.fields(base), p.secretsFor(base))
			e := asError(t, err)
			if e.Kind != kindNetwork {
				t.Fatalf("kind = %s, want network (message %q)", e.Kind, e.Message)
			}
			if !strings.Contains(e.Message, "cannot reach "+host) {
				t.Errorf("message %q does not name the host %s", e.Message, host)
			}
		})
	}
}

// TestCheckNeverLeaksSecrets collects every failure message, including
// answers that repeat the request's credentials back, and looks for the
// secrets and every credential the peers were sent.
func TestCheckNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	for _, p := range allPeers(t) {
		t.Run(p.connector, func(t *testing.T) {
			t.Parallel()
			var messages, leaks []string
			for _, s := range []scenario{scUnauthorized, scForbidden, scRateLimited, scServerError, scMalformed, scEcho} {
				res := run(t, p, s)
				if res.err == nil {
					t.Fatalf("%s: Check succeeded", s)
				}
				messages = append(messages, asError(t, res.err).Message)
				leaks = append(leaks, res.seen.sent()...)
				for _, v := range p.secretsFor("http://127.0.0.1") {
					leaks = append(leaks, v)
				}
			}
			leaks = append(leaks, bigqueryAccessTk)
			if p.connector == "bigquery" {
				// Every line of the private key's PEM body.
				for _, line := range strings.Split(string(pemPKCS8(t, rsaKey(t))), "\n") {
					if len(line) > 20 && !strings.HasPrefix(line, "-----") {
						leaks = append(leaks, line)
					}
				}
			}
			if len(leaks) < 2 {
				t.Fatalf("recorded only %d credentials: the peer did not see the requests", len(leaks))
			}
			for _, m := range messages {
				for _, v := range leaks {
					if v != "" && strings.Contains(m, v) {
						t.Errorf("message %q contains a credential", m)
					}
				}
			}
		})
	}
}

// dialAll returns a client that sends every request, whatever its host, to
// srv (a TLS server): the default provider URLs are exercised without
// leaving the machine. The test certificate cannot name the providers'
// hosts, so this client alone skips verification.
func dialAll(srv *httptest.Server) *http.Client {
	tr := srv.Client().Transport.(*http.Transport).Clone()
	addr := srv.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	tr.TLSClientConfig.InsecureSkipVerify = true
	return &http.Client{Transport: tr}
}

// TestCheckDefaultEndpoints checks the URLs used when no base_url is set.
func TestCheckDefaultEndpoints(t *testing.T) {
	t.Parallel()
	byID := map[string]*peer{}
	for _, p := range allPeers(t) {
		byID[p.connector] = p
	}
	without := func(p *peer, set map[string]string, drop ...string) map[string]string {
		f := p.fields("https://unused.invalid")
		for _, k := range append(drop, "base_url") {
			delete(f, k)
		}
		for k, v := range set {
			f[k] = v
		}
		return f
	}
	key := rsaKey(t)
	tests := []struct {
		name      string
		connector string
		fields    map[string]string
		secrets   map[string]string
		want      []string
	}{
		{"freshdesk short domain", "freshdesk", without(byID["freshdesk"], nil), nil,
			[]string{"acme.freshdesk.com GET /api/v2/agents/me"}},
		{"freshdesk full domain", "freshdesk", without(byID["freshdesk"], map[string]string{"domain": "acme.freshdesk.com"}), nil,
			[]string{"acme.freshdesk.com GET /api/v2/agents/me"}},
		{"zendesk", "zendesk", without(byID["zendesk"], nil), nil,
			[]string{"acme.zendesk.com GET /api/v2/users/me.json"}},
		{"jira", "jira", without(byID["jira"], nil), nil,
			[]string{"acme.atlassian.net GET /rest/api/3/myself"}},
		{"hubspot", "hubspot", without(byID["hubspot"], nil), nil,
			[]string{"api.hubapi.com GET /account-info/2026-03/details"}},
		{"surveymonkey", "surveymonkey", without(byID["surveymonkey"], nil), nil,
			[]string{"api.surveymonkey.com GET /v3/users/me"}},
		{"mixpanel us", "mixpanel", without(byID["mixpanel"], nil), nil,
			[]string{"mixpanel.com GET /api/app/me"}},
		{"mixpanel eu", "mixpanel", without(byID["mixpanel"], map[string]string{"region": "eu"}), nil,
			[]string{"eu.mixpanel.com GET /api/app/me"}},
		{"mixpanel in", "mixpanel", without(byID["mixpanel"], map[string]string{"region": "in"}), nil,
			[]string{"in.mixpanel.com GET /api/app/me"}},
		{"mixpanel export base_url selects the app host", "mixpanel", without(byID["mixpanel"], map[string]string{"base_url": "https://data-eu.mixpanel.com"}), nil,
			[]string{"eu.mixpanel.com GET /api/app/me"}},
		{"gainsight-px us", "gainsight-px", without(byID["gainsight-px"], map[string]string{"region": "us"}), nil,
			[]string{"api.aptrinsic.com GET /v1/accounts?pageSize=1"}},
		{"gainsight-px eu", "gainsight-px", without(byID["gainsight-px"], nil), nil,
			[]string{"api-eu.aptrinsic.com GET /v1/accounts?pageSize=1"}},
		{"gainsight-px us2", "gainsight-px", without(byID["gainsight-px"], map[string]string{"region": "us2"}), nil,
			[]string{"api-us2.aptrinsic.com GET /v1/accounts?pageSize=1"}},
		{"gainsight-px base_url without /v1", "gainsight-px", without(byID["gainsight-px"], map[string]string{"base_url": "https://px-proxy.acme.com"}), nil,
			[]string{"px-proxy.acme.com GET /v1/accounts?pageSize=1"}},
		{"gainsight-api", "gainsight-api", without(byID["gainsight-api"], nil), nil,
			[]string{"acme.gainsightcloud.com POST /v1/data/objects/query/Company"}},
		{"s3 virtual-hosted style", "s3", without(byID["s3"], nil, "endpoint"), nil,
			[]string{"acme-exports.s3.eu-west-1.amazonaws.com GET /?list-type=2&max-keys=1"}},
		{"s3 path_style", "s3", without(byID["s3"], map[string]string{"path_style": "true"}, "endpoint"), nil,
			[]string{"s3.eu-west-1.amazonaws.com GET /acme-exports?list-type=2&max-keys=1"}},
		{"s3 bucket with dots", "s3", without(byID["s3"], map[string]string{"bucket": "exports.acme.com"}, "endpoint"), nil,
			[]string{"s3.eu-west-1.amazonaws.com GET /exports.acme.com?list-type=2&max-keys=1"}},
		{"s3 endpoint with a path", "s3", without(byID["s3"], map[string]string{"endpoint": "https://storage.acme.com:9000/s3/"}), nil,
			[]string{"storage.acme.com:9000 GET /s3/acme-exports?list-type=2&max-keys=1"}},
		{"s3 region default", "s3", without(byID["s3"], nil, "endpoint", "region"), nil,
			[]string{"acme-exports.s3.us-east-1.amazonaws.com GET /?list-type=2&max-keys=1"}},
		{"bigquery", "bigquery", without(byID["bigquery"], nil),
			map[string]string{"service_account_key": serviceAccountJSON(t, pemPKCS8(t, key), "https://oauth2.googleapis.com/token")},
			[]string{"oauth2.googleapis.com POST /token", "bigquery.googleapis.com GET /bigquery/v2/projects/acme-analytics/datasets?maxResults=1"}},
		{"bigquery key without token_uri", "bigquery", without(byID["bigquery"], nil),
			map[string]string{"service_account_key": serviceAccountJSON(t, pemPKCS8(t, key), "")},
			[]string{"oauth2.googleapis.com POST /token", "bigquery.googleapis.com GET /bigquery/v2/projects/acme-analytics/datasets?maxResults=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := byID[tc.connector]
			if tc.connector == "s3" && tc.fields["region"] == "" {
				// The peer signs for eu-west-1; the default region gets its own peer.
				p = s3Peer()
				p.verify = func(r *http.Request, _ []byte) string {
					return verifySigV4(r, "ASIAIOSFODNN7EXAMPLE", s3Secret, "us-east-1", s3SessionToken)
				}
			}
			seen := &hosts{}
			srv := httptest.NewTLSServer(p.handler(t, scOK, seen))
			defer srv.Close()
			secrets := tc.secrets
			if secrets == nil {
				secrets = p.secretsFor(srv.URL)
			}
			if _, err := checkByID(context.Background(), dialAll(srv), p.connector, p.auth, tc.fields, secrets); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := seen.all(); !slices.Equal(got, tc.want) {
				t.Fatalf("requests = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		connector, auth string
		want            bool
	}{
		{"freshdesk", "api_key", true},
		{"freshdesk", "", true},
		{"zendesk", "api_token", true},
		{"zendesk", "oauth2", false},
		{"jira", "api_token", true},
		{"hubspot", "private_app", true},
		{"surveymonkey", "private_app", true},
		{"mixpanel", "service_account", true},
		{"gainsight-px", "api_key", true},
		{"gainsight-api", "api_key", true},
		{"s3", "aws_keys", true},
		{"bigquery", "service_account", true},
		{"bigquery", "oauth2", false},
		{"salesforce", "oauth2", false},
		{"nosuch", "", false},
	}
	for _, tc := range tests {
		if got := supported(tc.connector, tc.auth); got != tc.want {
			t.Errorf("supported(%q, %q) = %v, want %v", tc.connector, tc.auth, got, tc.want)
		}
	}
}

func TestCheckUnsupported(t *testing.T) {
	t.Parallel()
	_, err := checkByID(context.Background(), nil, "zendesk", "oauth2", map[string]string{"subdomain": "acme"}, nil)
	e := asError(t, err)
	if e.Kind != kindConfig || !strings.Contains(e.Message, "api_token") {
		t.Fatalf("error = %+v, want config naming the supported method", e)
	}
	// The auth field picks the method when authID is empty.
	_, err = checkByID(context.Background(), nil, "zendesk", "", map[string]string{"auth": "oauth2", "subdomain": "acme"}, nil)
	if e := asError(t, err); e.Kind != kindConfig {
		t.Fatalf("error = %+v, want config", e)
	}
}

// TestCheckMissingInputs checks that a missing field or secret is a config
// error naming it, found before any request.
func TestCheckMissingInputs(t *testing.T) {
	t.Parallel()
	for _, p := range allPeers(t) {
		t.Run(p.connector, func(t *testing.T) {
			t.Parallel()
			seen := &hosts{}
			srv := httptest.NewServer(p.handler(t, scOK, seen))
			defer srv.Close()
			for name := range p.secretsFor(srv.URL) {
				if name == "session_token" {
					continue // optional
				}
				secrets := map[string]string{}
				for k, v := range p.secretsFor(srv.URL) {
					if k != name {
						secrets[k] = v
					}
				}
				_, err := checkByID(context.Background(), srv.Client(), p.connector, p.auth, p.fields(srv.URL), secrets)
				if e := asError(t, err); e.Kind != kindConfig || !strings.Contains(e.Message, name) {
					t.Errorf("without %s: %+v, want a config error naming it", name, e)
				}
				// A secret with a line break inside is refused without quoting it.
				secrets[name] = "abc\ndef-SECRET-PART"
				_, err = checkByID(context.Background(), srv.Client(), p.connector, p.auth, p.fields(srv.URL), secrets)
				if e := asError(t, err); e.Kind != kindConfig || strings.Contains(e.Message, "SECRET-PART") {
					t.Errorf("with a line break in %s: %+v, want a config error without the value", name, e)
				}
			}
			if got := seen.all(); len(got) != 0 {
				t.Errorf("requests were sent without the secrets: %q", got)
			}
		})
	}
}

func TestCheckRespectsContext(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	p := hubspotPeer()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := checkByID(ctx, srv.Client(), p.connector, p.auth, p.fields(srv.URL), p.secrets)
	e := asError(t, err)
	if e.Kind != kindNetwork || !strings.Contains(e.Message, "timed out") {
		t.Fatalf("error = %+v, want network ... timed out", e)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Check took %v after its context ended", d)
	}
}

// TestCheckDoesNotFollowRedirects: a redirect would carry key headers such
// as accesskey to another host, so it is reported instead of followed.
func TestCheckDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed to %s", r.URL)
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/login", http.StatusFound)
	}))
	defer srv.Close()
	p := gainsightAPIPeer()
	_, err := checkByID(context.Background(), srv.Client(), p.connector, p.auth, p.fields(srv.URL), p.secrets)
	e := asError(t, err)
	to, _ := url.Parse(elsewhere.URL)
	if e.Kind != kindConfig || e.Status != http.StatusFound || !strings.Contains(e.Message, to.Host) || !strings.Contains(e.Message, "check domain") {
		t.Fatalf("error = %+v, want config naming where it redirected and the field to check", e)
	}
}

func TestStatusErrorNotFound(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusNotFound, "application/json", `{"code":"not_found","message":"Not found"}`)
	}))
	defer srv.Close()
	p := freshdeskPeer()
	_, err := checkByID(context.Background(), srv.Client(), p.connector, p.auth, p.fields(srv.URL), p.secrets)
	e := asError(t, err)
	if e.Kind != kindConfig || e.Status != 404 || !strings.Contains(e.Message, "/api/v2/agents/me") || !strings.Contains(e.Message, "check domain") {
		t.Fatalf("error = %+v, want config naming the path and the domain field", e)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct{ header, want string }{
		{"", "try again later"},
		{"30", "try again in 30 seconds"},
		{"1", "try again in 1 second"},
		{"0", "try again now"},
		{"soon", "try again later"},
		{time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), "try again in"},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		if got := keycheck.RetryAfter(h); !strings.HasPrefix(got, tc.want) {
			t.Errorf("keycheck.RetryAfter(%q) = %q, want %q...", tc.header, got, tc.want)
		}
	}
}
