package googlesa

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Token: x/oauth2/jwt signs the grant, the caller's send carries it, and a
// redirect from the token endpoint is never followed.
func TestTokenSignsTheGrantAndSendsThroughTheCaller(t *testing.T) {
	t.Parallel()
	var pub *rsa.PublicKey
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
			return
		}
		_ = r.ParseForm()
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(parts) != 3 {
			t.Errorf("form %v", r.PostForm)
			return
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("signature: %v", err)
		}
		var h, c map[string]any
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(hb, &h)
		_ = json.Unmarshal(cb, &c)
		iat, _ := c["iat"].(float64)
		exp, _ := c["exp"].(float64)
		if h["alg"] != "RS256" || h["kid"] != "kid1" || c["iss"] != "etl@p.iam.gserviceaccount.com" || c["scope"] != "scope-x" ||
			c["aud"] != "http://"+r.Host+"/token" || exp-iat != 3600 {
			t.Errorf("header %v claims %v", h, c)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"ya29.t","expires_in":3599,"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	raw, priv := keyJSON(t, srv.URL+"/token")
	pub = &priv.PublicKey
	k, err := ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	uri, _ := k.CheckedTokenURI()
	sends := 0
	send := func(r *http.Request) (*http.Response, error) {
		sends++
		return srv.Client().Transport.RoundTrip(r)
	}
	tok, err := k.Token(context.Background(), send, "scope-x", uri)
	if err != nil || tok != "ya29.t" || sends != 1 {
		t.Fatalf("token %q, %v, %d sends", tok, err, sends)
	}

	_, err = k.Token(context.Background(), send, "scope-x", srv.URL+"/moved")
	if err == nil || !strings.Contains(err.Error(), "never follows a redirect") || sends != 2 {
		t.Fatalf("redirect: %v after %d sends", err, sends)
	}
}

func TestTokenWithoutAccessToken(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	raw, _ := keyJSON(t, srv.URL+"/token")
	k, _ := ParseKey(raw)
	_, err := k.Token(context.Background(), srv.Client().Transport.RoundTrip, "s", srv.URL+"/token")
	if !errors.Is(err, ErrNoAccessToken) {
		t.Fatalf("%v", err)
	}
}
