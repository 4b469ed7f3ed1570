package keycheck_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// s3Answer answers with an S3 error document.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
func s3Answer(status int, code, extra string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		reply(w, status, "application/xml", `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>"+code+"</Code><Message>m</Message>"+extra+
			"<RequestId>4442587FB7D0A2F9</RequestId><HostId>aG9zdA==</HostId></Error>", header...)
	}
}

func TestS3ErrorCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		h       http.HandlerFunc
		kind    string
		contain []string
	}{
		{"SignatureDoesNotMatch", s3Answer(403, "SignatureDoesNotMatch", "<AWSAccessKeyId>ASIAIOSFODNN7EXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256</StringToSign>"),
			kindUnauthorized, []string{"secret_access_key", "ASIAIOSFODNN7EXAMPLE"}},
		{"ExpiredToken", s3Answer(400, "ExpiredToken", "<Token-0>x</Token-0>"), kindUnauthorized, []string{"session_token", "expired"}},
		{"InvalidToken", s3Answer(400, "InvalidToken", ""), kindUnauthorized, []string{"session_token"}},
		{"NoSuchBucket", s3Answer(404, "NoSuchBucket", "<BucketName>acme-exports</BucketName>"), kindConfig,
			[]string{"bucket acme-exports does not exist at 127.0.0.1:"}},
		{"PermanentRedirect", s3Answer(301, "PermanentRedirect", "<Endpoint>acme-exports.s3.us-west-2.amazonaws.com</Endpoint><Bucket>acme-exports</Bucket>", "x-amz-bucket-region", "us-west-2"),
			kindConfig, []string{"is in region us-west-2, not eu-west-1", "--set region=us-west-2"}},
		{"AuthorizationHeaderMalformed", s3Answer(400, "AuthorizationHeaderMalformed", "<Region>ap-southeast-2</Region>"),
			kindConfig, []string{"is in region ap-southeast-2"}},
		{"bare 301 with region header", func(w http.ResponseWriter, _ *http.Request) {
			reply(w, http.StatusMovedPermanently, "application/xml", "", "x-amz-bucket-region", "us-east-2")
		}, kindConfig, []string{"is in region us-east-2"}},
		{"RequestTimeTooSkewed", s3Answer(403, "RequestTimeTooSkewed", "<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>"), kindConfig, []string{"clock"}},
		{"AllAccessDisabled", s3Answer(403, "AllAccessDisabled", ""), kindForbidden, []string{"s3:ListBucket"}},
		{"403 without a body", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(403) }, kindForbidden, []string{"HTTP 403"}},
		{"429 from a compatible store", func(w http.ResponseWriter, _ *http.Request) {
			reply(w, http.StatusTooManyRequests, "text/plain", "slow down", "Retry-After", "3")
		}, kindRateLimit, []string{"3 seconds"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, e := checkWith(t, s3Peer(), tc.h)
			if e == nil || e.Kind != tc.kind {
				t.Fatalf("error = %+v, want kind %s", e, tc.kind)
			}
			for _, c := range tc.contain {
				if !strings.Contains(e.Message, c) {
					t.Errorf("message %q does not contain %q", e.Message, c)
				}
			}
		})
	}
}

// On AWS itself, NoSuchBucket names the region that was asked.
func TestS3NoSuchBucketNamesRegion(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(s3Answer(404, "NoSuchBucket", ""))
	defer srv.Close()
	p := s3Peer()
	f := p.fields("")
	delete(f, "endpoint")
	_, err := checkByID(context.Background(), dialAll(srv), p.connector, p.auth, f, p.secrets)
	e := asError(t, err)
	if e.Kind != kindConfig || !strings.Contains(e.Message, "bucket acme-exports does not exist in region eu-west-1") {
		t.Fatalf("error = %+v", e)
	}
}

// Long-term keys carry no session token, and sign no x-amz-security-token.
func TestS3WithoutSessionToken(t *testing.T) {
	t.Parallel()
	p := s3Peer()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Security-Token") != "" || strings.Contains(r.Header.Get("Authorization"), "x-amz-security-token") {
			t.Error("a session token was sent without one being set")
		}
		if msg := verifySigV4(r, "ASIAIOSFODNN7EXAMPLE", s3Secret, "eu-west-1", ""); msg != "" {
			t.Error(msg)
		}
		p.answer(w, r, scOK)
	}))
	defer srv.Close()
	id, err := checkByID(context.Background(), srv.Client(), "s3", "aws_keys", p.fields(srv.URL), map[string]string{"secret_access_key": s3Secret})
	if err != nil || *id != p.want {
		t.Fatalf("identity %+v, error %v", id, err)
	}
}
