package googlesa

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func keyJSON(t *testing.T, tokenURI string) (string, *rsa.PrivateKey) {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	b, _ := json.Marshal(map[string]string{"type": "service_account", "private_key_id": "kid1", "client_email": "etl@p.iam.gserviceaccount.com",
		"token_uri": tokenURI, "private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return string(b), priv
}

func TestParseKeyAndAssertion(t *testing.T) {
	t.Parallel()
	raw, _ := keyJSON(t, "")
	k, err := ParseKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	uri, err := k.CheckedTokenURI()
	if err != nil || uri != DefaultTokenURI {
		t.Fatalf("%q %v", uri, err)
	}
}

func TestParseKeyErrorsNeverQuoteTheKey(t *testing.T) {
	t.Parallel()
	for raw, what := range map[string]string{
		"CANARY not json": "is not JSON",
		`{"type":"authorized_user","client_email":"a","private_key":"CANARY"}`: "is not a service-account key",
		`{"client_email":"a"}`:                                "lacks client_email or private_key",
		`{"client_email":"a","private_key":"CANARY not pem"}`: "has a private_key that is not PEM",
	} {
		_, err := ParseKey(raw)
		var ke *KeyError
		if !errors.As(err, &ke) || ke.What != what || strings.Contains(err.Error(), "CANARY") {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestTokenURIMustNotCrossANetworkInClear(t *testing.T) {
	t.Parallel()
	for uri, ok := range map[string]bool{"https://oauth2.googleapis.com/token": true, "http://127.0.0.1:9/token": true,
		"http://localhost/token": true, "http://example.com/token": false, "https://u:p@example.com/t": false, "ftp://x/y": false} {
		raw, _ := keyJSON(t, uri)
		k, err := ParseKey(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.CheckedTokenURI()
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrInsecureTokenURI)) {
			t.Errorf("%s: %v", uri, err)
		}
	}
}
