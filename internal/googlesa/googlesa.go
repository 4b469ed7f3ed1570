// Package googlesa reads Google service-account JSON keys and signs the
// JWT assertions of the JWT bearer grant (RFC 7523) with them. It is shared
// by `connctl test` (keycheck) and the BigQuery sources. It never puts the
// key in an error and never talks to the network.
package googlesa

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
	"net"
	"net/url"
	"strings"
	"time"
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

	signer *rsa.PrivateKey
}

// KeyError says what is wrong with a key file, in words that never quote
// it: What completes "service_account_key …" (e.g. "is not JSON").
type KeyError struct{ What string }

func (e *KeyError) Error() string { return "service_account_key " + e.What }

// ErrInsecureTokenURI is returned for a token_uri that is neither https nor
// http on a loopback host.
var ErrInsecureTokenURI = errors.New("service_account_key's token_uri is not an https URL")

// ParseKey reads a key file and its RSA private key (PKCS #8 or PKCS #1).
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
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, &KeyError{"has a private_key that is not an RSA key"}
		}
		key.signer = rk
		return &key, nil
	}
	if rk, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key.signer = rk
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

// Assertion signs the JWT of the bearer grant: iss the service account,
// the given scope, aud the token endpoint, valid for an hour from now.
func (k *Key) Assertion(scope, aud string, now time.Time) (string, error) {
	return SignJWT(k.signer, k.PrivateKeyID, map[string]any{"iss": k.ClientEmail, "scope": scope, "aud": aud}, now)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SignJWT returns a compact RS256 JWT with claims plus iat and exp (one
// hour later), as Google's token endpoint expects for the JWT bearer grant.
func SignJWT(priv *rsa.PrivateKey, kid string, claims map[string]any, now time.Time) (string, error) {
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
