package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/connctl/connctl/internal/jobrunner"
)

// maxKeys is the most keys ListObjectsV2 returns per page (its default and
// its maximum).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
const maxKeys = 1000

// ObjectsSource returns the `objects` source: one record per object under
// the prefix, in key order, with key, size, last_modified (RFC 3339, UTC),
// etag (without its quotes) and storage_class.
//
// It lists the bucket with ListObjectsV2 (GET {bucket}?list-type=2&
// max-keys=1000&prefix=P), SigV4-signed, passing NextContinuationToken as
// continuation-token while IsTruncated is true. The prefix is the job's
// prefix parameter, else the connection's prefix field.
//
// Incremental: S3 cannot list by modification time, so the filter is on the
// client: a run with a checkpoint emits only objects whose LastModified is
// after it. The checkpoint is the largest LastModified emitted, but never
// later than the server's clock (its Date header) at the first listing,
// less a second: an object written while the listing runs, under a key the
// listing has already passed, has a LastModified after that, so the next run
// still finds it. Objects modified after that instant may come again next
// run: delivery is at least once, keyed by key.
//
// With the job parameter download_dir, each emitted object is also fetched
// with GetObject, streamed into download_dir/<key> (folders 0700, files
// 0600, written to a temporary file, synced, then renamed; the file's
// modification time is set to LastModified), and the record gets "path", the
// file's absolute path (null for a "folder/" marker object, which is not
// fetched). A key that is absolute or has a ".." element is refused
// (source_error); all file operations go through an os.Root at
// download_dir, so nothing is written outside it. An object deleted between
// listing and fetching is skipped. Files already fetched stay when a later
// one fails; the checkpoint does not move, so the next run fetches them again.
//
// S3's 503 SlowDown is retried like 429; error answers are classified by
// S3's error code: NoSuchBucket and wrong-region or clock-skew answers are
// config, AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch and
// expired or invalid session tokens are auth.
func ObjectsSource() jobrunner.Source {
	return &objects{maxKeys: maxKeys, now: time.Now}
}

type objects struct {
	maxKeys int              // keys per ListObjectsV2 page; tests lower it
	now     func() time.Time // the signing time
}

func (s *objects) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (string, error) {
	c, err := newClient(req, s.now)
	if err != nil {
		return "", err
	}
	prefix := req.Params["prefix"]
	if prefix == "" {
		prefix = req.Fields["prefix"]
	}
	var since time.Time
	if req.Since != "" {
		if since, err = time.Parse(time.RFC3339Nano, req.Since); err != nil {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: fmt.Sprintf("s3: checkpoint %q is not an RFC 3339 time", req.Since)}
		}
	}
	var dl *downloads
	if dir := req.Params["download_dir"]; dir != "" {
		if dl, err = openDownloads(dir); err != nil {
			return "", err
		}
		defer dl.close()
	}

	var latest, serverStart time.Time
	token := ""
	for {
		page, header, err := c.list(ctx, prefix, token, s.maxKeys)
		if err != nil {
			return "", err
		}
		if serverStart.IsZero() {
			if d, err := http.ParseTime(header.Get("Date")); err == nil {
				serverStart = d.UTC()
			}
		}
		for _, o := range page.Contents {
			lm, err := time.Parse(time.RFC3339Nano, o.LastModified)
			if err != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("s3: object %q: LastModified %q is not an ISO 8601 time", o.Key, o.LastModified)}
			}
			lm = lm.UTC()
			if !since.IsZero() && !lm.After(since) {
				continue
			}
			rec := jobrunner.Record{
				"key":           o.Key,
				"size":          o.Size,
				"last_modified": lm.Format(time.RFC3339Nano),
				"etag":          strings.Trim(o.ETag, `"`),
				"storage_class": o.StorageClass,
			}
			if dl != nil {
				rec["path"] = nil
				if !strings.HasSuffix(o.Key, "/") {
					path, err := dl.fetch(ctx, c, o.Key, lm)
					if errors.Is(err, errGone) {
						continue
					}
					if err != nil {
						return "", err
					}
					rec["path"] = path
				}
			}
			if err := emit(rec); err != nil {
				return "", err
			}
			if lm.After(latest) {
				latest = lm
			}
		}
		if !page.IsTruncated {
			break
		}
		if page.NextContinuationToken == "" || page.NextContinuationToken == token {
			return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("s3: %s answered a truncated listing without a new NextContinuationToken", c.bucketURL.Host)}
		}
		token = page.NextContinuationToken
	}
	if dl != nil {
		dl.syncDirs()
	}
	if latest.IsZero() {
		return req.Since, nil
	}
	if limit := serverStart.Add(-time.Second); !serverStart.IsZero() && latest.After(limit) {
		latest = limit
	}
	if !latest.After(since) {
		return req.Since, nil
	}
	return latest.Format(time.RFC3339Nano), nil
}

// client is one run's access to the bucket.
type client struct {
	http      *jobrunner.HTTP
	creds     aws.Credentials
	region    string
	bucket    string
	bucketURL *url.URL // path style {endpoint}/{bucket}, or virtual-hosted https://{bucket}.s3.{region}.amazonaws.com
	custom    bool     // endpoint or base_url: not AWS's own S3
	now       func() time.Time

	op   string // "list" or "get": what the request being sent does, for messages
	code string // S3 error code of the last error answer
}

func newClient(req jobrunner.Request, now func() time.Time) (*client, error) {
	bucket := req.Fields["bucket"]
	if bucket == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "s3: bucket is not set"}
	}
	keyID := req.Fields["access_key_id"]
	if keyID == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "s3: access_key_id is not set"}
	}
	secret := req.Secrets["secret_access_key"]
	if secret == "" {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "s3: secret_access_key is not set"}
	}
	region := req.Fields["region"]
	if region == "" {
		region = "us-east-1"
	}
	u, custom, err := bucketURL(bucket, region, req.Fields["endpoint"], req.Fields["base_url"], req.Fields["path_style"])
	if err != nil {
		return nil, err
	}
	c := &client{
		creds:  aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret, SessionToken: req.Secrets["session_token"]},
		region: region, bucket: bucket, bucketURL: u, custom: custom, now: now,
	}
	c.http = req.HTTP.WithThrottle(slowDown).WithExplain(c.explain)
	return c, nil
}

// bucketURL is BucketURL with its error as the run's config failure.
func bucketURL(bucket, region, endpoint, baseURL, pathStyle string) (*url.URL, bool, error) {
	u, custom, err := BucketURL(bucket, region, endpoint, baseURL, pathStyle)
	if err != nil {
		return nil, custom, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "s3: " + err.Error()}
	}
	return u, custom, nil
}

// listResult is a ListObjectsV2 answer, as far as the source reads it.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html
type listResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	IsTruncated           bool     `xml:"IsTruncated"`
	NextContinuationToken string   `xml:"NextContinuationToken"`
	Contents              []object `xml:"Contents"`
}

type object struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

// list fetches one ListObjectsV2 page.
func (c *client) list(ctx context.Context, prefix, token string, max int) (*listResult, http.Header, error) {
	q := url.Values{"list-type": {"2"}, "max-keys": {strconv.Itoa(max)}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if token != "" {
		q.Set("continuation-token", token)
	}
	u := *c.bucketURL
	u.RawQuery = q.Encode()
	r, err := c.request(ctx, "list", &u)
	if err != nil {
		return nil, nil, err
	}
	_, header, body, err := c.http.Do(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	var page listResult
	if err := xml.Unmarshal(body, &page); err != nil {
		return nil, nil, &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf(
			"s3: GET %s%s answered something that is not a ListObjectsV2 result: check endpoint", r.URL.Host, r.URL.EscapedPath())}
	}
	return &page, header, nil
}

// get streams an object into w. An object that no longer exists is errGone.
func (c *client) get(ctx context.Context, key string, w *os.File) error {
	u := *c.bucketURL
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + key
	r, err := c.request(ctx, "get", &u)
	if err != nil {
		return err
	}
	if _, err := c.http.Download(ctx, r, w); err != nil {
		if c.code == "NoSuchKey" {
			return errGone
		}
		return err
	}
	return nil
}

// request builds a GET signed with SigV4 (sign.go).
func (c *client) request(ctx context.Context, op string, u *url.URL) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "s3: bad URL: " + err.Error()}
	}
	// Keep the decoded path: the key may hold characters that u.String()
	// encoded differently from S3's canonical form, which sign applies.
	r.URL.Path, r.URL.RawPath = u.Path, ""
	if err := sign(r, c.creds, c.region, c.now()); err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "s3: cannot sign the request: check access_key_id and secret_access_key"}
	}
	r.Header.Set("Accept", "application/xml") // after signing: only host and x-amz-* are signed
	c.op, c.code = op, ""
	return r, nil
}

// errGone is get's error for an object deleted since it was listed.
var errGone = errors.New("object no longer exists")

// s3Error is S3's XML error body.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
type s3Error struct {
	XMLName xml.Name `xml:"Error"`
	Code    string   `xml:"Code"`
	Region  string   `xml:"Region"`
}

// slowDown is S3's throttle signal: 503 with the error code SlowDown (S3
// does not use 429).
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
func slowDown(status int, body []byte, _ http.Header) (bool, time.Duration) {
	if status != http.StatusServiceUnavailable {
		return false, 0
	}
	var e s3Error
	return xml.Unmarshal(body, &e) == nil && e.Code == "SlowDown", 0
}

// codeShape is what an S3 error code looks like; anything else in <Code> is
// not repeated in a message.
var codeShape = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9.]{1,64}$`) })

// explain classifies an error answer by S3's error code and says what to
// fix. It records the code for get. Messages name the bucket, the key ID and
// the host, never the secret or anything else from the body.
func (c *client) explain(_ int, body []byte, h http.Header, f *jobrunner.Failure) *jobrunner.Failure {
	var e s3Error
	_ = xml.Unmarshal(body, &e)
	if !codeShape().MatchString(e.Code) {
		c.code = ""
		return nil
	}
	c.code = e.Code
	mk := func(reason, fix string) *jobrunner.Failure {
		msg := f.Message + " (" + e.Code + ")"
		if fix != "" {
			msg += ": " + fix
		}
		return &jobrunner.Failure{Reason: reason, Message: msg}
	}
	need := "s3:ListBucket on bucket " + c.bucket
	if c.op == "get" {
		need = "s3:GetObject on the objects of bucket " + c.bucket
	}
	switch e.Code {
	case "NoSuchBucket":
		where := "in region " + c.region
		if c.custom {
			where = "at " + c.bucketURL.Host
		}
		return mk(jobrunner.ReasonConfig, fmt.Sprintf("bucket %s does not exist %s; check bucket, region and endpoint", c.bucket, where))
	case "InvalidBucketName":
		return mk(jobrunner.ReasonConfig, "check bucket")
	case "AccessDenied", "AllAccessDisabled":
		return mk(jobrunner.ReasonAuth, fmt.Sprintf("allow %s for access key ID %s", need, c.creds.AccessKeyID))
	case "InvalidAccessKeyId":
		return mk(jobrunner.ReasonAuth, fmt.Sprintf("the server does not know access key ID %s; check access_key_id (and endpoint)", c.creds.AccessKeyID))
	case "SignatureDoesNotMatch":
		return mk(jobrunner.ReasonAuth, fmt.Sprintf("check that secret_access_key belongs to access key ID %s", c.creds.AccessKeyID))
	case "ExpiredToken", "TokenRefreshRequired", "InvalidToken":
		return mk(jobrunner.ReasonAuth, "the temporary credentials have expired or are invalid; give access_key_id, secret_access_key and session_token again")
	case "RequestTimeTooSkewed":
		return mk(jobrunner.ReasonConfig, "this computer's clock is too far from the server's; set it right")
	case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "IncorrectEndpoint":
		actual := h.Get("X-Amz-Bucket-Region")
		if actual == "" {
			actual = e.Region
		}
		if region().MatchString(actual) && actual != c.region {
			return mk(jobrunner.ReasonConfig, fmt.Sprintf("bucket %s is in region %s, not %s; set region=%s", c.bucket, actual, c.region, actual))
		}
		return mk(jobrunner.ReasonConfig, fmt.Sprintf("bucket %s is not in region %s; set region to the bucket's region", c.bucket, c.region))
	}
	return mk(f.Reason, "")
}

// downloads writes fetched objects under one folder.
type downloads struct {
	dir  string   // absolute
	root *os.Root // every file operation goes through it: nothing escapes dir
	dirs map[string]bool
}

func openDownloads(dir string) (*downloads, error) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o700)
	}
	var root *os.Root
	if err == nil {
		root, err = os.OpenRoot(abs)
	}
	if err != nil {
		return nil, &jobrunner.Failure{Reason: jobrunner.ReasonDestination, Message: "s3: download_dir: " + oneLine(err.Error())}
	}
	return &downloads{dir: abs, root: root, dirs: map[string]bool{}}, nil
}

func (d *downloads) close() { d.root.Close() }

// localPath turns a key into a path below the download folder, refusing
// keys that would leave it.
func localPath(key string) (string, error) {
	bad := strings.HasPrefix(key, "/") || strings.HasPrefix(key, `\`)
	for _, el := range strings.FieldsFunc(key, func(r rune) bool { return r == '/' || r == '\\' }) {
		if el == ".." {
			bad = true
		}
	}
	rel := filepath.FromSlash(key)
	if bad || !filepath.IsLocal(rel) {
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: fmt.Sprintf("s3: object key %q is an absolute path or has a \"..\" element: not downloading it", key)}
	}
	return rel, nil
}

// fetch downloads key into its file and returns the file's path.
func (d *downloads) fetch(ctx context.Context, c *client, key string, modified time.Time) (string, error) {
	rel, err := localPath(key)
	if err != nil {
		return "", err
	}
	fail := func(err error) error {
		return &jobrunner.Failure{Reason: jobrunner.ReasonDestination, Message: fmt.Sprintf("s3: save %s: %s", key, oneLine(err.Error()))}
	}
	dir := filepath.Dir(rel)
	if dir != "." {
		if err := d.root.MkdirAll(dir, 0o700); err != nil {
			return "", fail(err)
		}
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := filepath.Join(dir, "."+filepath.Base(rel)+".connctl-"+hex.EncodeToString(suffix[:])+".tmp")
	f, err := d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fail(err)
	}
	err = c.get(ctx, key, f)
	if err == nil {
		if err = f.Sync(); err != nil {
			err = fail(err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fail(cerr)
	}
	if err == nil {
		if cerr := d.root.Chtimes(tmp, modified, modified); cerr != nil {
			err = fail(cerr)
		}
	}
	if err == nil {
		if rerr := d.root.Rename(tmp, rel); rerr != nil {
			err = fail(rerr)
		}
	}
	if err != nil {
		_ = d.root.Remove(tmp)
		return "", err
	}
	d.dirs[dir] = true
	return filepath.Join(d.dir, rel), nil
}

// syncDirs makes the renames durable before the run commits: the
// checkpoint moves only after the files are on disk. It is best effort
// where a folder cannot be opened for syncing (Windows).
func (d *downloads) syncDirs() {
	for dir := range d.dirs {
		if f, err := d.root.Open(dir); err == nil {
			_ = f.Sync()
			f.Close()
		}
	}
}

// oneLine collapses white space so a message fits on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
