package s3

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/connctl/connctl/internal/awssig"
)

// The SDK's signer caches signing keys by access key ID, not by secret:
// sign must not let a second secret for the same key ID reuse the first
// one's key (a wrong secret tested after the right one would pass).
func TestSignUsesTheSecretGivenEachTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	auth := func(secret string) string {
		r, _ := http.NewRequest(http.MethodGet, "https://s3.us-east-1.amazonaws.com/acme/a%20b+c", nil)
		if err := sign(r, aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}, "us-east-1", at); err != nil {
			t.Fatal(err)
		}
		return r.Header.Get("Authorization")
	}
	right, wrong := auth(testSecret), auth("not-the-secret")
	if right == wrong {
		t.Fatal("two secrets gave one signature")
	}
	if auth(testSecret) != right {
		t.Fatal("one secret gave two signatures")
	}
}

// What the SDK's signer signs is what awssig, written from AWS's
// documentation and tested on its vectors, computes for the request as
// sent: the two agree on S3's canonical path and query.
func TestSignAgreesWithTheDocumentedAlgorithm(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	r, _ := http.NewRequest(http.MethodGet, "https://acme.s3.eu-west-1.amazonaws.com/exports/a%20b+c&d~(1).txt?prefix=a b&list-type=2", nil)
	if err := sign(r, aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: "tok"}, "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	want := &awssig.Request{
		Method: http.MethodGet, URI: r.URL.EscapedPath(), Query: r.URL.Query(), PayloadHash: emptySHA256,
		Header: map[string]string{"host": r.URL.Host, "x-amz-content-sha256": emptySHA256, "x-amz-date": at.Format(awssig.DateFormat), "x-amz-security-token": "tok"},
		Time:   at, Region: "eu-west-1", Service: "s3", KeyID: testKeyID, Secret: testSecret,
	}
	// The SDK separates the parts with ", ", awssig with ","; both are valid.
	if got := strings.ReplaceAll(r.Header.Get("Authorization"), ", ", ","); got != want.Authorization() {
		creq, _ := want.CanonicalRequest()
		t.Fatalf("Authorization\n%s\nwant\n%s\ncanonical request:\n%s", got, want.Authorization(), creq)
	}
	if r.URL.EscapedPath() != "/exports/a%20b%2Bc%26d~%281%29.txt" || r.URL.RawQuery != "list-type=2&prefix=a%20b" {
		t.Errorf("on the wire: %s?%s", r.URL.EscapedPath(), r.URL.RawQuery)
	}
}
