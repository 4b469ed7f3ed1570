package snowflake

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/keycheck"
)

// The key check against the Snowflake fake (connectortest.SnowflakeFake,
// which follows the SQL API docs it cites: headers, body, JWT verification
// against the user's public key, error bodies).

// checkFields are the connection's effective fields for fake s.
func checkFields(s *connectortest.SnowflakeFake) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Set {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out
}

func secretName(auth string) string {
	if auth == AuthPAT {
		return "token"
	}
	return "private_key"
}

func runCheck(t *testing.T, s *connectortest.SnowflakeFake, auth string, fields map[string]string, secret string) (*keycheck.Identity, error) {
	t.Helper()
	m, _ := Connector().Auth(auth)
	return keycheck.Check(context.Background(), nil, "snowflake", m.Check, fields, map[string]string{secretName(auth): secret})
}

// TestCheckScenarios runs both methods through success and each kind of
// documented failure, as keycheck's peers do for the other connectors
// (keycheck's TestEveryKeyCheckHasAPeer counts this test).
func TestCheckScenarios(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{AuthKeyPair, AuthPAT} {
		t.Run(auth, func(t *testing.T) {
			t.Parallel()
			for _, sc := range []struct {
				name     string
				set      func(*connectortest.SnowflakeFake)
				bad      bool
				kind     string
				contains string
			}{
				{name: "ok"},
				{name: "unauthorized", bad: true, kind: keycheck.KindUnauthorized, contains: "HTTP 401, Snowflake 39"},
				{name: "forbidden", set: func(s *connectortest.SnowflakeFake) { s.SetCheckAnswer(connectortest.None, true, false) }, kind: keycheck.KindForbidden, contains: "network policy"},
				{name: "rate_limited", set: func(s *connectortest.SnowflakeFake) { s.SetCheckAnswer(connectortest.Throttle, false, false) }, kind: keycheck.KindRateLimit, contains: "7 seconds"},
				{name: "server_error", set: func(s *connectortest.SnowflakeFake) { s.SetCheckAnswer(connectortest.Fail, false, false) }, kind: keycheck.KindServer, contains: "HTTP 503"},
				{name: "malformed", set: func(s *connectortest.SnowflakeFake) { s.SetCheckAnswer(connectortest.None, false, true) }, kind: keycheck.KindServer, contains: "not JSON"},
			} {
				t.Run(sc.name, func(t *testing.T) {
					t.Parallel()
					s := connectortest.NewSnowflake(t, auth)
					if sc.set != nil {
						sc.set(s)
					}
					secret := s.Secret
					if sc.bad {
						secret = s.BadSecret
					}
					id, err := runCheck(t, s, auth, checkFields(s), secret)
					host := strings.TrimPrefix(s.URL, "http://")
					if sc.kind == "" {
						if err != nil {
							t.Fatalf("Check: %v", err)
						}
						if id.Account != connectortest.SnowflakeUser || id.Org != "myorg-myaccount ("+connectortest.SnowflakeLocator+")" {
							t.Errorf("identity = %+v", *id)
						}
						reqs := s.Requests()
						if len(reqs) != 1 || reqs[0].Statement != whoAmI || reqs[0].Context["role"] != "ANALYST" || reqs[0].Context["warehouse"] != "COMPUTE_WH" {
							t.Errorf("the fake saw %+v, want one %s with the connection's role and warehouse", reqs, whoAmI)
						}
						return
					}
					var e *keycheck.Error
					if !errors.As(err, &e) {
						t.Fatalf("error %v (%T), want a *keycheck.Error", err, err)
					}
					if e.Kind != sc.kind || e.Status == 0 || !strings.Contains(e.Message, host) || !strings.Contains(e.Message, sc.contains) {
						t.Errorf("error %s/%d %q, want kind %s naming %s and %q", e.Kind, e.Status, e.Message, sc.kind, host, sc.contains)
					}
					if strings.Contains(e.Message, connectortest.Canary) || strings.ContainsAny(e.Message, "\r\n") {
						t.Errorf("message leaks a secret or is not one line: %q", e.Message)
					}
				})
			}
		})
	}
}

func TestCheckNamesTheFix(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthKeyPair)
	fields := checkFields(s)

	fields["role"] = "analyst" // case-sensitive: SHOW ROLES says ANALYST
	_, err := runCheck(t, s, AuthKeyPair, fields, s.Secret)
	if e := new(keycheck.Error); !errors.As(err, &e) || e.Kind != keycheck.KindConfig || !strings.Contains(e.Message, "check role, warehouse, database and schema") ||
		!strings.Contains(e.Message, "Snowflake 390189") {
		t.Errorf("wrong role: %v", err)
	}

	fields = checkFields(s)
	_, err = runCheck(t, s, AuthKeyPair, fields, s.BadSecret)
	if err == nil || !strings.Contains(err.Error(), "RSA_PUBLIC_KEY_FP") {
		t.Errorf("a key the user does not hold: %v, want the fix naming RSA_PUBLIC_KEY_FP", err)
	}

	_, err = runCheck(t, s, AuthKeyPair, fields, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n")
	if e := new(keycheck.Error); !errors.As(err, &e) || e.Kind != keycheck.KindConfig || !strings.Contains(e.Message, "is encrypted") {
		t.Errorf("an encrypted key: %v", err)
	}

	delete(fields, "user")
	_, err = runCheck(t, s, AuthKeyPair, fields, s.Secret)
	if err == nil || !strings.Contains(err.Error(), "--set user=") {
		t.Errorf("no user: %v", err)
	}
}

// TestCheckWaitsForALongStatement: a 202 (the statement outlived
// Snowflake's wait) is followed by status requests until the result.
func TestCheckWaitsForALongStatement(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthPAT)
	s.SetAsync(2)
	id, err := runCheck(t, s, AuthPAT, checkFields(s), s.Secret)
	if err != nil || id.Account != connectortest.SnowflakeUser {
		t.Fatalf("Check = %+v, %v", id, err)
	}
	s.SetAsync(-1)
	_, err = runCheck(t, s, AuthPAT, checkFields(s), s.Secret)
	if e := new(keycheck.Error); !errors.As(err, &e) || e.Kind != keycheck.KindServer || !strings.Contains(e.Message, "still running") {
		t.Errorf("a statement that never ends: %v", err)
	}
}

func TestCheckNetworkError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	s := connectortest.NewSnowflake(t, AuthPAT)
	fields := checkFields(s)
	fields["base_url"] = base
	_, err := runCheck(t, s, AuthPAT, fields, s.Secret)
	u, _ := url.Parse(base)
	if e := new(keycheck.Error); !errors.As(err, &e) || e.Kind != keycheck.KindNetwork || !strings.Contains(e.Message, "cannot reach "+u.Host) {
		t.Errorf("closed port: %v", err)
	}
}

func TestDefaultBase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"myorg-myaccount":       "https://myorg-myaccount.snowflakecomputing.com",
		"XY12345.us-east-2.aws": "https://xy12345.us-east-2.aws.snowflakecomputing.com",
	} {
		if got := defaultBase(in); got != want {
			t.Errorf("defaultBase(%q) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"https://myorg-myaccount.snowflakecomputing.com", "myorg myaccount", "myorg-myaccount.snowflakecomputing.com"} {
		if validateAccount(bad) == nil {
			t.Errorf("validateAccount(%q) accepted it", bad)
		}
	}
	if err := validateAccount("https://myorg-myaccount.snowflakecomputing.com/"); err == nil || !strings.Contains(err.Error(), "use the account identifier alone, myorg-myaccount") {
		t.Errorf("a URL: %v", err)
	}
}
