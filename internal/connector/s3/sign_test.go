package s3

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/connctl/connctl/internal/awssig"
	"github.com/connctl/connctl/internal/keycheck"
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

// An endpoint written with its scheme's default port: the signer signs the
// host without it, and `connctl test` sends the host it signed.
func TestCheckSendsTheHostItSigned(t *testing.T) {
	t.Parallel()
	var gotHost, gotAuth string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost, gotAuth = r.Host, r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, `<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>`)
	}))
	defer srv.Close()
	// Reach the test server through the name and port the URL does not carry.
	hc := srv.Client()
	tr := hc.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	hc.Transport = tr
	fields := map[string]string{"bucket": "acme-exports", "access_key_id": testKeyID, "endpoint": "https://127.0.0.1:443", "region": "us-east-1"}
	_, err := keycheck.Check(context.Background(), hc, "s3", checkKeys, fields, map[string]string{"secret_access_key": testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if gotHost != "127.0.0.1" || !strings.Contains(gotAuth, "SignedHeaders=host;") {
		t.Fatalf("host %q, Authorization %q", gotHost, gotAuth)
	}
}
