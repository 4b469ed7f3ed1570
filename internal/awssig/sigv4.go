// Package awssig signs requests with AWS Signature Version 4, header-based,
// written out with the standard library: canonical request, string to sign,
// HMAC-SHA256 key chain. It holds no credentials and does no I/O; callers
// pass the secret in and send the request themselves.
//
// connctl itself signs with the AWS SDK for Go v2's signer
// (internal/connector/s3, sign.go). This package is kept for tests only, as
// an independent implementation checked on AWS's own vectors: the fake S3
// servers verify with it what the SDK signed. internal/archtest fails if
// the binary links it.
//
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
package awssig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

const (
	// Algorithm is the SigV4 algorithm name in the Authorization header.
	Algorithm = "AWS4-HMAC-SHA256"
	// DateFormat is the layout of x-amz-date (ISO 8601 basic, UTC).
	DateFormat = "20060102T150405Z"
	// EmptySHA256 is the hex SHA-256 of an empty payload.
	EmptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Request is what SigV4 signs.
type Request struct {
	Method      string
	URI         string            // canonical URI: already URI-encoded once (see CanonicalURI)
	Query       url.Values        // query parameters, not encoded
	Header      map[string]string // signed headers by name; host and x-amz-date included
	PayloadHash string            // hex SHA-256 of the body
	Time        time.Time
	Region      string
	Service     string
	KeyID       string
	Secret      string
}

// CanonicalRequest returns the canonical request and the signed-headers list.
func (s *Request) CanonicalRequest() (canonical, signedHeaders string) {
	names := make([]string, 0, len(s.Header))
	for k := range s.Header {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	lower := make(map[string]string, len(s.Header))
	for k, v := range s.Header {
		lower[strings.ToLower(k)] = v
	}
	var headers strings.Builder
	for _, n := range names {
		// Trim, and collapse runs of spaces inside the value to one.
		headers.WriteString(n + ":" + strings.Join(strings.Fields(lower[n]), " ") + "\n")
	}
	signed := strings.Join(names, ";")
	return strings.Join([]string{
		s.Method,
		s.URI,
		CanonicalQuery(s.Query),
		headers.String(),
		signed,
		s.PayloadHash,
	}, "\n"), signed
}

// Scope is date/region/service/aws4_request.
func (s *Request) Scope() string {
	return s.Time.UTC().Format("20060102") + "/" + s.Region + "/" + s.Service + "/aws4_request"
}

// StringToSign returns the string to sign for a canonical request.
func (s *Request) StringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return Algorithm + "\n" + s.Time.UTC().Format(DateFormat) + "\n" + s.Scope() + "\n" + hex.EncodeToString(sum[:])
}

// Signature returns the hex signature of the request.
func (s *Request) Signature() string {
	canonical, _ := s.CanonicalRequest()
	key := hmacSHA256([]byte("AWS4"+s.Secret), s.Time.UTC().Format("20060102"))
	key = hmacSHA256(key, s.Region)
	key = hmacSHA256(key, s.Service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, s.StringToSign(canonical)))
}

// Authorization returns the Authorization header value.
func (s *Request) Authorization() string {
	_, signed := s.CanonicalRequest()
	return Algorithm + " Credential=" + s.KeyID + "/" + s.Scope() + ",SignedHeaders=" + signed + ",Signature=" + s.Signature()
}

// Credentials are an access key: ID, secret and, for temporary credentials,
// a session token.
type Credentials struct {
	KeyID        string
	Secret       string
	SessionToken string
}

// Sign signs r, a request without a body (GET, HEAD, DELETE), for service in
// region at time t. It first rewrites r.URL into the canonical form so that
// what goes on the wire is what was signed: the path encoded once as
// CanonicalURI has it (S3 style: '/' kept, everything but A-Z a-z 0-9 - . _ ~
// percent-encoded) and the query sorted and encoded as CanonicalQuery. It
// then sets x-amz-date, x-amz-content-sha256 (of the empty payload),
// x-amz-security-token when c has a session token, and Authorization. The
// signed headers are host and those x-amz-* headers.
func Sign(r *http.Request, c Credentials, region, service string, t time.Time) {
	t = t.UTC()
	if r.URL.Path == "" {
		r.URL.Path = "/" // what Go sends for an empty path
	}
	r.URL.RawPath = CanonicalURI(r.URL.Path)
	r.URL.RawQuery = CanonicalQuery(r.URL.Query())
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	signed := map[string]string{
		"host":                 host,
		"x-amz-content-sha256": EmptySHA256,
		"x-amz-date":           t.Format(DateFormat),
	}
	if c.SessionToken != "" {
		signed["x-amz-security-token"] = c.SessionToken
	}
	for k, v := range signed {
		if k != "host" {
			r.Header.Set(k, v)
		}
	}
	s := &Request{
		Method: r.Method, URI: r.URL.EscapedPath(), Query: r.URL.Query(), Header: signed, PayloadHash: EmptySHA256,
		Time: t, Region: region, Service: service, KeyID: c.KeyID, Secret: c.Secret,
	}
	r.Header.Set("Authorization", s.Authorization())
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// CanonicalQuery sorts parameters by name, then value, each URI-encoded.
func CanonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, URIEncode(k, true)+"="+URIEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// CanonicalURI encodes each segment of a decoded path once, as S3 expects
// (S3 does not encode twice, unlike other services).
func CanonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return URIEncode(path, false)
}

// URIEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/', unless encodeSlash), with upper-case hex.
func URIEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
