package snowflake

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Authentication, per https://docs.snowflake.com/en/developer-guide/sql-api/authenticating:
// every request carries Authorization: Bearer <token> and
// X-Snowflake-Authorization-Token-Type, KEYPAIR_JWT or
// PROGRAMMATIC_ACCESS_TOKEN
// (https://docs.snowflake.com/en/user-guide/programmatic-access-tokens).
const (
	tokenTypeHeader = "X-Snowflake-Authorization-Token-Type"
	tokenTypeJWT    = "KEYPAIR_JWT"
	tokenTypePAT    = "PROGRAMMATIC_ACCESS_TOKEN"
)

// jwtLifetime is how long a key-pair JWT is valid: Snowflake takes at most
// an hour after iat; a minute less leaves room for clock skew.
const jwtLifetime = 59 * time.Minute

// keyError is a private_key that cannot be used; msg names the fix and never
// quotes the key.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }

// keyPair is the user's RSA private key and the fingerprint of its public
// key, as DESCRIBE USER shows it in RSA_PUBLIC_KEY_FP.
type keyPair struct {
	key         *rsa.PrivateKey
	fingerprint string
}

// parsePrivateKey reads an unencrypted RSA private key in PEM: PKCS#8
// (BEGIN PRIVATE KEY, what `openssl pkcs8 -topk8 -nocrypt` writes, as the
// key-pair guide does: https://docs.snowflake.com/en/user-guide/key-pair-auth)
// or PKCS#1 (BEGIN RSA PRIVATE KEY). Text before the PEM block (the
// attribute lines of `openssl pkcs12`) is skipped.
func parsePrivateKey(text string) (*keyPair, error) {
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, &keyError{"private_key is not a PEM private key: give rsa_key.p8 (-----BEGIN PRIVATE KEY-----) with --secret-file"}
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
				return nil, encryptedKey()
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, encryptedKey()
		case "PUBLIC KEY":
			return nil, &keyError{"private_key is a public key: give the private key (rsa_key.p8); the public key goes to ALTER USER ... SET RSA_PUBLIC_KEY"}
		default:
			continue
		}
		if err != nil {
			return nil, &keyError{"private_key does not parse as a " + strings.ToLower(block.Type) + ": create the key again as the key-pair guide shows and give rsa_key.p8 with --secret-file"}
		}
		rk, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, &keyError{"private_key is not an RSA key: Snowflake key-pair authentication takes RSA keys (openssl genrsa 2048)"}
		}
		fp, err := fingerprint(&rk.PublicKey)
		if err != nil {
			return nil, &keyError{"private_key has no usable public key: create the key again"}
		}
		return &keyPair{key: rk, fingerprint: fp}, nil
	}
}

func encryptedKey() error {
	return &keyError{"private_key is encrypted: connctl needs it unencrypted (openssl pkcs8 -in rsa_key.p8 -nocrypt -out rsa_key_plain.p8); the secret store keeps it safe"}
}

// fingerprint is SHA256: and the base64 (standard, padded) SHA-256 of the
// public key's DER SubjectPublicKeyInfo.
func fingerprint(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:]), nil
}

// jwtAccount is the account identifier as the JWT names it: uppercase,
// without the region, cloud or privatelink parts after the first dot; for
// an account of a replication or failover group (.global), the part before
// the first hyphen. This follows Snowflake's own sample (sql-api/authenticating,
// "Generate a JWT token"; the same in its Python sample generator).
func jwtAccount(account string) string {
	a := strings.TrimSpace(account)
	if strings.Contains(a, ".global") {
		a, _, _ = strings.Cut(a, "-")
	} else {
		a, _, _ = strings.Cut(a, ".")
	}
	return strings.ToUpper(a)
}

// qualifiedUser is <ACCOUNT>.<USER>, the JWT's sub.
func qualifiedUser(account, user string) string {
	return jwtAccount(account) + "." + strings.ToUpper(strings.TrimSpace(user))
}

// token signs a key-pair JWT issued at now: RS256, iss
// <ACCOUNT>.<USER>.SHA256:<fingerprint>, sub <ACCOUNT>.<USER>, iat, exp.
// go-jose builds and signs the JWS (the library connctl already ships for
// OpenID Connect), so the encoding is not ours to get wrong.
func (k *keyPair) token(account, user string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	q := qualifiedUser(account, user)
	claims := jwt.Claims{
		Issuer:   q + "." + k.fingerprint,
		Subject:  q,
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(jwtLifetime)),
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}
