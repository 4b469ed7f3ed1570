package jobrunner

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// acme reads {"code","message"} error bodies; a 400 is config, a 401 not
// after a refresh gets a hint.
var acme = Vendor{Name: "acme", Explain: func(a Answer, f *Failure) {
	var e struct{ Code, Message string }
	if json.Unmarshal(a.Body, &e) == nil && e.Code != "" {
		f.Message += ": " + e.Code
		if text := Clip(e.Message, 10); text != "" {
			f.Message += ": " + text
		}
	}
	if a.Status == http.StatusBadRequest {
		f.Reason = ReasonConfig
	}
	if a.Status == http.StatusUnauthorized && !a.Refreshed {
		f.Message += " (check the key)"
	}
}}

func TestDescribe(t *testing.T) {
	t.Parallel()
	answer := func(status int, body string, refreshed bool) Answer {
		return Answer{Status: status, Body: []byte(body), Refreshed: refreshed}
	}
	for _, c := range []struct {
		name         string
		v            Vendor
		err          error
		a            Answer
		reason, want string
	}{
		{"no answer", acme, &Failure{Reason: ReasonNetwork, Message: "GET h/p: connection refused"}, Answer{},
			ReasonNetwork, "acme: GET h/p: connection refused"},
		{"named already", acme, &Failure{Reason: ReasonConfig, Message: "acme: bad URL"}, Answer{},
			ReasonConfig, "acme: bad URL"},
		{"vendor text", acme, &Failure{Reason: ReasonSourceError, Message: "GET h/p: 400 bad request"}, answer(400, `{"code":"INVALID","message":"no  such\nfield here"}`, false),
			ReasonConfig, "acme: GET h/p: 400 bad request: INVALID: no such fi…"},
		{"body not the vendor's", acme, &Failure{Reason: ReasonSourceError, Message: "GET h/p: 502 bad gateway"}, answer(502, `<html>`, false),
			ReasonSourceError, "acme: GET h/p: 502 bad gateway"},
		{"401 hint", acme, &Failure{Reason: ReasonAuth, Message: "GET h/p: 401 unauthorized"}, answer(401, `{"code":"EXPIRED"}`, false),
			ReasonAuth, "acme: GET h/p: 401 unauthorized: EXPIRED (check the key)"},
		{"401 after a refresh", acme, &Failure{Reason: ReasonAuth, Message: "GET h/p: 401 unauthorized"}, answer(401, `{"code":"EXPIRED"}`, true),
			ReasonAuth, "acme: GET h/p: 401 unauthorized: EXPIRED (again after refreshing the access token)"},
		{"no Explain", Vendor{Name: "plain"}, &Failure{Reason: ReasonAuth, Message: "GET h/p: 401 unauthorized"}, answer(401, `{"code":"EXPIRED"}`, true),
			ReasonAuth, "plain: GET h/p: 401 unauthorized (again after refreshing the access token)"},
	} {
		var f *Failure
		if err := c.v.Describe(c.err, c.a); !errors.As(err, &f) || f.Reason != c.reason || f.Message != c.want {
			t.Errorf("%s: got %#v, want %s %q", c.name, err, c.reason, c.want)
		}
	}
	// Not a Failure (cancellation): as it is.
	if err := acme.Describe(context.Canceled, Answer{}); err != context.Canceled {
		t.Errorf("cancellation became %v", err)
	}
	// Describe never changes the Failure it was given.
	orig := &Failure{Reason: ReasonAuth, Message: "GET h/p: 401 unauthorized"}
	_ = acme.Describe(orig, answer(401, `{}`, false))
	if orig.Message != "GET h/p: 401 unauthorized" {
		t.Errorf("the original failure changed: %q", orig.Message)
	}
}

func TestCredentialSendAnswer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, u, n, h := accepting(t, "Bearer at-9")
	tk := &tokens{}
	a, err := oauthCred(t, tk, "Bearer").Send(ctx, h, getter(ctx, u))
	var f *Failure
	if !errors.As(err, &f) || a.Status != http.StatusUnauthorized || !a.Refreshed || string(a.Body) != `{"error":"expired"}` || a.Header == nil || tk.forced != 1 || n.Load() != 2 {
		t.Fatalf("answer %+v, %v; %d forced, %d requests", a, err, tk.forced, n.Load())
	}
	got := Vendor{Name: "acme"}.Describe(err, a).Error()
	if !strings.HasPrefix(got, "acme: GET 127.0.0.1:") || !strings.HasSuffix(got, ": 401 unauthorized (again after refreshing the access token)") {
		t.Errorf("described as %q", got)
	}

	// Success: the status and header, and the body Do read.
	a, err = StaticCredential("Bearer at-9").Send(ctx, h, getter(ctx, u))
	if err != nil || a.Status != http.StatusOK || a.Refreshed || string(a.Body) != `{"ok":true}` {
		t.Errorf("answer %+v, %v", a, err)
	}
}

func TestVendorBaseURL(t *testing.T) {
	t.Parallel()
	v := Vendor{Name: "acme"}
	for _, ok := range []string{"https://api.acme.test", "http://127.0.0.1:8080/api/v2"} {
		if u, err := v.BaseURL("base_url", ok); err != nil || u.String() != ok {
			t.Errorf("%q: %v, %v", ok, u, err)
		}
	}
	for _, bad := range []string{"api.acme.test", "ftp://acme.test", "https://", "https://acme.test/?x=1", "https://acme.test/#top", "https://acme.test/%zz"} {
		_, err := v.BaseURL("API base", bad)
		var f *Failure
		if !errors.As(err, &f) || f.Reason != ReasonConfig || f.Message != "acme: API base \""+bad+"\" is not an http(s) URL" {
			t.Errorf("%q: %#v", bad, err)
		}
	}
}

func TestVendorWhereLeavesTheQueryOut(t *testing.T) {
	t.Parallel()
	r, err := JSONRequest(context.Background(), "acme", http.MethodPost, "https://api.acme.test/v1/a%20b?api_key=secret", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := (Vendor{Name: "acme"}).Where(r); got != "acme: POST api.acme.test/v1/a%20b" {
		t.Errorf("Where = %q", got)
	}
}
