package s3

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/connctl/connctl/internal/keycheck"
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
	u, custom, err := BucketURL(bucket, region, endpoint, baseURL, pathStyle)
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "the s3 " + strings.TrimPrefix(err.Error(), "the ")}
	}
	if u.Path == "" {
		u.Path = "/" // the bucket itself, virtual-hosted
	}
	u.RawPath = canonicalPath(u.Path)
	u.RawQuery = canonicalQuery(url.Values{"list-type": {"2"}, "max-keys": {"1"}})
	return &s3Target{url: u, custom: custom}, nil
}

// Amazon S3: ListObjectsV2 of at most one key, SigV4-signed by the AWS
// SDK's signer (sign.go). S3 has no who-am-I that works for S3-compatible
// stores too, and listing is what the connection's jobs need
// (s3:ListBucket).
func checkKeys(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, secret, err := in.Need("secret_access_key", "bucket", "access_key_id")
	if err != nil {
		return nil, err
	}
	bucket, keyID := fs[0], fs[1]
	token, err := in.OptionalSecret("session_token")
	if err != nil {
		return nil, err
	}
	region := in.Optional("region", "us-east-1")
	target, err := s3ListURL(bucket, region, in.Optional("endpoint", ""), in.Optional("base_url", ""), in.Optional("path_style", "false"))
	if err != nil {
		return nil, err
	}
	sr, err := http.NewRequestWithContext(ctx, http.MethodGet, target.url.String(), nil)
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: fmt.Sprintf("cannot build the request to %s: check endpoint", target.url.Host)}
	}
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: token}
	if err := sign(sr, creds, region, time.Now().UTC().Truncate(time.Second)); err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "cannot sign the request with the access key: check access_key_id and secret_access_key"}
	}
	header := sr.Header.Clone()
	header.Set("Accept", "application/xml")
	// The signer signs the host without a default port (":443" on https),
	// and sets sr.Host so; the request in.Do builds must send that host.
	u := *sr.URL
	if sr.Host != "" {
		u.Host = sr.Host
	}
	r, err := in.Do(ctx, keycheck.Request{Method: http.MethodGet, URL: u.String(), Header: header})
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, s3Failure(r, bucket, region, keyID, target.custom)
	}
	var list struct {
		XMLName xml.Name `xml:"ListBucketResult"`
	}
	if err := xml.Unmarshal(r.Body, &list); err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindServer, Status: r.Status, Message: fmt.Sprintf("%s answered %s with something that is not a ListObjectsV2 result: check endpoint", r.Host, r.Path)}
	}
	return &keycheck.Identity{Account: keyID, Org: bucket}, nil
}

// s3Failure maps an S3 error answer by its code, then by status.
func s3Failure(r *keycheck.Response, bucket, region, keyID string, custom bool) *keycheck.Error {
	var e s3Error
	_ = xml.Unmarshal(r.Body, &e)
	code := e.Code
	where := "in region " + region
	if custom {
		where = "at " + r.Host
	}
	mk := func(kind, msg string) *keycheck.Error {
		return &keycheck.Error{Kind: kind, Status: r.Status, Message: msg}
	}
	// The bucket's region, when S3 tells: on a wrong-region answer it sends
	// the x-amz-bucket-region header, or Region in the body.
	actual := r.Header.Get("X-Amz-Bucket-Region")
	if actual == "" {
		actual = e.Region
	}
	switch code {
	case "InvalidAccessKeyId":
		return mk(keycheck.KindUnauthorized, fmt.Sprintf("%s does not know access key ID %s (InvalidAccessKeyId): check access_key_id (and endpoint, for an S3-compatible store)", r.Host, keyID))
	case "SignatureDoesNotMatch":
		return mk(keycheck.KindUnauthorized, fmt.Sprintf("%s rejected the request signature (SignatureDoesNotMatch): check that secret_access_key belongs to access key ID %s", r.Host, keyID))
	case "ExpiredToken", "TokenRefreshRequired":
		return mk(keycheck.KindUnauthorized, fmt.Sprintf("%s says the temporary credentials have expired (%s): get new ones and give access_key_id, secret_access_key and session_token again", r.Host, code))
	case "InvalidToken":
		return mk(keycheck.KindUnauthorized, fmt.Sprintf("%s rejected the session token (InvalidToken): give the session_token that came with access key ID %s", r.Host, keyID))
	case "AccessDenied", "AllAccessDisabled":
		return mk(keycheck.KindForbidden, fmt.Sprintf("%s refused to list bucket %s (%s): allow s3:ListBucket on the bucket for access key ID %s", r.Host, bucket, code, keyID))
	case "NoSuchBucket":
		return mk(keycheck.KindConfig, fmt.Sprintf("bucket %s does not exist %s (NoSuchBucket): check bucket and region", bucket, where))
	case "InvalidBucketName":
		return mk(keycheck.KindConfig, fmt.Sprintf("%s says %s is not a valid bucket name (InvalidBucketName): check bucket", r.Host, bucket))
	case "RequestTimeTooSkewed":
		return mk(keycheck.KindConfig, fmt.Sprintf("this computer's clock is too far from %s's (RequestTimeTooSkewed): set the clock right and test again", r.Host))
	case "SlowDown":
		return mk(keycheck.KindRateLimit, fmt.Sprintf("%s asks to slow down (HTTP %d SlowDown): %s", r.Host, r.Status, keycheck.RetryAfter(r.Header)))
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "IncorrectEndpoint":
		return wrongRegion(r, bucket, region, actual, code)
	}
	if r.Status >= 300 && r.Status < 400 && actual != "" {
		return wrongRegion(r, bucket, region, actual, fmt.Sprintf("HTTP %d", r.Status))
	}
	return keycheck.StatusError(r, keycheck.Fixes{
		Unauthorized: "check access_key_id and secret_access_key",
		Forbidden:    "allow s3:ListBucket on bucket " + bucket + " for access key ID " + keyID,
		NotFound:     "check bucket, region and endpoint",
	})
}

func wrongRegion(r *keycheck.Response, bucket, region, actual, why string) *keycheck.Error {
	msg := fmt.Sprintf("bucket %s is not in region %s (%s from %s): set region to the bucket's region (its Properties tab)", bucket, region, why, r.Host)
	if actual != "" && actual != region && !strings.ContainsAny(actual, " \t\n/") {
		msg = fmt.Sprintf("bucket %s is in region %s, not %s (%s from %s): set it with --set region=%s", bucket, actual, region, why, r.Host, actual)
	}
	return &keycheck.Error{Kind: keycheck.KindConfig, Status: r.Status, Message: msg}
}
