package keycheck_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// checkWith runs p's check against a server answering every request with
// h, after p's documented request shape is verified.
func checkWith(t *testing.T, p *peer, h http.HandlerFunc) (*Identity, *Error) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if p.other != nil && p.other(t, w, r, body) {
			return
		}
		if msg := p.verify(r, body); msg != "" {
			t.Errorf("request does not follow the documented shape: %s", msg)
		}
		h(w, r)
	}))
	defer srv.Close()
	id, err := checkByID(context.Background(), srv.Client(), p.connector, p.auth, p.fields(srv.URL), p.secretsFor(srv.URL))
	if err != nil {
		return nil, asError(t, err)
	}
	return id, nil
}

// Zendesk's users/me answers 200 with an anonymous user (id null) when the
// credentials are not accepted, for anonymous Help Center visitors.
func TestZendeskAnonymousUserIsUnauthorized(t *testing.T) {
	t.Parallel()
	_, e := checkWith(t, zendeskPeer(), func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, "application/json", `{"user":{"id":null,"url":null,"name":"Anonymous user","email":"invalid@example.com",
			"role":"end-user","active":true,"authenticity_token":"dGVzdA=="}}`)
	})
	if e == nil || e.Kind != kindUnauthorized || !strings.Contains(e.Message, "anonymous") || !strings.Contains(e.Message, "token access") {
		t.Fatalf("error = %+v, want unauthorized explaining the anonymous answer", e)
	}
}

func TestJiraCaptchaAndHiddenEmail(t *testing.T) {
	t.Parallel()
	// https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/ (CAPTCHA)
	_, e := checkWith(t, jiraPeer(), func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusForbidden, "text/html", "Forbidden", "X-Seraph-LoginReason", "AUTHENTICATION_DENIED")
	})
	if e == nil || e.Kind != kindUnauthorized || !strings.Contains(e.Message, "CAPTCHA") {
		t.Fatalf("error = %+v, want unauthorized about the CAPTCHA", e)
	}
	// A profile that hides its e-mail: the configured email stands in.
	id, e := checkWith(t, jiraPeer(), func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, "application/json", `{"accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","displayName":"Mia Krystof","active":true}`)
	})
	if e != nil || id.Account != "mia@acme.com" || id.Subject != "5b10a2844c20165700ede21g" {
		t.Fatalf("identity %+v, error %+v", id, e)
	}
}

func TestSurveyMonkeyWrongDataCentre(t *testing.T) {
	t.Parallel()
	_, e := checkWith(t, surveymonkeyPeer(), func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusUnauthorized, "application/json", `{"error":{"id":"1018","name":"Authorization Error","docs":"https://developer.surveymonkey.com/api/v3/#error-codes",
			"message":"The user's data is not accessible from this data center.","http_status_code":401}}`)
	})
	if e == nil || e.Kind != kindConfig || !strings.Contains(e.Message, "api.eu.surveymonkey.com") {
		t.Fatalf("error = %+v, want config pointing at the regional hosts", e)
	}
}

func TestMixpanelProjectNotReached(t *testing.T) {
	t.Parallel()
	_, e := checkWith(t, mixpanelPeer(), func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, "application/json", `{"status":"ok","results":{"user_id":4811162,"user_name":"export.a1b2c3.mp-service-account",
			"projects":{"7654321":{"id":7654321,"name":"Other"}},"organizations":{},"workspaces":{}}}`)
	})
	if e == nil || e.Kind != kindForbidden || !strings.Contains(e.Message, "project 1234567") {
		t.Fatalf("error = %+v, want forbidden naming the project", e)
	}
}

// Gainsight answers some refusals with HTTP 200 and result false.
func TestGainsightAPIResultFalse(t *testing.T) {
	t.Parallel()
	_, e := checkWith(t, gainsightAPIPeer(), func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, "application/json", `{"result":false,"errorCode":"GS_2900","errorDesc":"Access key `+r.Header.Get("accesskey")+` is not valid for this tenant",
			"requestId":"e3b2a0c4-9f6c-4ad5-a1f1-0c7ee8b0c3d1","data":null,"message":null}`)
	})
	if e == nil || e.Kind != kindServer || !strings.Contains(e.Message, "GS_2900") {
		t.Fatalf("error = %+v, want server naming the error code", e)
	}
	if strings.Contains(e.Message, gainsightKey) || !strings.Contains(e.Message, redacted) {
		t.Fatalf("message %q repeats the access key", e.Message)
	}
}

func TestUnexpectedJSON(t *testing.T) {
	t.Parallel()
	for _, p := range []*peer{freshdeskPeer(), zendeskPeer(), jiraPeer(), hubspotPeer(), surveymonkeyPeer(), mixpanelPeer(), gainsightPXPeer(), gainsightAPIPeer()} {
		_, e := checkWith(t, p, func(w http.ResponseWriter, _ *http.Request) {
			reply(w, http.StatusOK, "application/json", `{"unrelated":true}`)
		})
		if e == nil || e.Kind != kindServer || !strings.Contains(e.Message, "without") {
			t.Errorf("%s: error = %+v, want server saying what the answer lacks", p.connector, e)
		}
	}
}
