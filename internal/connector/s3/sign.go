package s3

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"
)

// emptySHA256 is the hex SHA-256 of an empty payload: every request the
// connector sends is a GET without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// newSigner returns the AWS SDK for Go v2's SigV4 signer, set for S3: the
// path is encoded once (canonicalPath does it), never twice as for other
// services. The SDK's S3 client is not used: see docs/design.md, "Protocol
// libraries".
//
// Each request gets a new signer: a signer caches the derived signing key
// by access key ID, region and day, not by secret, so a shared one would
// go on signing with the first secret it saw for a key ID (a wrong secret
// tested after the right one would pass).
func newSigner() *v4.Signer {
	return v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
}

// canonicalPath is path encoded the way S3 signs it: every byte but
// A-Z a-z 0-9 - . _ ~ and '/' percent-encoded ("/" for an empty path).
func canonicalPath(path string) string {
	if path == "" {
		return "/"
	}
	return httpbinding.EscapePath(path, false)
}

// canonicalQuery is q sorted by name and encoded as SigV4 encodes it (a
// space is %20, not +).
func canonicalQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// sign signs r, a GET without a body, for S3 in region at t. It first puts
// r.URL in the canonical form, so that what goes on the wire is what was
// signed, then sets x-amz-content-sha256 (of the empty payload), and lets
// the SDK's signer set x-amz-date, x-amz-security-token (with a session
// token) and Authorization. The signed headers are host and those x-amz-*
// headers: r should carry no other header yet.
func sign(r *http.Request, creds aws.Credentials, region string, t time.Time) error {
	if r.URL.Path == "" {
		r.URL.Path = "/" // what Go sends for an empty path
	}
	r.URL.RawPath = canonicalPath(r.URL.Path)
	r.URL.RawQuery = canonicalQuery(r.URL.Query())
	r.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	return newSigner().SignHTTP(r.Context(), creds, r, emptySHA256, "s3", region, t.UTC())
}
