package snowflake

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// A 4096-bit key's PEM (about 3,270 bytes) is more than the secret store
// keeps (2,560 bytes): it is refused when given, with the fix, not when
// the store refuses it later.
func TestKeyTooLargeForTheStore(t *testing.T) {
	t.Parallel()
	k, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	err = validatePrivateKey(p8)
	if err == nil || !strings.Contains(err.Error(), "4096-bit key does not fit") || !strings.Contains(err.Error(), "openssl genrsa 2048") {
		t.Fatalf("validatePrivateKey(4096-bit) = %v, want the size named with the fix", err)
	}
}
