package awssig

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The S3 examples of "Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk (AWS Signature Version 4)",
// section "Examples: Signature Calculations":
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
// They use the documentation's example credentials, a fixed time and the
// bucket examplebucket in us-east-1.
const (
	docKeyID  = "AKIAIOSFODNN7EXAMPLE"
	docSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docHost   = "examplebucket.s3.amazonaws.com"
	docDate   = "20130524T000000Z"
)

func docTime(t *testing.T) time.Time {
	t.Helper()
	tm, err := time.Parse(DateFormat, docDate)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSigV4S3DocumentExamples(t *testing.T) {
	t.Parallel()
	welcome := sha256Hex("Welcome to Amazon S3.")
	tests := []struct {
		name        string
		method      string
		path        string // decoded; CanonicalURI encodes it
		query       url.Values
		header      map[string]string // besides host and x-amz-date
		payload     string
		wantCreq    string // hex SHA-256 of the canonical request (last line of StringToSign), when the page shows it
		wantSigned  string
		wantSigHex  string
		wantAuthStr string
	}{
		{
			name:   "GET Object",
			method: "GET", path: "/test.txt",
			header:      map[string]string{"range": "bytes=0-9", "x-amz-content-sha256": EmptySHA256},
			payload:     EmptySHA256,
			wantCreq:    "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
			wantSigned:  "host;range;x-amz-content-sha256;x-amz-date",
			wantSigHex:  "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
			wantAuthStr: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
		},
		{
			name:   "PUT Object",
			method: "PUT", path: "/test$file.text",
			header: map[string]string{
				"date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY", "x-amz-content-sha256": welcome,
			},
			payload:    welcome,
			wantCreq:   "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
			wantSigned: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
			wantSigHex: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
		},
		{
			name:   "GET Bucket Lifecycle",
			method: "GET", path: "/", query: url.Values{"lifecycle": {""}},
			header:     map[string]string{"x-amz-content-sha256": EmptySHA256},
			payload:    EmptySHA256,
			wantSigned: "host;x-amz-content-sha256;x-amz-date",
			wantSigHex: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
		},
		{
			name:   "Get Bucket (List Objects)",
			method: "GET", path: "/", query: url.Values{"prefix": {"J"}, "max-keys": {"2"}}, // given out of order
			header:     map[string]string{"x-amz-content-sha256": EmptySHA256},
			payload:    EmptySHA256,
			wantSigned: "host;x-amz-content-sha256;x-amz-date",
			wantSigHex: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := map[string]string{"host": docHost, "x-amz-date": docDate}
			for k, v := range tc.header {
				h[k] = v
			}
			s := &Request{
				Method: tc.method, URI: CanonicalURI(tc.path), Query: tc.query, Header: h, PayloadHash: tc.payload,
				Time: docTime(t), Region: "us-east-1", Service: "s3", KeyID: docKeyID, Secret: docSecret,
			}
			creq, signed := s.CanonicalRequest()
			if signed != tc.wantSigned {
				t.Errorf("signed headers = %q, want %q", signed, tc.wantSigned)
			}
			// Checked apart from the signature, so a failure says which half is wrong.
			if tc.wantCreq != "" && sha256Hex(creq) != tc.wantCreq {
				t.Errorf("canonical request hash = %s, want %s; canonical request:\n%s", sha256Hex(creq), tc.wantCreq, creq)
			}
			if got := s.Signature(); got != tc.wantSigHex {
				t.Errorf("signature = %s, want %s", got, tc.wantSigHex)
			}
			if tc.wantAuthStr != "" && s.Authorization() != tc.wantAuthStr {
				t.Errorf("authorization = %s\nwant %s", s.Authorization(), tc.wantAuthStr)
			}
		})
	}
}

// The GET Object example's canonical request and string to sign, as the
// page prints them.
func TestSigV4S3DocumentIntermediates(t *testing.T) {
	t.Parallel()
	s := &Request{
		Method: "GET", URI: "/test.txt",
		Header:      map[string]string{"host": docHost, "range": "bytes=0-9", "x-amz-content-sha256": EmptySHA256, "x-amz-date": docDate},
		PayloadHash: EmptySHA256, Time: docTime(t), Region: "us-east-1", Service: "s3", KeyID: docKeyID, Secret: docSecret,
	}
	wantCreq := "GET\n/test.txt\n\n" +
		"host:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n" +
		"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\n" +
		"host;range;x-amz-content-sha256;x-amz-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	creq, _ := s.CanonicalRequest()
	if creq != wantCreq {
		t.Fatalf("canonical request:\n%s\nwant:\n%s", creq, wantCreq)
	}
	wantSTS := "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
		"7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
	if got := s.StringToSign(creq); got != wantSTS {
		t.Fatalf("string to sign:\n%s\nwant:\n%s", got, wantSTS)
	}
}

// get-vanilla-query-order-key-case of the AWS Signature Version 4 test
// suite (service "service", a different secret), which checks that query
// parameters are sorted by name:
// https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html
func TestSigV4TestSuiteQueryOrder(t *testing.T) {
	t.Parallel()
	tm, _ := time.Parse(DateFormat, "20150830T123600Z")
	s := &Request{
		Method: "GET", URI: "/", Query: url.Values{"Param2": {"value2"}, "Param1": {"value1"}},
		Header:      map[string]string{"host": "example.amazonaws.com", "x-amz-date": "20150830T123600Z"},
		PayloadHash: EmptySHA256, Time: tm, Region: "us-east-1", Service: "service",
		KeyID: "AKIDEXAMPLE", Secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	}
	want := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
	if got := s.Authorization(); got != want {
		t.Fatalf("authorization = %s\nwant %s", got, want)
	}
}

func TestURIEncode(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, path, query string }{
		{"/test$file.text", "/test%24file.text", "%2Ftest%24file.text"},
		{"a b+c~d_e-f.g", "a%20b%2Bc~d_e-f.g", "a%20b%2Bc~d_e-f.g"},
		{"/été/x", "/%C3%A9t%C3%A9/x", "%2F%C3%A9t%C3%A9%2Fx"},
	}
	for _, tc := range tests {
		if got := URIEncode(tc.in, false); got != tc.path {
			t.Errorf("URIEncode(%q, path) = %q, want %q", tc.in, got, tc.path)
		}
		if got := URIEncode(tc.in, true); got != tc.query {
			t.Errorf("URIEncode(%q, query) = %q, want %q", tc.in, got, tc.query)
		}
	}
	if got := CanonicalQuery(url.Values{"b": {"2", "1"}, "a": {""}}); got != "a=&b=1&b=2" {
		t.Errorf("CanonicalQuery = %q", got)
	}
}

// Sign, on the "Get Bucket (List Objects)" example: it signs host,
// x-amz-content-sha256 and x-amz-date, exactly what that example signs.
func TestSignDocumentExample(t *testing.T) {
	t.Parallel()
	r, err := http.NewRequest(http.MethodGet, "https://"+docHost+"?prefix=J&max-keys=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	Sign(r, Credentials{KeyID: docKeyID, Secret: docSecret}, "us-east-1", "s3", docTime(t))
	want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
		"SignedHeaders=host;x-amz-content-sha256;x-amz-date," +
		"Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
	if got := r.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %s\nwant %s", got, want)
	}
	if r.Header.Get("X-Amz-Date") != docDate || r.Header.Get("X-Amz-Content-Sha256") != EmptySHA256 || r.Header.Get("X-Amz-Security-Token") != "" {
		t.Errorf("headers = %v", r.Header)
	}
	if got := r.URL.String(); got != "https://"+docHost+"/?max-keys=2&prefix=J" {
		t.Errorf("URL = %s", got)
	}
}

// Sign puts on the wire the path and query it signed: keys with spaces,
// '+' and non-ASCII letters are encoded once, the S3 way, and a session
// token is sent and signed.
func TestSignCanonicalisesURLAndSignsToken(t *testing.T) {
	t.Parallel()
	u := &url.URL{Scheme: "http", Host: "127.0.0.1:9000", Path: "/bucket/dir/a b+c/été.txt",
		RawQuery: url.Values{"prefix": {"dir/a b"}, "list-type": {"2"}}.Encode()}
	r, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := docTime(t)
	Sign(r, Credentials{KeyID: "ASIAEXAMPLE", Secret: "s3cr3t", SessionToken: "tok en"}, "eu-west-1", "s3", tm)
	if got, want := r.URL.String(), "http://127.0.0.1:9000/bucket/dir/a%20b%2Bc/%C3%A9t%C3%A9.txt?list-type=2&prefix=dir%2Fa%20b"; got != want {
		t.Errorf("URL = %s\nwant %s", got, want)
	}
	if r.Header.Get("X-Amz-Security-Token") != "tok en" {
		t.Errorf("token header = %q", r.Header.Get("X-Amz-Security-Token"))
	}
	// What a server recomputes from the request as received.
	s := &Request{
		Method: "GET", URI: "/bucket/dir/a%20b%2Bc/%C3%A9t%C3%A9.txt", Query: url.Values{"prefix": {"dir/a b"}, "list-type": {"2"}},
		Header:      map[string]string{"host": "127.0.0.1:9000", "x-amz-content-sha256": EmptySHA256, "x-amz-date": docDate, "x-amz-security-token": "tok en"},
		PayloadHash: EmptySHA256, Time: tm, Region: "eu-west-1", Service: "s3", KeyID: "ASIAEXAMPLE", Secret: "s3cr3t",
	}
	if got, want := r.Header.Get("Authorization"), s.Authorization(); got != want {
		t.Errorf("Authorization = %s\nwant %s", got, want)
	}
}
