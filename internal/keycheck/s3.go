package keycheck

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/connector/s3"

	"github.com/connctl/connctl/internal/awssig"
)

// s3Target is where the S3 check sends ListObjectsV2.
type s3Target struct {
	url    *url.URL // with the canonical path in RawPath and query in RawQuery
	custom bool     // endpoint or base_url: not AWS's own S3
}

// s3ListURL builds the ListObjectsV2 URL for max-keys=1, at the bucket
// address the objects source uses (s3.BucketURL).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
func s3ListURL(bucket, region, endpoint, baseURL, pathStyle string) (*s3Target, error) {
	u, custom, err := s3.BucketURL(bucket, region, endpoint, baseURL, pathStyle)
	if err != nil {
		return nil, &Error{Kind: kindConfig, Message: "the s3 " + strings.TrimPrefix(err.Error(), "the ")}
	}
	if u.Path == "" {
		u.Path = "/" // the bucket itself, virtual-hosted
	}
	u.RawPath = awssig.CanonicalURI(u.Path)
	u.RawQuery = awssig.CanonicalQuery(url.Values{"list-type": {"2"}, "max-keys": {"1"}})
	return &s3Target{url: u, custom: custom}, nil
}

// s3Error is S3's XML error body.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Message string   `xml:"Message"`
	Region  string   `xml:"Region"`
}

// Amazon S3: SigV4-signed ListObjectsV2 of at most one key. S3 has no
// who-am-I that works for S3-compatible stores too, and listing is what the
// connection's jobs need (s3:ListBucket).
func checkS3(ctx context.Context, in *input) (*Identity, error) {
	bucket, err := in.field("bucket")
	if err != nil {
		return nil, err
	}
	keyID, err := in.field("access_key_id")
	if err != nil {
		return nil, err
	}
	secret, err := in.secret("secret_access_key")
	if err != nil {
		return nil, err
	}
	token, err := in.optionalSecret("session_token")
	if err != nil {
		return nil, err
	}
	region := in.optional("region", "us-east-1")
	target, err := s3ListURL(bucket, region, in.optional("endpoint", ""), in.optional("base_url", ""), in.optional("path_style", "false"))
	if err != nil {
		return nil, err
	}
	u := target.url
	now := time.Now().UTC().Truncate(time.Second)
	signed := map[string]string{
		"host":                 u.Host,
		"x-amz-content-sha256": awssig.EmptySHA256,
		"x-amz-date":           now.Format(awssig.DateFormat),
	}
	if token != "" {
		signed["x-amz-security-token"] = token
	}
	q, _ := url.ParseQuery(u.RawQuery)
	sr := &awssig.Request{
		Method: http.MethodGet, URI: u.EscapedPath(), Query: q, Header: signed, PayloadHash: awssig.EmptySHA256,
		Time: now, Region: region, Service: "s3", KeyID: keyID, Secret: secret,
	}
	header := http.Header{"Authorization": {sr.Authorization()}, "Accept": {"application/xml"}}
	for k, v := range signed {
		if k != "host" {
			header.Set(k, v)
		}
	}
	r, err := in.do(ctx, request{method: http.MethodGet, url: u.String(), header: header})
	if err != nil {
		return nil, err
	}
	if !r.ok() {
		return nil, s3Failure(r, bucket, region, keyID, target.custom)
	}
	var list struct {
		XMLName xml.Name `xml:"ListBucketResult"`
	}
	if err := xml.Unmarshal(r.body, &list); err != nil {
		return nil, &Error{Kind: kindServer, Status: r.status, Message: fmt.Sprintf("%s answered %s with something that is not a ListObjectsV2 result: check endpoint", r.host, r.path)}
	}
	return &Identity{Account: keyID, Org: bucket}, nil
}

// s3Failure maps an S3 error answer by its code, then by status.
func s3Failure(r *response, bucket, region, keyID string, custom bool) *Error {
	var e s3Error
	_ = xml.Unmarshal(r.body, &e)
	code := e.Code
	where := "in region " + region
	if custom {
		where = "at " + r.host
	}
	mk := func(kind, msg string) *Error { return &Error{Kind: kind, Status: r.status, Message: msg} }
	// The bucket's region, when S3 tells: on a wrong-region answer it sends
	// the x-amz-bucket-region header, or Region in the body.
	actual := r.header.Get("X-Amz-Bucket-Region")
	if actual == "" {
		actual = e.Region
	}
	switch code {
	case "InvalidAccessKeyId":
		return mk(kindUnauthorized, fmt.Sprintf("%s does not know access key ID %s (InvalidAccessKeyId): check access_key_id (and endpoint, for an S3-compatible store)", r.host, keyID))
	case "SignatureDoesNotMatch":
		return mk(kindUnauthorized, fmt.Sprintf("%s rejected the request signature (SignatureDoesNotMatch): check that secret_access_key belongs to access key ID %s", r.host, keyID))
	case "ExpiredToken", "TokenRefreshRequired":
		return mk(kindUnauthorized, fmt.Sprintf("%s says the temporary credentials have expired (%s): get new ones and give access_key_id, secret_access_key and session_token again", r.host, code))
	case "InvalidToken":
		return mk(kindUnauthorized, fmt.Sprintf("%s rejected the session token (InvalidToken): give the session_token that came with access key ID %s", r.host, keyID))
	case "AccessDenied", "AllAccessDisabled":
		return mk(kindForbidden, fmt.Sprintf("%s refused to list bucket %s (%s): allow s3:ListBucket on the bucket for access key ID %s", r.host, bucket, code, keyID))
	case "NoSuchBucket":
		return mk(kindConfig, fmt.Sprintf("bucket %s does not exist %s (NoSuchBucket): check bucket and region", bucket, where))
	case "InvalidBucketName":
		return mk(kindConfig, fmt.Sprintf("%s says %s is not a valid bucket name (InvalidBucketName): check bucket", r.host, bucket))
	case "RequestTimeTooSkewed":
		return mk(kindConfig, fmt.Sprintf("this computer's clock is too far from %s's (RequestTimeTooSkewed): set the clock right and test again", r.host))
	case "SlowDown":
		return mk(kindRateLimit, fmt.Sprintf("%s asks to slow down (HTTP %d SlowDown): %s", r.host, r.status, retryAfter(r.header)))
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "IncorrectEndpoint":
		return wrongRegion(r, bucket, region, actual, code)
	}
	if r.status >= 300 && r.status < 400 && actual != "" {
		return wrongRegion(r, bucket, region, actual, fmt.Sprintf("HTTP %d", r.status))
	}
	return statusError(r, fixes{
		unauthorized: "check access_key_id and secret_access_key",
		forbidden:    "allow s3:ListBucket on bucket " + bucket + " for access key ID " + keyID,
		notFound:     "check bucket, region and endpoint",
	})
}

func wrongRegion(r *response, bucket, region, actual, why string) *Error {
	msg := fmt.Sprintf("bucket %s is not in region %s (%s from %s): set region to the bucket's region (its Properties tab)", bucket, region, why, r.host)
	if actual != "" && actual != region && !strings.ContainsAny(actual, " \t\n/") {
		msg = fmt.Sprintf("bucket %s is in region %s, not %s (%s from %s): set it with --set region=%s", bucket, actual, region, why, r.host, actual)
	}
	return &Error{Kind: kindConfig, Status: r.status, Message: msg}
}
