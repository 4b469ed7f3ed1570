package connectortest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/testpeer/rclone"
)

// Amazon S3, served for real: `rclone serve s3` (internal/testpeer/rclone)
// serves a folder whose files are the bucket's objects (LastModified is the
// file's modification time) and checks every request's SigV4 signature, so a
// wrong secret key is refused by rclone itself with 403
// SignatureDoesNotMatch. In front of it sits a small reverse proxy that keeps
// the client's Host header (it is signed) and injects S3's documented
// errors (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
//   - Throttle: 503 <Error><Code>SlowDown</Code>... with Retry-After: 1;
//   - Fail: 500 <Error><Code>InternalError</Code>...
//
// Data requests are the source's ListObjectsV2 (GET /{bucket}?list-type=2
// &max-keys=1000; https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html)
// and GetObject (GET /{bucket}/{key};
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html).
// `connctl test` sends the same ListObjectsV2 with max-keys=1 (keycheck):
// the proxy tells it apart by that max-keys=1 and never counts or faults it.
// The proxy injects a fault only into a request rclone has accepted (after
// rclone's signature check): it replaces rclone's 2xx answer.
//
// The source lists up to 1000 keys a page, so a small bucket is one page;
// the case runs it with download_dir, which adds one GetObject per object:
// a full run of 24 objects is 25 data requests.
//
// S3 cannot list by modification time: connctl filters the listing on
// LastModified itself and, with download_dir, fetches only the newer
// objects. That is what the proxy sees of the incremental filter: when a
// run's GetObjects pass over objects the listing returned (in key order), it
// calls SawSince with the newest skipped LastModified (a lower bound of the
// run's checkpoint). A run that fetches every object never calls it.
func init() {
	register(Case{Connector: "s3", Source: "objects", Params: []string{"download_dir=downloads"}, Account: s3Bucket, Start: startS3,
		Suite: map[string]SuiteOptions{"objects": {FaultAt: 1, Skip: map[Check]string{
			ForeignLink:   "ListObjectsV2 pages by continuation token, no links",
			MissingCursor: "the listing is XML (LastModified), which the suite's cursor walker does not read; s3 TestObjectsClassifiesS3Errors and the listing tests cover it",
			Forward:       "the checkpoint is the listing's start time, not a record's: s3 TestObjectsCheckpointStaysBeforeTheListingBegan",
		}}}})
}

const (
	s3Bucket  = "acme-exports"
	s3Objects = 24
)

func startS3(tb testing.TB) (*Fake, error) {
	if _, err := rclone.Binary(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMissingPeer, err)
	}
	served := tb.TempDir()
	bucketDir := filepath.Join(served, s3Bucket)
	d := NewDataset(s3Objects, func(i int) string {
		month := "09"
		if i >= s3Objects/2 {
			month = "10"
		}
		return fmt.Sprintf("exports/2026-%s/part-%04d.csv", month, i)
	})
	var revMu sync.Mutex
	revision := map[string]int{}
	// write writes the object's file and sets its modification time, which
	// rclone reports as LastModified.
	write := func(rec Record) error {
		revMu.Lock()
		revision[rec.ID]++
		rev := revision[rec.ID]
		revMu.Unlock()
		p := filepath.Join(bucketDir, filepath.FromSlash(rec.ID))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		body := fmt.Sprintf("id,part,revision\n%d,%s,%d\n", rec.Seq, rec.ID, rev)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
		return os.Chtimes(p, rec.Modified, rec.Modified)
	}
	for _, rec := range d.All() {
		if err := write(rec); err != nil {
			return nil, err
		}
	}
	d.OnTouch = func(recs []Record) {
		for _, rec := range recs {
			if err := write(rec); err != nil {
				tb.Errorf("s3 fake: rewrite %s: %v", rec.ID, err)
			}
		}
	}

	srv := rclone.Start(tb, served)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		return nil, err
	}
	p := &s3Proxy{data: d, order: map[string]int{}, last: -1}
	var keys []string
	for _, rec := range d.All() {
		keys = append(keys, rec.ID)
	}
	sort.Strings(keys)
	for i, k := range keys {
		p.order[k] = i
	}
	p.keys = keys
	proxy := Serve(tb, &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // signed by the client: rclone checks the signature against it
		},
		ModifyResponse: p.modify,
	})
	return &Fake{
		URL: proxy.URL,
		Set: []string{"bucket=" + s3Bucket, "endpoint=" + proxy.URL, "path_style=true", "access_key_id=" + srv.AccessKey},
		// rclone picks its own random secret key; the bad one, of the same
		// length, carries the canary.
		Secret:    srv.SecretKey,
		BadSecret: "bad0" + Canary + strings.Repeat("f", 30),
		Data:      d,
	}, nil
}

// s3Proxy counts the data requests that reach rclone and answers faults.
type s3Proxy struct {
	data  *Dataset
	keys  []string       // object keys in S3's listing order (UTF-8 binary)
	order map[string]int // key -> position in keys

	mu   sync.Mutex
	last int // position of the last object this run fetched; -1 after a run's first listing
}

// kind says what a request to rclone is: "list" or "get" for the source's
// data requests, "" for anything else (the key check's max-keys=1 listing).
func (p *s3Proxy) kind(r *http.Request) (kind, key string) {
	if r.Method != http.MethodGet {
		return "", ""
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/"+s3Bucket)
	if !ok {
		return "", ""
	}
	q := r.URL.Query()
	switch {
	case (rest == "" || rest == "/") && q.Get("list-type") == "2":
		if q.Get("max-keys") == "1" {
			return "", ""
		}
		return "list", ""
	case strings.HasPrefix(rest, "/") && len(rest) > 1:
		return "get", rest[1:]
	}
	return "", ""
}

func (p *s3Proxy) modify(resp *http.Response) error {
	kind, key := p.kind(resp.Request)
	if kind == "" || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil // not a data request, or rclone refused it (signature...)
	}
	resource := resp.Request.URL.Path
	switch p.data.Fault() {
	case Throttle:
		s3Fault(resp, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", resource)
		resp.Header.Set("Retry-After", "1")
		return nil
	case Fail:
		s3Fault(resp, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.", resource)
		return nil
	}
	if kind == "list" {
		if resp.Request.URL.Query().Get("continuation-token") == "" {
			p.mu.Lock()
			p.last = -1 // a run begins
			p.mu.Unlock()
		}
		return nil
	}
	p.fetched(key)
	return nil
}

// fetched notes a GetObject; objects the run passed over since its last one
// show it filtered the listing on LastModified.
func (p *s3Proxy) fetched(key string) {
	pos, ok := p.order[key]
	if !ok {
		return
	}
	p.mu.Lock()
	from := p.last + 1
	p.last = pos
	p.mu.Unlock()
	if pos <= from {
		return // the next object, or the same again (a retry)
	}
	skipped := map[string]bool{}
	for _, k := range p.keys[from:pos] {
		skipped[k] = true
	}
	var since time.Time
	for _, rec := range p.data.All() {
		if skipped[rec.ID] && rec.Modified.After(since) {
			since = rec.Modified
		}
	}
	p.data.SawSince(since)
}

// s3Fault replaces rclone's answer with an S3 error answer.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
func s3Fault(resp *http.Response, status int, code, msg, resource string) {
	_ = resp.Body.Close()
	var b bytes.Buffer
	b.WriteString(xml.Header)
	_ = xml.NewEncoder(&b).Encode(struct {
		XMLName   xml.Name `xml:"Error"`
		Code      string   `xml:"Code"`
		Message   string   `xml:"Message"`
		Resource  string   `xml:"Resource"`
		RequestID string   `xml:"RequestId"`
	}{Code: code, Message: msg, Resource: resource, RequestID: "4442587FB7D0A2F9"})
	resp.StatusCode, resp.Status = status, fmt.Sprintf("%d %s", status, http.StatusText(status))
	resp.Header = http.Header{
		"Content-Type":     {"application/xml"},
		"Content-Length":   {strconv.Itoa(b.Len())},
		"X-Amz-Request-Id": {"4442587FB7D0A2F9"},
		"Date":             {time.Now().UTC().Format(http.TimeFormat)},
	}
	resp.ContentLength = int64(b.Len())
	resp.TransferEncoding = nil
	resp.Trailer = nil
	resp.Body = io.NopCloser(&b)
}
