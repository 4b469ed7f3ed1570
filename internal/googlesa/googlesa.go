// Package googlesa reads Google service-account JSON keys, checks them
// (with messages that never quote the key) and gets access tokens with
// them through golang.org/x/oauth2/jwt, the JWT bearer grant (RFC 7523). It
// is shared by `connctl test` (keycheck) and the BigQuery sources. It never
// puts the key in an error and sends only through the function its caller
// gives (see Key.Token).
package googlesa

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/jwt"

	"github.com/connctl/connctl/internal/safehttp"
)

// DefaultTokenURI is the token endpoint of keys that do not name one.
const DefaultTokenURI = "https://oauth2.googleapis.com/token"

// Key is the part of a service-account key file connctl uses.
type Key struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	ClientID     string `json:"client_id"`
	TokenURI     string `json:"token_uri"`
}

// KeyError says what is wrong with a key file, in words that never quote
// it: What completes "service_account_key …" (e.g. "is not JSON").
type KeyError struct{ What string }

func (e *KeyError) Error() string { return "service_account_key " + e.What }

// ErrInsecureTokenURI is returned for a token_uri that is neither https nor
// http on a loopback host.
var ErrInsecureTokenURI = errors.New("service_account_key's token_uri is not an https URL")

// ParseKey reads a key file and checks its RSA private key (PKCS #8 or
// PKCS #1), so that a bad key is named before anything is sent.
func ParseKey(raw string) (*Key, error) {
	var key Key
	if json.Unmarshal([]byte(raw), &key) != nil {
		return nil, &KeyError{"is not JSON"}
	}
	if key.Type != "" && key.Type != "service_account" {
		return nil, &KeyError{"is not a service-account key"}
	}
	if key.ClientEmail == "" || key.PrivateKey == "" {
		return nil, &KeyError{"lacks client_email or private_key"}
	}
	block, _ := pem.Decode([]byte(key.PrivateKey))
	if block == nil {
		return nil, &KeyError{"has a private_key that is not PEM"}
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return nil, &KeyError{"has a private_key that is not an RSA key"}
		}
		return &key, nil
	}
	if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return &key, nil
	}
	return nil, &KeyError{"has a private_key that cannot be read"}
}

// CheckedTokenURI returns the key's token endpoint (DefaultTokenURI when it
// names none). It accepts https, and http only for a loopback host (a local
// test server): the signed assertion must not cross a network in clear.
func (k *Key) CheckedTokenURI() (string, error) {
	if k.TokenURI == "" {
		return DefaultTokenURI, nil
	}
	u, err := url.Parse(k.TokenURI)
	if err == nil && u.Host != "" && u.User == nil {
		if u.Scheme == "https" || (u.Scheme == "http" && isLoopback(u.Hostname())) {
			return k.TokenURI, nil
		}
	}
	return "", ErrInsecureTokenURI
}

// Token signs a JWT assertion with the key and exchanges it at tokenURI
// (from CheckedTokenURI) for an access token with scope: the JWT bearer
// grant (RFC 7523), done by golang.org/x/oauth2/jwt, which signs RS256
// with the key's private_key_id as kid, iss the service account, aud the
// token endpoint, valid for an hour.
//
// send carries the token request: the caller's own sending (keycheck's or
// the run's retrying client), which keeps its redirect, timeout and retry
// policies. Token wraps it in a client from safehttp that follows no
// redirect, and hands that to x/oauth2 (oauth2.HTTPClient). x/oauth2 says
// why a request failed only in words, so send should keep what it saw (the
// answer, or its own typed error) for the caller to classify; the error
// Token returns then is only a fallback. An answer without an
// access_token is ErrNoAccessToken.
func (k *Key) Token(ctx context.Context, send func(*http.Request) (*http.Response, error), scope, tokenURI string) (string, error) {
	conf := &jwt.Config{
		Email:        k.ClientEmail,
		PrivateKey:   []byte(k.PrivateKey),
		PrivateKeyID: k.PrivateKeyID,
		Scopes:       []string{scope},
		TokenURL:     tokenURI,
	}
	hc := safehttp.NoRedirects(safehttp.New(roundTrip(send), safehttp.Timeouts{}), "token endpoint")
	tok, err := conf.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
	if err != nil {
		return "", err
	}
	if tok.AccessToken == "" {
		return "", ErrNoAccessToken
	}
	return tok.AccessToken, nil
}

// ErrNoAccessToken is Token's error for an answer without an access_token.
var ErrNoAccessToken = errors.New("the token endpoint answered without an access_token")

// roundTrip lets a function carry a request.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		defer r.Body.Close() // as a RoundTripper must; send reads it through GetBody or once
	}
	return f(r)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
