package keycheck

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"sort"
	"strings"
	"time"
)

// AWS Signature Version 4, header-based, written out with the standard
// library: canonical request, string to sign, HMAC-SHA256 key chain.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html

const (
	sigv4Algorithm = "AWS4-HMAC-SHA256"
	amzDateFormat  = "20060102T150405Z"
	// emptySHA256 is the hex SHA-256 of an empty payload.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// sigv4Request is what SigV4 signs.
type sigv4Request struct {
	method      string
	uri         string            // canonical URI: already URI-encoded once (see canonicalURI)
	query       url.Values        // query parameters, not encoded
	header      map[string]string // signed headers by lower-case name; host and x-amz-date included
	payloadHash string            // hex SHA-256 of the body
	time        time.Time
	region      string
	service     string
	keyID       string
	secret      string
}

// canonicalRequest returns the canonical request and the signed-headers list.
func (s *sigv4Request) canonicalRequest() (string, string) {
	names := make([]string, 0, len(s.header))
	for k := range s.header {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	lower := make(map[string]string, len(s.header))
	for k, v := range s.header {
		lower[strings.ToLower(k)] = v
	}
	var headers strings.Builder
	for _, n := range names {
		// Trim, and collapse runs of spaces inside the value to one.
		headers.WriteString(n + ":" + strings.Join(strings.Fields(lower[n]), " ") + "\n")
	}
	signed := strings.Join(names, ";")
	return strings.Join([]string{
		s.method,
		s.uri,
		canonicalQuery(s.query),
		headers.String(),
		signed,
		s.payloadHash,
	}, "\n"), signed
}

// scope is date/region/service/aws4_request.
func (s *sigv4Request) scope() string {
	return s.time.UTC().Format("20060102") + "/" + s.region + "/" + s.service + "/aws4_request"
}

// stringToSign returns the string to sign for a canonical request.
func (s *sigv4Request) stringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigv4Algorithm + "\n" + s.time.UTC().Format(amzDateFormat) + "\n" + s.scope() + "\n" + hex.EncodeToString(sum[:])
}

// signature returns the hex signature of the request.
func (s *sigv4Request) signature() string {
	canonical, _ := s.canonicalRequest()
	key := hmacSHA256([]byte("AWS4"+s.secret), s.time.UTC().Format("20060102"))
	key = hmacSHA256(key, s.region)
	key = hmacSHA256(key, s.service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, s.stringToSign(canonical)))
}

// authorization returns the Authorization header value.
func (s *sigv4Request) authorization() string {
	_, signed := s.canonicalRequest()
	return sigv4Algorithm + " Credential=" + s.keyID + "/" + s.scope() + ",SignedHeaders=" + signed + ",Signature=" + s.signature()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalQuery sorts parameters by name, then value, each URI-encoded.
func canonicalQuery(q url.Values) string {
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
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		}
	}
	return strings.Join(parts, "&")
}

// canonicalURI encodes each segment of a decoded path once, as S3 expects
// (S3 does not encode twice, unlike other services).
func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return uriEncode(path, false)
}

// uriEncode percent-encodes every byte except the unreserved characters
// A-Z a-z 0-9 - . _ ~ (and '/', unless encodeSlash), with upper-case hex.
func uriEncode(s string, encodeSlash bool) string {
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
