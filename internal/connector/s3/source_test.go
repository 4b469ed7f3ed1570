package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/awssig"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

// fakeS3 answers ListObjectsV2 and GetObject for one bucket, path style, in
// the documented shapes, and checks every request's SigV4 signature the way
// S3 does (refusing a bad one with 403 SignatureDoesNotMatch).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
type fakeS3 struct {
	t      *testing.T
	bucket string
	keyID  string
	secret string
	token  string // session token the requests must carry, if any

	mu      sync.Mutex
	objects map[string]fakeObject
	date    time.Time // the Date header; zero: the real clock
	// fail, when set, may answer a request instead (an injected failure);
	// it returns true when it did.
	fail     func(w http.ResponseWriter, r *http.Request, n int) bool
	requests []*http.Request
	problems []string
}

type fakeObject struct {
	body     string
	modified time.Time
}

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

func newFakeS3(t *testing.T, objects map[string]fakeObject) (*fakeS3, *httptest.Server) {
	t.Helper()
	f := &fakeS3{t: t, bucket: "acme-exports", keyID: testKeyID, secret: testSecret, objects: objects}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		for _, p := range f.problems {
			t.Errorf("fake S3: %s", p)
		}
	})
	return f, srv
}

func s3ErrorBody(code, msg string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + code + "</Code><Message>" + msg +
		"</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, s3ErrorBody(code, msg))
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r)
	if !f.date.IsZero() {
		w.Header().Set("Date", f.date.UTC().Format(http.TimeFormat))
	}
	if f.fail != nil && f.fail(w, r, len(f.requests)) {
		return
	}
	if msg := f.verify(r); msg != "" {
		f.problems = append(f.problems, msg)
		writeS3Error(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if bucket != f.bucket {
		writeS3Error(w, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	if r.Method != http.MethodGet {
		f.problems = append(f.problems, "method "+r.Method)
		writeS3Error(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "")
		return
	}
	if key == "" {
		f.list(w, r)
		return
	}
	o, ok := f.objects[key]
	if !ok {
		writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	w.Header().Set("Last-Modified", o.modified.UTC().Format(http.TimeFormat))
	w.Header().Set("ETag", `"`+etag(o.body)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(o.body)))
	_, _ = io.WriteString(w, o.body)
}

func etag(body string) string {
	sum := md5.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// list answers ListObjectsV2. The continuation token is opaque to clients;
// here it is "t:" and the last key returned.
func (f *fakeS3) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("list-type") != "2" {
		f.problems = append(f.problems, "list-type is not 2: "+r.URL.RawQuery)
	}
	max, err := strconv.Atoi(q.Get("max-keys"))
	if err != nil || max < 1 || max > 1000 {
		f.problems = append(f.problems, "max-keys "+q.Get("max-keys"))
		max = 1000
	}
	prefix, token := q.Get("prefix"), q.Get("continuation-token")
	after := ""
	if token != "" {
		if !strings.HasPrefix(token, "t:") {
			writeS3Error(w, http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
			return
		}
		after = token[2:]
	}
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	truncated := len(keys) > max
	if truncated {
		keys = keys[:max]
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
	fmt.Fprintf(&b, "<Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys><IsTruncated>%t</IsTruncated>",
		f.bucket, xmlText(prefix), len(keys), max, truncated)
	if token != "" {
		fmt.Fprintf(&b, "<ContinuationToken>%s</ContinuationToken>", xmlText(token))
	}
	if truncated {
		fmt.Fprintf(&b, "<NextContinuationToken>%s</NextContinuationToken>", xmlText("t:"+keys[len(keys)-1]))
	}
	for _, k := range keys {
		o := f.objects[k]
		fmt.Fprintf(&b, "<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>&quot;%s&quot;</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>",
			xmlText(k), o.modified.UTC().Format("2006-01-02T15:04:05.000Z"), etag(o.body), len(o.body))
	}
	b.WriteString("</ListBucketResult>")
	w.Header().Set("Content-Type", "application/xml")
	_, _ = io.WriteString(w, b.String())
}

func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// verify recomputes, from the request as received, the signature S3 would
// expect, and says what is wrong ("" when nothing).
func (f *fakeS3) verify(r *http.Request) string {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+f.keyID+"/") {
		return "Authorization is not AWS4-HMAC-SHA256 with Credential=" + f.keyID
	}
	var signedList, sig string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "SignedHeaders":
			signedList = v
		case "Signature":
			sig = v
		case "Credential":
			if !strings.HasSuffix(v, "/us-east-1/s3/aws4_request") {
				return "credential scope " + v
			}
		}
	}
	if r.Header.Get("X-Amz-Content-Sha256") != awssig.EmptySHA256 {
		return "x-amz-content-sha256 is not the hash of an empty body"
	}
	h := map[string]string{}
	for _, name := range strings.Split(signedList, ";") {
		if name == "host" {
			h[name] = r.Host
		} else {
			h[name] = r.Header.Get(name)
		}
	}
	if f.token != "" && h["x-amz-security-token"] != f.token {
		return "the session token is not sent and signed"
	}
	tm, err := time.Parse(awssig.DateFormat, r.Header.Get("X-Amz-Date"))
	if err != nil {
		return "x-amz-date " + r.Header.Get("X-Amz-Date")
	}
	s := &awssig.Request{
		Method: r.Method, URI: r.URL.EscapedPath(), Query: r.URL.Query(), Header: h, PayloadHash: awssig.EmptySHA256,
		Time: tm, Region: "us-east-1", Service: "s3", KeyID: f.keyID, Secret: f.secret,
	}
	if s.Signature() != sig {
		creq, _ := s.CanonicalRequest()
		return "signature does not match the request as received; canonical request:\n" + creq
	}
	return ""
}

func (f *fakeS3) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.URL.Path+"?"+r.URL.RawQuery)
	}
	return out
}

var t0 = time.Date(2026, 1, 12, 17, 50, 30, 0, time.UTC)

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func request(srv *httptest.Server, s *jobrunnertest.Waits, params map[string]string) jobrunner.Request {
	if s == nil {
		s = &jobrunnertest.Waits{}
	}
	return jobrunner.Request{
		Fields: map[string]string{
			"bucket": "acme-exports", "region": "us-east-1", "endpoint": srv.URL, "path_style": "true",
			"access_key_id": testKeyID,
		},
		Secrets: map[string]string{"secret_access_key": testSecret},
		Params:  params,
		HTTP:    jobrunner.NewHTTP(srv.Client(), s.Sleep, new(jobrunner.Stats), nil),
	}
}

func fetch(t *testing.T, src jobrunner.Source, req jobrunner.Request) ([]jobrunner.Record, string, error) {
	t.Helper()
	var got []jobrunner.Record
	cp, err := src.Fetch(context.Background(), req, func(r jobrunner.Record) error {
		got = append(got, r)
		return nil
	})
	return got, cp, err
}

func keysOf(recs []jobrunner.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r["key"].(string))
	}
	return out
}

func sample() map[string]fakeObject {
	return map[string]fakeObject{
		"exports/2026/01.csv":       {body: "id,name\n1,a\n", modified: at(0)},
		"exports/2026/02.csv":       {body: "id,name\n2,b\n", modified: at(30)},
		"exports/a b+c&d.txt":       {body: "odd key", modified: at(5)},
		"exports/deep/er/notes.txt": {body: strings.Repeat("n", 70<<10), modified: at(10)},
		"readme.md":                 {body: "# hi\n", modified: at(20)},
	}
}

func TestObjectsListsEveryPageInKeyOrder(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	src := &objects{maxKeys: 2, now: time.Now}
	recs, cp, err := fetch(t, src, request(srv, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"exports/2026/01.csv", "exports/2026/02.csv", "exports/a b+c&d.txt", "exports/deep/er/notes.txt", "readme.md"}
	if got := keysOf(recs); !slices.Equal(got, want) {
		t.Fatalf("keys = %q, want %q", got, want)
	}
	first := recs[0]
	wantFirst := jobrunner.Record{"key": "exports/2026/01.csv", "size": int64(12), "last_modified": "2026-01-12T17:50:30Z",
		"etag": etag("id,name\n1,a\n"), "storage_class": "STANDARD"}
	if fmt.Sprint(first) != fmt.Sprint(wantFirst) {
		t.Errorf("record = %v\nwant     %v", first, wantFirst)
	}
	if cp != "2026-01-12T18:20:30Z" {
		t.Errorf("checkpoint = %q, want the largest LastModified", cp)
	}
	wantReqs := []string{
		"/acme-exports?list-type=2&max-keys=2",
		"/acme-exports?continuation-token=t%3Aexports%2F2026%2F02.csv&list-type=2&max-keys=2",
		"/acme-exports?continuation-token=t%3Aexports%2Fdeep%2Fer%2Fnotes.txt&list-type=2&max-keys=2",
	}
	if got := fake.paths(); !slices.Equal(got, wantReqs) {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantReqs, "\n"))
	}
}

func TestObjectsPrefixParamOverridesTheConnectionsPrefix(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	req := request(srv, nil, nil)
	req.Fields["prefix"] = "exports/"
	recs, _, err := fetch(t, ObjectsSource(), req)
	if err != nil || len(recs) != 4 {
		t.Fatalf("field prefix: %d records, %v", len(recs), err)
	}
	req.Params = map[string]string{"prefix": "exports/2026/"}
	recs, _, err = fetch(t, ObjectsSource(), req)
	if got := keysOf(recs); err != nil || !slices.Equal(got, []string{"exports/2026/01.csv", "exports/2026/02.csv"}) {
		t.Fatalf("param prefix: %q, %v", got, err)
	}
	if p := fake.paths(); !strings.Contains(p[1], "prefix=exports%2F2026%2F") {
		t.Errorf("request %s", p[1])
	}
}

func TestObjectsIncrementalEmitsOnlyNewerObjects(t *testing.T) {
	t.Parallel()
	_, srv := newFakeS3(t, sample())
	req := request(srv, nil, nil)
	req.Since = "2026-01-12T17:55:30Z" // exports/a b+c&d.txt's LastModified: not after it
	recs, cp, err := fetch(t, ObjectsSource(), req)
	if got := keysOf(recs); err != nil || !slices.Equal(got, []string{"exports/2026/02.csv", "exports/deep/er/notes.txt", "readme.md"}) {
		t.Fatalf("keys %q, %v", got, err)
	}
	if cp != "2026-01-12T18:20:30Z" {
		t.Errorf("checkpoint = %q", cp)
	}
	// Nothing newer: nothing emitted, the checkpoint stays.
	req.Since = cp
	recs, cp2, err := fetch(t, ObjectsSource(), req)
	if err != nil || len(recs) != 0 || cp2 != cp {
		t.Fatalf("second run: %d records, checkpoint %q, %v", len(recs), cp2, err)
	}
	req.Since = "yesterday"
	_, _, err = fetch(t, ObjectsSource(), req)
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig {
		t.Errorf("bad checkpoint: %#v", err)
	}
}

// Sub-second LastModified values survive into the checkpoint, so the next
// run does not emit the same object again.
func TestObjectsCheckpointKeepsMilliseconds(t *testing.T) {
	t.Parallel()
	_, srv := newFakeS3(t, map[string]fakeObject{"k": {body: "x", modified: t0.Add(250 * time.Millisecond)}})
	req := request(srv, nil, nil)
	recs, cp, err := fetch(t, ObjectsSource(), req)
	if err != nil || len(recs) != 1 || cp != "2026-01-12T17:50:30.25Z" || recs[0]["last_modified"] != cp {
		t.Fatalf("%v, checkpoint %q, %v", recs, cp, err)
	}
	req.Since = cp
	if recs, _, err := fetch(t, ObjectsSource(), req); err != nil || len(recs) != 0 {
		t.Fatalf("again: %v, %v", recs, err)
	}
}

// An object written during the listing, under a key already passed, has a
// LastModified after the listing began; the checkpoint stays before that
// instant (the server's Date, less a second) so the next run finds it.
func TestObjectsCheckpointStaysBeforeTheListingBegan(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, map[string]fakeObject{
		"a": {body: "1", modified: at(0)},
		"b": {body: "2", modified: at(10)},
	})
	fake.date = at(5)
	_, cp, err := fetch(t, ObjectsSource(), request(srv, nil, nil))
	if err != nil || cp != "2026-01-12T17:55:29Z" {
		t.Fatalf("checkpoint %q, %v; want the Date less a second", cp, err)
	}
	// Never backwards: with a checkpoint already past the cap, it stays.
	req := request(srv, nil, nil)
	req.Since = "2026-01-12T17:58:00Z"
	_, cp, err = fetch(t, ObjectsSource(), req)
	if err != nil || cp != req.Since {
		t.Fatalf("checkpoint %q, %v; want %q", cp, err, req.Since)
	}
}

func TestObjectsDownloadsIntoDownloadDir(t *testing.T) {
	t.Parallel()
	objs := sample()
	objs["exports/empty-folder/"] = fakeObject{modified: at(1)} // a console "folder"
	_, srv := newFakeS3(t, objs)
	dir := filepath.Join(t.TempDir(), "out")
	recs, _, err := fetch(t, ObjectsSource(), request(srv, nil, map[string]string{"download_dir": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs {
		key := r["key"].(string)
		if strings.HasSuffix(key, "/") {
			if r["path"] != nil {
				t.Errorf("%s: path %v, want null", key, r["path"])
			}
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(key))); err == nil {
				t.Errorf("%s: a folder marker was written", key)
			}
			continue
		}
		want := filepath.Join(dir, filepath.FromSlash(key))
		if r["path"] != want {
			t.Errorf("%s: path %v, want %s", key, r["path"], want)
			continue
		}
		b, err := os.ReadFile(want)
		if err != nil || string(b) != objs[key].body {
			t.Errorf("%s: file holds %d bytes (%v), want %d", key, len(b), err, len(objs[key].body))
		}
		fi, err := os.Stat(want)
		if err != nil || fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(objs[key].modified) {
			t.Errorf("%s: %v %v", key, fi.Mode(), fi.ModTime())
		}
	}
	for _, d := range []string{dir, filepath.Join(dir, "exports"), filepath.Join(dir, "exports", "deep", "er")} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("folder %s: %v %v", d, fi, err)
		}
	}
	// No temporary files are left.
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, _ error) error {
		if strings.HasSuffix(p, ".tmp") {
			t.Errorf("left over: %s", p)
		}
		return nil
	})
}

func TestObjectsRefusesKeysThatLeaveDownloadDir(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"../escape.txt", "a/../../escape.txt", "/etc/escape.txt", "a/..", `..\escape.txt`} {
		_, srv := newFakeS3(t, map[string]fakeObject{key: {body: "x", modified: at(0)}})
		base := t.TempDir()
		dir := filepath.Join(base, "out")
		_, _, err := fetch(t, ObjectsSource(), request(srv, nil, map[string]string{"download_dir": dir}))
		var f *jobrunner.Failure
		if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError || !strings.Contains(f.Message, "..") {
			t.Errorf("key %q: err = %#v", key, err)
		}
		if es, _ := os.ReadDir(base); len(es) != 1 {
			t.Errorf("key %q: %v beside download_dir", key, es)
		}
		// Without download_dir it is only listed.
		if recs, _, err := fetch(t, ObjectsSource(), request(srv, nil, nil)); err != nil || len(recs) != 1 {
			t.Errorf("key %q listed: %v %v", key, recs, err)
		}
	}
}

func TestObjectsSkipsAnObjectDeletedBeforeItsGet(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	fake.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if strings.HasSuffix(r.URL.Path, "/readme.md") {
			writeS3Error(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
			return true
		}
		return false
	}
	recs, cp, err := fetch(t, ObjectsSource(), request(srv, nil, map[string]string{"download_dir": t.TempDir()}))
	if err != nil || len(recs) != 4 || slices.Contains(keysOf(recs), "readme.md") {
		t.Fatalf("%q, %v", keysOf(recs), err)
	}
	if cp != "2026-01-12T18:20:30Z" {
		t.Errorf("checkpoint = %q", cp)
	}
}

func TestObjectsRetriesSlowDown(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	fake.fail = func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n <= 2 {
			writeS3Error(w, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.")
			return true
		}
		return false
	}
	var s jobrunnertest.Waits
	req := request(srv, &s, nil)
	recs, _, err := fetch(t, ObjectsSource(), req)
	if err != nil || len(recs) != 5 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if len(s.Durations()) != 2 || req.HTTP.Stats().Retries.Load() != 2 {
		t.Errorf("waits %v, retries %d", s.Durations(), req.HTTP.Stats().Retries.Load())
	}
}

func TestObjectsClassifiesS3Errors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		code     string
		reason   string
		requests int
		text     string
	}{
		{503, "SlowDown", jobrunner.ReasonRateLimit, 5, "(SlowDown)"},
		{404, "NoSuchBucket", jobrunner.ReasonConfig, 1, "bucket acme-exports does not exist at 127.0.0.1"},
		{403, "AccessDenied", jobrunner.ReasonAuth, 1, "allow s3:ListBucket on bucket acme-exports for access key ID " + testKeyID},
		{403, "InvalidAccessKeyId", jobrunner.ReasonAuth, 1, "check access_key_id"},
		{403, "SignatureDoesNotMatch", jobrunner.ReasonAuth, 1, "check that secret_access_key belongs to access key ID " + testKeyID},
		{400, "ExpiredToken", jobrunner.ReasonAuth, 1, "session_token"},
		{403, "RequestTimeTooSkewed", jobrunner.ReasonConfig, 1, "clock"},
		{400, "AuthorizationHeaderMalformed", jobrunner.ReasonConfig, 1, "not in region us-east-1"},
		{500, "InternalError", jobrunner.ReasonSourceError, 5, "500 internal server error (retries exhausted) (InternalError)"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			fake, srv := newFakeS3(t, sample())
			fake.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
				writeS3Error(w, tc.status, tc.code, "message with "+testSecret)
				return true
			}
			_, _, err := fetch(t, ObjectsSource(), request(srv, nil, nil))
			var f *jobrunner.Failure
			if !errors.As(err, &f) || f.Reason != tc.reason {
				t.Fatalf("err = %#v, want reason %s", err, tc.reason)
			}
			if !strings.Contains(f.Message, tc.text) || !strings.Contains(f.Message, "("+tc.code+")") {
				t.Errorf("message %q, want %q", f.Message, tc.text)
			}
			if strings.Contains(f.Message, testSecret) || strings.Contains(f.Message, "\n") {
				t.Errorf("message leaks or spans lines: %q", f.Message)
			}
			if got := len(fake.paths()); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
}

// A bucket on the real S3 in another region: the answer names it.
func TestObjectsWrongRegionSaysWhichRegion(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	fake.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		w.Header().Set("X-Amz-Bucket-Region", "eu-west-1")
		writeS3Error(w, http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint.")
		return true
	}
	_, _, err := fetch(t, ObjectsSource(), request(srv, nil, nil))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonConfig || !strings.Contains(f.Message, "set region=eu-west-1") {
		t.Fatalf("err = %#v", err)
	}
}

func TestObjectsGetObjectErrorsFailTheRun(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	fake.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if strings.HasSuffix(r.URL.Path, "/02.csv") {
			writeS3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
			return true
		}
		return false
	}
	dir := t.TempDir()
	recs, _, err := fetch(t, ObjectsSource(), request(srv, nil, map[string]string{"download_dir": dir}))
	var f *jobrunner.Failure
	if !errors.As(err, &f) || f.Reason != jobrunner.ReasonAuth || !strings.Contains(f.Message, "s3:GetObject") {
		t.Fatalf("err = %#v", err)
	}
	if len(recs) != 1 {
		t.Errorf("%d records before the failure", len(recs))
	}
	if es, _ := os.ReadDir(filepath.Join(dir, "exports", "2026")); len(es) != 1 || es[0].Name() != "01.csv" {
		t.Errorf("files %v: want 01.csv only, no temporary file", es)
	}
}

func TestObjectsMalformedAndEndlessListings(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"html":     "<html><body>Sign in</body></html>",
		"no token": `<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key><LastModified>2026-01-12T17:50:30.000Z</LastModified></Contents></ListBucketResult>`,
		"bad time": `<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><LastModified>soon</LastModified></Contents></ListBucketResult>`,
	} {
		fake, srv := newFakeS3(t, nil)
		fake.fail = func(w http.ResponseWriter, _ *http.Request, _ int) bool {
			_, _ = io.WriteString(w, body)
			return true
		}
		_, _, err := fetch(t, ObjectsSource(), request(srv, nil, nil))
		var f *jobrunner.Failure
		if !errors.As(err, &f) || f.Reason != jobrunner.ReasonSourceError {
			t.Errorf("%s: err = %#v", name, err)
		}
	}
}

func TestObjectsSendsAndSignsTheSessionToken(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeS3(t, sample())
	fake.token = "FwoGZXIvYXdzEJr//////////wEaDHsessiontoken"
	req := request(srv, nil, map[string]string{"download_dir": t.TempDir()})
	req.Secrets["session_token"] = fake.token
	if _, _, err := fetch(t, ObjectsSource(), req); err != nil {
		t.Fatal(err)
	}
}

func TestObjectsMissingSettings(t *testing.T) {
	t.Parallel()
	_, srv := newFakeS3(t, nil)
	for field, reason := range map[string]string{"bucket": jobrunner.ReasonConfig, "access_key_id": jobrunner.ReasonAuth, "secret_access_key": jobrunner.ReasonAuth} {
		req := request(srv, nil, nil)
		delete(req.Fields, field)
		delete(req.Secrets, field)
		_, _, err := fetch(t, ObjectsSource(), req)
		var f *jobrunner.Failure
		if !errors.As(err, &f) || f.Reason != reason || !strings.Contains(f.Message, field) {
			t.Errorf("without %s: %#v", field, err)
		}
	}
	req := request(srv, nil, nil)
	req.Fields["endpoint"] = "minio.example.com"
	if _, _, err := fetch(t, ObjectsSource(), req); err == nil || !strings.Contains(err.Error(), "endpoint") {
		t.Errorf("bad endpoint: %v", err)
	}
}

func TestBucketURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		bucket, region, endpoint, baseURL, pathStyle string
		want                                         string
	}{
		{"acme", "eu-west-1", "", "", "false", "https://acme.s3.eu-west-1.amazonaws.com"},
		{"acme", "eu-west-1", "", "", "true", "https://s3.eu-west-1.amazonaws.com/acme"},
		{"acme.exports", "us-east-1", "", "", "false", "https://s3.us-east-1.amazonaws.com/acme.exports"},
		{"acme", "us-east-1", "http://127.0.0.1:9000/", "", "false", "http://127.0.0.1:9000/acme"},
		{"acme", "us-east-1", "https://minio.example.com/s3", "", "true", "https://minio.example.com/s3/acme"},
		{"acme", "us-east-1", "https://minio.example.com", "http://127.0.0.1:1", "true", "http://127.0.0.1:1/acme"},
	} {
		u, _, err := bucketURL(tc.bucket, tc.region, tc.endpoint, tc.baseURL, tc.pathStyle)
		if err != nil || u.String() != tc.want {
			t.Errorf("bucketURL(%q, %q, %q, %q, %q) = %v, %v; want %s", tc.bucket, tc.region, tc.endpoint, tc.baseURL, tc.pathStyle, u, err, tc.want)
		}
	}
}

// The whole run: records into a file destination, the checkpoint back.
func TestObjectsThroughRun(t *testing.T) {
	t.Parallel()
	_, srv := newFakeS3(t, sample())
	out := filepath.Join(t.TempDir(), "objects.ndjson")
	dst, err := jobrunner.NewFileDestination(out, jobrunner.FormatNDJSON, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := request(srv, nil, map[string]string{"download_dir": t.TempDir()})
	cp, err := jobrunner.Run(context.Background(), ObjectsSource(), req, dst, nil)
	if err != nil || cp != "2026-01-12T18:20:30Z" {
		t.Fatalf("Run = %q, %v", cp, err)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], `{"etag":"`) || !strings.Contains(lines[0], `"key":"exports/2026/01.csv","last_modified":"2026-01-12T17:50:30Z","path":"`) {
		t.Errorf("output:\n%s", b)
	}
	st := req.HTTP.Stats()
	if st.Records.Load() != 5 || st.Pages.Load() != 6 || st.Bytes.Load() < 70<<10 {
		t.Errorf("stats records %d pages %d bytes %d", st.Records.Load(), st.Pages.Load(), st.Bytes.Load())
	}
}
