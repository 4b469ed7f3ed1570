package snowflake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The JWT follows https://docs.snowflake.com/en/developer-guide/sql-api/authenticating
// ("Generate a JWT token"): iss <ACCOUNT>.<USER>.SHA256:<fingerprint>, sub
// <ACCOUNT>.<USER>, iat, exp at most an hour later, RS256.

func testKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func TestJWTClaims(t *testing.T) {
	t.Parallel()
	k, p8 := testKey(t)
	kp, err := parsePrivateKey(p8)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	tok, err := kp.token("myorg-myaccount", "etl_svc", now)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := parsed.Headers[0]; h.Algorithm != "RS256" || h.ExtraHeaders["typ"] != "JWT" {
		t.Errorf("header alg %q typ %v, want RS256 JWT", h.Algorithm, h.ExtraHeaders["typ"])
	}
	var c jwt.Claims
	if err := parsed.Claims(&k.PublicKey, &c); err != nil {
		t.Fatalf("the signature does not verify with the public key: %v", err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	sum := sha256.Sum256(der)
	fp := "SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
	if c.Issuer != "MYORG-MYACCOUNT.ETL_SVC."+fp {
		t.Errorf("iss = %q, want MYORG-MYACCOUNT.ETL_SVC.%s", c.Issuer, fp)
	}
	if c.Subject != "MYORG-MYACCOUNT.ETL_SVC" {
		t.Errorf("sub = %q", c.Subject)
	}
	if !c.IssuedAt.Time().Equal(now) {
		t.Errorf("iat = %v, want %v", c.IssuedAt.Time(), now)
	}
	if d := c.Expiry.Time().Sub(c.IssuedAt.Time()); d <= 0 || d > time.Hour {
		t.Errorf("exp - iat = %v, want at most an hour", d)
	}
}

// The fingerprint is what DESCRIBE USER shows as RSA_PUBLIC_KEY_FP: the
// base64 SHA-256 of the DER public key. This one is pinned for a fixed key
// (computed independently: openssl rsa -pubout -outform DER | openssl
// dgst -sha256 -binary | openssl enc -base64).
func TestFingerprintPinned(t *testing.T) {
	t.Parallel()
	kp, err := parsePrivateKey(fixedKey)
	if err != nil {
		t.Fatal(err)
	}
	if kp.fingerprint != fixedKeyFP {
		t.Errorf("fingerprint = %s, want %s", kp.fingerprint, fixedKeyFP)
	}
}

func TestJWTAccount(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"myorg-myaccount":                 "MYORG-MYACCOUNT",
		"xy12345":                         "XY12345",
		"xy12345.us-east-2.aws":           "XY12345",
		"myorg-myaccount.privatelink":     "MYORG-MYACCOUNT",
		"myorg-myaccount_dev":             "MYORG-MYACCOUNT_DEV",
		"myorg-myaccount.global":          "MYORG",
		"  xy12345.eu-central-1  ":        "XY12345",
		"acme-prod.europe-west4.gcp":      "ACME-PROD",
		"acme-prod.east-us-2.azure.extra": "ACME-PROD",
	} {
		if got := jwtAccount(in); got != want {
			t.Errorf("jwtAccount(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	k, p8 := testKey(t)
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	for _, tc := range []struct{ name, in, want string }{
		{"pkcs8", p8, ""},
		{"pkcs1", pkcs1, ""},
		{"after openssl pkcs12 attributes", "Bag Attributes\n    localKeyID: 01 02\nKey Attributes: <No Attributes>\n" + p8, ""},
		{"encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n", "is encrypted"},
		{"public", pub, "is a public key"},
		{"not pem", "not a key at all", "is not a PEM private key"},
		{"broken", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "does not parse"},
	} {
		_, err := parsePrivateKey(tc.in)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case err != nil && (strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "AAAA")):
			t.Errorf("%s: the message quotes the key: %v", tc.name, err)
		}
		if vErr := validatePrivateKey(tc.in); (vErr == nil) != (tc.want == "") {
			t.Errorf("%s: validatePrivateKey = %v", tc.name, vErr)
		}
	}
}

// fixedKey is a throwaway 2048-bit RSA key made for this test only
// (openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -nocrypt).
const fixedKey = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCogqWbXvWE9FJS
FQjCwikA61UMo19+aRwOQ3Yslaif5vzhWsO3VeO5hT3w4hyqOK+ieGxXlo8VlJ2i
5+TysPBdYNjwM8OSnm/OBBjgFWZybuyzi80DT2b1AJjG8WzZlNBQBjdx39hhsbv6
ZPmMarXvffir9pJsRIsYyeLIyEZotgrC6dAMd59LLqGLDt8vIihvilAaMlOAHgNL
fZgnP4f1q8rU43WSVcbvaFky1dBIyWm6TBLLHMK4bqpB9VFULnn/M8TO9UgmdN6e
2xYV5mMm3p2NJEO5h8L9kDj8Y0X0PfQAO4/sXQEN0W1dgPlIljpjF5yPzlEMEc/h
fNJ7dSoFAgMBAAECggEANbLgfFkv600CeLbMQmgmMe1MfokHctyi/Kah34ZXpJEy
78uBSAi+V43u1bbwhIwo6CDxAZ5wfWONMm8shew9xLwKlc0hGzWTEnc6yBn5uijA
FF1OGSpx+ExW4zrnQZULJx08CPVY2pUNfrcz0Pvme2nM11vtgEP9gYpAU1SDH3Wz
JoK1RZN+xV3jnfvuHfM8jGSdICtaFJsvNxeOlO/INtFDBar38nMdDlPLhFeiJj2h
1a0zvxbnNq74W03Jo49O8NqdVY4i5iVkWPCUExWUIyEQUDDkXHfX7m9pEGLOq9VF
Qe6RI2TFUwiav6a7Rrf0ndGURZ5kS0nIyeN37oLBBwKBgQDTJVrg4yKvX/bXxk0Z
jctZZet239mtESw8fmeFa6JrsTW1S3g0RWU6ZwEk3AlNBIn3Xr5n6SdasqbOfd1O
O4Xm1CdqvVaamyBQOazSk2ULKc0wdaZzGWeelV8bPACRX4EsI1zd4Why2AJsefGn
MWz8nIbAIeFIXjXpQFR+B73Y9wKBgQDMTqmBgUXUyaQ/B3a76tVGAUbqk1OdfePD
CNij/sB6jc6CJ6TcEdmHT8q42fG6UxBuPcdMh7IeeWH1RXSqAgAbxjbRJvYQo8Zt
D9xNFlusJ6Mkf1TqdF/nI30BPfzXcmXMLmMWBMdHPtmEbNxbNgFYCOpa1iWLOsl7
gwSyyf2x4wKBgQC2O9BStlayTD3sf0791h6Cuu9dutfRgjfOwj4wrfQRxHGZVliZ
rKcwn8Qh/vLcESXOZWwqnNWFdxl2sLT3l3H7BnI6ss1zRJ2///dEC0izONHKmFAf
mPaQrVTXWZMX5PjEkoTNT4VpUTvOSfUiGwt4ftPiMZuRbRZUiVwjJiVZgwKBgFNG
qO7hm24ddrY+O5ZjJOVw9c/9lzJ1stW3kF5gI2KQ1KDWuer915XA31ezdkVFQEg/
JDI8iUzEmzoXQnNdd1/azlM4N0oXB3VC5sABIgKs8WGaCSm7n6+eFoDgHGRQ+89b
BQZfkj6nDpBcswD2pVuV3riB2zHCF4gholOh46eTAoGBAIjamP6PsD8aPbnq0SkX
R6/hi2D4+ipaFCjmM73wouI7uFL61wQO29xZzFwjT6jfCAvrh3+24mkXvIA9cN/w
SUi5L7/KUUlGAGtPespbHujRjCiqz+cKjFAiGEuRxjkZP4JMZ2viHsCdw33zonp1
S/wmrLZj+V/aBrBvAUZYLcXc
-----END PRIVATE KEY-----
`

const fixedKeyFP = "SHA256:9vlJh6M6qYMHWVDCZTVI4G/cS2zv9pu18cHrSIwnu1U="
