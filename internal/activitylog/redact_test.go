package activitylog

import (
	"context"
	"encoding/base64"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t/Key+with=odd&chars"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, msg := range []string{
		"key " + secret + " refused",
		"url https://x.example/?k=" + url.QueryEscape(secret),
		"path /v1/" + url.PathEscape(secret) + "/items",
		`body {"key":"` + strings.ReplaceAll(secret, "&", `\u0026`) + `"}`,
		"std " + b64(secret),
		"url-safe " + base64.URLEncoding.EncodeToString([]byte(secret)),
		"raw " + base64.RawURLEncoding.EncodeToString([]byte(secret)),
		// Inside a longer base64 text, at each of the three alignments.
		"basic " + b64("ada:"+secret),
		"basic " + b64("bob1:"+secret),
		"basic " + b64("carol:"+secret),
		"basic " + b64("x:"+secret+":y"),
	} {
		got := Redact(msg, "", secret)
		if strings.Contains(got, secret) || !strings.Contains(got, redacted) {
			t.Errorf("Redact(%q) = %q", msg, got)
		}
		for _, form := range []string{secret, url.QueryEscape(secret), b64(secret), base64.RawStdEncoding.EncodeToString([]byte(secret))[2:14]} {
			if strings.Contains(got, form) {
				t.Errorf("Redact(%q) = %q still holds %q", msg, got, form)
			}
		}
	}
	if got := Redact("nothing to hide", "", "absent-secret"); got != "nothing to hide" {
		t.Errorf("Redact changed a clean message: %q", got)
	}
	// A secret inside another is removed whole, longest first.
	if got := Redact("token abcdef and abc", "abc", "abcdef"); got != "token [redacted] and [redacted]" {
		t.Errorf("overlap: %q", got)
	}
}

func TestCleanMessageScrubsCredentials(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"GET https://ada:pa55w0rd@api.example.com/x: 500":                     "GET https://[redacted]@api.example.com/x: 500",
		"Authorization: Basic YWRhOnBhc3M= rejected":                          "Authorization: [redacted] rejected",
		`header "authorization":"Bearer abc.def"`:                             `header "authorization":"[redacted]"`,
		"sent Bearer ya29.A0ARrdaM-xyz_123 got 401":                           "sent Bearer [redacted] got 401",
		"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl expired":     "token [redacted] expired",
		"POST /token failed: refresh_token=1//0gabc&client_secret=GOCSPX-xyz": "POST /token failed: refresh_token=[redacted]&client_secret=[redacted]",
		// A value runs to its delimiter, whatever it holds.
		"token: refresh_token=1//0gabc":                                                   "token: [redacted]",
		`{"access_token": "at-123", "token_type": "bearer"}`:                              `{"access_token": "[redacted]", "token_type": "bearer"}`,
		"https://b.s3.amazonaws.com/k?X-Amz-Signature=abcd1234&X-Amz-Security-Token=FwoG": "https://b.s3.amazonaws.com/k?X-Amz-Signature=[redacted]&X-Amz-Security-Token=[redacted]",
		"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG":                                     "aws_secret_access_key=[redacted]",
		"password: hunter2": "password: [redacted]",
		"key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- loaded": "key [redacted] loaded",
		// Left alone: no credential in sight.
		"SignatureDoesNotMatch: The request signature we calculated does not match": "SignatureDoesNotMatch: The request signature we calculated does not match",
		"missing primary key: id":                 "missing primary key: id",
		"429 Too Many Requests (retry-after 30s)": "429 Too Many Requests (retry-after 30s)",
		"token_type: bearer":                      "token_type: bearer",
	} {
		if got := cleanMessage(in); got != want {
			t.Errorf("cleanMessage(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestCleanMessageOneLine(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"  a\r\nb\tc\x00d\u2028e  ": "a b c d e",
		"bad \xff utf8":             "bad \uFFFD utf8",
		"evil\u202Etxt.exe":         "eviltxt.exe",
		"":                          "",
	} {
		if got := cleanMessage(in); got != want {
			t.Errorf("cleanMessage(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("日本", MaxMessage)
	got := cleanMessage(long)
	if utf8.RuneCountInString(got) != MaxMessage || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("cut: %d characters, %q…", utf8.RuneCountInString(got), got[:12])
	}
	exact := strings.Repeat("x", MaxMessage)
	if got := cleanMessage(exact); got != exact {
		t.Error("a message of exactly MaxMessage characters was cut")
	}
}

func TestSecretChangesKeepNoValue(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	const canary = "canary-7f3a9"
	_, err := s.Record(ctx, Activity{Type: TypeUpdate, Action: ActionEdit, ConnectionID: "c1", Changes: []Change{
		{Field: "client_secret", Old: canary, New: canary + "2"},
		{Field: "Password", New: canary},
		{Field: "refresh-token", Old: canary},
		{Field: "passphrase", Old: canary},
		{Field: "header", New: "Authorization: Bearer " + canary},
		{Field: "opaque", Old: canary, New: canary, Secret: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, Filter{})
	if err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	for _, c := range got[0].Changes {
		if strings.Contains(c.Old+c.New, canary) {
			t.Errorf("change %+v keeps the secret", c)
		}
		if c.Field != "header" && !c.Secret {
			t.Errorf("change %+v not marked secret", c)
		}
	}
	// Nor does the file, anywhere.
	s.Close()
	raw, err := readAll(s.path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, canary) {
		t.Error("the database file holds the canary")
	}
}

// readAll is the database file and its WAL, as text.
func readAll(path string) (string, error) {
	var b strings.Builder
	for _, p := range []string{path, path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		b.Write(data)
	}
	return b.String(), nil
}
