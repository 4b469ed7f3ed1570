package connectortest

// The source suite: every out-of-the-box source of every connector, driven
// straight through its jobrunner.Source (no command line) against its
// vendor fake, as restic's backend/test suite drives every backend.
//
// A source gets every check by being some Case's Source or Also. Where a
// vendor cannot express a fault, the Case says so in Suite[source].Skip,
// with the reason; a check that finds nothing to test (no link to redirect,
// no cursor field in any answer) fails and asks for such a Skip, so no gap
// is silent.
//
// The faults come from two places: the fake itself (a bad secret, an
// access token that expires mid-run) and a tapping http.RoundTripper
// between the source's client and the fake, which answers or rewrites the
// n-th data request (a synthetic 429/503 with Retry-After, a cut-off body,
// a redirect or a link to another origin, a record without its cursor
// field, older records after newer ones). A data request is any request
// but a POST whose path holds "token" (a token endpoint: a service
// account's JWT exchange).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connection"
	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
	"github.com/connctl/connctl/internal/safehttp"
)

// Check is one check of the source suite.
type Check string

// The checks, in the order they run.
const (
	// Paging: a full run writes every record, in several pages, none twice.
	Paging Check = "paging"
	// Unauthorized: OAuth: an access token that expires mid-run is
	// refreshed exactly once and the request sent again; a refreshed token
	// that is refused too is an auth failure, not a second refresh.
	// Key-based: a refused key is an auth failure, not retried.
	Unauthorized Check = "unauthorized"
	// RetryAfter: a 429 and a 503 with Retry-After are waited out (through
	// the recorded sleep) and the run succeeds.
	RetryAfter Check = "retry_after"
	// RetryAfterTooLong: a Retry-After of an hour fails the run at once,
	// with a rate_limit failure that says to run again later.
	RetryAfterTooLong Check = "retry_after_too_long"
	// Malformed: a cut-off page is a source_error naming the vendor; no
	// panic, no checkpoint, no output.
	Malformed Check = "malformed"
	// Redirect: a redirect to another origin is refused and nothing is sent
	// there with credentials.
	Redirect Check = "redirect"
	// ForeignLink: next-page links that point at another origin (the fake's
	// origin rewritten in every answer) are refused or never followed; no
	// credential reaches that origin.
	ForeignLink Check = "foreign_link"
	// MissingCursor: a record without its incremental field is written,
	// counted in Stats.WithoutCursor, and does not stop the run; or, for a
	// vendor-guaranteed field, the run stops with a source_error naming
	// the field and writes nothing (the jobrunner.Source rule).
	MissingCursor Check = "missing_cursor"
	// Cancel: cancelling mid-run returns ctx's error, sends nothing more,
	// and leaves no checkpoint and no output.
	Cancel Check = "cancel"
	// Forward: the checkpoint is the newest record's, whatever the order of
	// the pages (newer records first, older ones after), and a run with
	// nothing new keeps it.
	Forward Check = "forward"
	// ClippedError: a vendor error with a 10,000-character message fails
	// the run with a one-line message of bounded length.
	ClippedError Check = "clipped_error"
)

// Checks lists every check in order.
var Checks = []Check{Paging, Unauthorized, RetryAfter, RetryAfterTooLong, Malformed, Redirect, ForeignLink, MissingCursor, Cancel, Forward, ClippedError}

// SuiteOptions tune the source suite for one source of a Case.
type SuiteOptions struct {
	// CursorKey is the incremental field as the vendor's answers spell it,
	// when it differs from the catalogue's IncrementalField.
	CursorKey string
	// Repeats is how many records a full run may write twice because the
	// vendor's paging serves them twice (Zendesk's time-based export).
	Repeats int
	// FaultAt is the data request the faults hit (0: the second, so that
	// a page is written before; S3: the first, a listing, not a download).
	FaultAt int
	// Skip are the checks this source cannot run, with the reason. A
	// reason starting "BUG:" (a defect) fails TestNoBugSkips: fix the
	// source instead.
	Skip map[Check]string
	// Housekeeping tells the requests that fetch no data (Snowflake's
	// cancel of a statement on interruption): the suite passes them
	// through uncounted and unchanged.
	Housekeeping func(*http.Request) bool
}

// SourceTarget is one source of a Case, as the suite runs it.
type SourceTarget struct {
	Case      Case
	Connector *connector.Connector
	Auth      *connector.AuthMethod
	Source    *connector.Source
	Params    []string
	Records   int // a full run's records; 0: the fake's Data.Len()
	Options   SuiteOptions
}

// Targets returns every source of every case, with its catalogue entry.
// lookup finds a connector by id.
func Targets(tb testing.TB, lookup func(id string) (*connector.Connector, bool)) []SourceTarget {
	var out []SourceTarget
	for _, c := range Cases() {
		ctr, ok := lookup(c.Connector)
		if !ok {
			tb.Fatalf("case %s: no connector %q in the catalogue", c.Name(), c.Connector)
		}
		m := ctr.DefaultAuth()
		if c.Auth != "" {
			var err error
			if m, err = ctr.Auth(c.Auth); err != nil {
				tb.Fatalf("case %s: %v", c.Name(), err)
			}
		}
		runs := append([]SourceRun{{Source: c.Source, Params: c.Params}}, c.Also...)
		for _, r := range runs {
			i := slices.IndexFunc(ctr.Sources, func(s connector.Source) bool { return s.Name == r.Source })
			if i < 0 {
				tb.Fatalf("case %s: connector %s has no source %q", c.Name(), c.Connector, r.Source)
			}
			out = append(out, SourceTarget{Case: c, Connector: ctr, Auth: m, Source: &ctr.Sources[i], Params: r.Params,
				Records: r.Records, Options: c.Suite[r.Source]})
		}
	}
	return out
}

// Name is the target's subtest name: case/source.
func (s SourceTarget) Name() string { return s.Case.Name() + "/" + s.Source.Name }

// RunSourceSuite runs every check on s, each against a fake of its own.
func RunSourceSuite(t *testing.T, s SourceTarget) {
	jobrunner.PoisonReusedBodies() // a body given back is garbage at once
	if s.Source.New == nil {
		t.Fatalf("%s has no New", s.Name())
	}
	for k := range s.Options.Skip {
		if !slices.Contains(Checks, k) {
			t.Errorf("Skip names an unknown check %q", k)
		}
	}
	// The reference run: what a full run writes, how many data requests
	// it makes, and the cursor values its answers hold.
	ref := s.reference(t)
	for _, c := range Checks[1:] { // Paging is the reference run
		t.Run(string(c), func(t *testing.T) {
			if why, ok := s.Options.Skip[c]; ok {
				t.Skip(why)
			}
			if ref == nil {
				t.Fatal("the reference full run failed")
			}
			checks[c](t, s, ref)
		})
	}
}

// ref is what the reference full run saw.
type ref struct {
	records    int
	checkpoint string
	requests   int    // data requests
	oldest     string // first cursor value of the first data answer (JSON)
	newest     string // last cursor value of the last data answer
	cursorPage []int  // the data requests whose answer held the cursor key
	faultAt    int    // SuiteOptions.FaultAt
}

// cursorKey is the incremental field: the catalogue's, or the job
// parameter's that names it (IncrementalParam), as the answers spell it.
func (s SourceTarget) cursorKey() string {
	if s.Options.CursorKey != "" {
		return s.Options.CursorKey
	}
	if p := s.Source.IncrementalParam; p != "" {
		return s.params()[p]
	}
	return s.Source.IncrementalField
}

func (s SourceTarget) params() map[string]string {
	out := map[string]string{}
	for _, p := range s.Params {
		k, v, _ := strings.Cut(p, "=")
		out[k] = v
	}
	return out
}

func (s SourceTarget) reference(t *testing.T) *ref {
	var r *ref
	t.Run(string(Paging), func(t *testing.T) {
		env := s.start(t)
		key := s.cursorKey()
		seen := &ref{}
		env.tap.onResp = func(n int, _ *http.Request, body []byte, _ http.Header) []byte {
			vals := cursorValues(body, key)
			if len(vals) > 0 {
				if seen.oldest == "" {
					seen.oldest = vals[0]
				}
				seen.newest = vals[len(vals)-1]
				seen.cursorPage = append(seen.cursorPage, n)
			}
			return body
		}
		res := env.run(t, context.Background(), "")
		if res.err != nil {
			t.Fatalf("full run: %v", res.err)
		}
		want := s.Records
		if want == 0 {
			want = env.fake.Data.Len()
		}
		if len(res.records) != want {
			t.Errorf("full run wrote %d records, want %d", len(res.records), want)
		}
		if pk := s.Source.PrimaryKey; pk != "" {
			ids := map[string]int{}
			for _, rec := range res.records {
				ids[fmt.Sprint(rec[pk])]++
			}
			if twice := len(res.records) - len(ids); twice > s.Options.Repeats {
				t.Errorf("full run wrote %d records twice (by %s), want at most %d", twice, pk, s.Options.Repeats)
			}
		}
		seen.records, seen.checkpoint, seen.requests = len(res.records), res.checkpoint, env.tap.count()
		if why, one := s.Options.Skip[Paging]; one {
			t.Logf("one page is enough: %s", why)
		} else if res.stats.Pages.Load() < 2 {
			t.Errorf("full run took %d page(s), want several", res.stats.Pages.Load())
		}
		r = seen
		if s.Options.FaultAt > 0 {
			r.faultAt = s.Options.FaultAt
		}
	})
	return r
}

var checks map[Check]func(*testing.T, SourceTarget, *ref)

func init() {
	checks = map[Check]func(*testing.T, SourceTarget, *ref){
		Unauthorized:      checkUnauthorized,
		RetryAfter:        checkRetryAfter,
		RetryAfterTooLong: checkRetryAfterTooLong,
		Malformed:         checkMalformed,
		Redirect:          checkRedirect,
		ForeignLink:       checkForeignLink,
		MissingCursor:     checkMissingCursor,
		Cancel:            checkCancel,
		Forward:           checkForward,
		ClippedError:      checkClipped,
	}
}

// second is the data request a fault hits: the second when the full run
// makes several, so that one page is written before it.
func (r *ref) second() int {
	if r.faultAt > 0 {
		return r.faultAt
	}
	return min(2, r.requests)
}

func checkUnauthorized(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	if o := env.fake.OAuth; o != nil {
		if o.NoRefresh {
			// A long-lived token without a refresh token: Token cannot
			// give another, and the 401 ends the run as an auth failure.
			env0 := s.start(t)
			env0.noRefresh = true
			env0.fake.OAuth.Invalidate()
			res := env0.run(t, context.Background(), "")
			env0.failure(t, res.err, jobrunner.ReasonAuth)
			if f := env0.forced(); f > 1 {
				t.Errorf("refresh asked for %d times, want at most once", f)
			}
		}
		expire := func(o *OAuth) {
			if r.requests < 2 {
				o.Invalidate() // one request: its token is dead from the start
			} else {
				o.ExpireAfter(1)
			}
		}
		expire(o)
		res := env.run(t, context.Background(), "")
		if res.err != nil {
			t.Fatalf("run whose access token expired mid-run: %v", res.err)
		}
		if len(res.records) != r.records {
			t.Errorf("run wrote %d records, want %d", len(res.records), r.records)
		}
		if f := env.forced(); f != 1 {
			t.Errorf("the token was refreshed %d times, want exactly once", f)
		}
		// Refreshed, and refused again: an auth failure, no second refresh.
		env2 := s.start(t)
		env2.deadRefresh = true
		expire(env2.fake.OAuth)
		res = env2.run(t, context.Background(), "")
		env2.failure(t, res.err, jobrunner.ReasonAuth)
		if f := env2.forced(); f != 1 {
			t.Errorf("after a refused refreshed token, refresh asked for %d times, want once", f)
		}
		return
	}
	if env.fake.BadSecret == "" {
		t.Fatalf("the fake gives no BadSecret")
	}
	env.req.Secrets[env.secretField] = env.fake.BadSecret
	res := env.run(t, context.Background(), "")
	env.failure(t, res.err, jobrunner.ReasonAuth)
	if n := res.stats.Retries.Load(); n != 0 {
		t.Errorf("a refused key was sent again %d times", n)
	}
}

func checkRetryAfter(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	at := r.second()
	env.tap.onReq = func(n int, req *http.Request) *http.Response {
		switch n {
		case at:
			return synthetic(req, http.StatusTooManyRequests, "7", `{"error":"rate_limited","message":"slow down"}`)
		case at + 1:
			return synthetic(req, http.StatusServiceUnavailable, "3", `{"error":"unavailable","message":"try later"}`)
		}
		return nil
	}
	res := env.run(t, context.Background(), "")
	if res.err != nil {
		t.Fatalf("run with a 429 and a 503 with Retry-After: %v", res.err)
	}
	if len(res.records) != r.records {
		t.Errorf("run wrote %d records, want %d", len(res.records), r.records)
	}
	if !slices.Contains(res.waits, 7*time.Second) || !slices.Contains(res.waits, 3*time.Second) {
		t.Errorf("waits %v, want 7s and 3s as Retry-After said", res.waits)
	}
}

func checkRetryAfterTooLong(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	at := r.second()
	env.tap.onReq = func(n int, req *http.Request) *http.Response {
		if n >= at {
			return synthetic(req, http.StatusTooManyRequests, "3600", `{"error":"rate_limited","message":"slow down"}`)
		}
		return nil
	}
	res := env.run(t, context.Background(), "")
	var p *jobrunner.Partial
	if errors.As(res.err, &p) {
		// A source that stops at a range boundary keeps what it wrote.
		res.err = &jobrunner.Failure{Reason: p.Reason, Message: p.Message}
	}
	f := env.failure(t, res.err, jobrunner.ReasonRateLimit)
	if !strings.Contains(f.Message, "again") {
		t.Errorf("message %q does not say to run again later", f.Message)
	}
	for _, w := range res.waits {
		if w >= time.Hour {
			t.Errorf("waited %s", w)
		}
	}
}

func checkMalformed(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	at := r.second()
	env.tap.onResp = func(n int, _ *http.Request, body []byte, _ http.Header) []byte {
		if n == at {
			return body[:len(body)/2]
		}
		return body
	}
	res := env.run(t, context.Background(), "")
	f := env.failure(t, res.err, jobrunner.ReasonSourceError)
	if !env.namesVendor(f.Message) {
		t.Errorf("message %q does not name %s", f.Message, s.Connector.Name)
	}
	env.noOutput(t, res)
}

func checkRedirect(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	evil := env.foreign(t)
	at := r.second()
	env.tap.onReq = func(n int, req *http.Request) *http.Response {
		if n == at {
			resp := synthetic(req, http.StatusFound, "", "")
			resp.Header.Set("Location", evil.URL+req.URL.RequestURI())
			return resp
		}
		return nil
	}
	res := env.run(t, context.Background(), "")
	if res.err == nil {
		t.Fatalf("a redirect to another origin was followed to success")
	}
	env.failure(t, res.err, "")
	env.noOutput(t, res)
}

func checkForeignLink(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	evil := env.foreign(t)
	rewrote := 0
	env.tap.onResp = func(_ int, req *http.Request, body []byte, h http.Header) []byte {
		origin := "http://" + req.URL.Host
		for k, vs := range h {
			for i, v := range vs {
				if strings.Contains(v, origin) {
					h[k][i] = strings.ReplaceAll(v, origin, evil.URL)
					rewrote++
				}
			}
		}
		if bytes.Contains(body, []byte(origin)) {
			rewrote++
			body = bytes.ReplaceAll(body, []byte(origin), []byte(evil.URL))
		}
		return body
	}
	res := env.run(t, context.Background(), "")
	if rewrote == 0 {
		t.Fatalf("no answer holds a link to its own origin: Skip[%s] with the reason (paging by cursor or offset)", ForeignLink)
	}
	if res.err != nil {
		env.failure(t, res.err, "")
		env.noOutput(t, res)
	} else if len(res.records) != r.records {
		t.Errorf("the run ignored the foreign links but wrote %d records, want %d", len(res.records), r.records)
	}
}

func checkMissingCursor(t *testing.T, s SourceTarget, r *ref) {
	key := s.cursorKey()
	if key == "" {
		t.Skip("the source has no incremental field")
	}
	if len(r.cursorPage) == 0 {
		t.Fatalf("no answer holds %q: set CursorKey, or Skip[%s] with the reason", key, MissingCursor)
	}
	env := s.start(t)
	first := r.cursorPage[0]
	env.tap.onResp = func(n int, _ *http.Request, body []byte, _ http.Header) []byte {
		if n != first {
			return body
		}
		return rewriteCursor(body, key, func(i int, obj map[string]any) {
			if i == 0 {
				delete(obj, key)
			}
		})
	}
	res := env.run(t, context.Background(), "")
	if res.err != nil {
		// Refusing the record is the other answer the contract allows:
		// a source_error that names the field, and nothing written.
		f := env.failure(t, res.err, jobrunner.ReasonSourceError)
		t.Logf("refused: %s", f.Message)
		if !strings.Contains(f.Message, key) {
			t.Errorf("message %q does not name the field %s", f.Message, key)
		}
		env.noOutput(t, res)
		return
	}
	if len(res.records) != r.records {
		t.Errorf("run wrote %d records, want %d", len(res.records), r.records)
	}
	if n := res.stats.WithoutCursor.Load(); n < 1 {
		t.Errorf("Stats.WithoutCursor = %d, want the record without %s counted", n, key)
	}
}

func checkCancel(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	at := r.second()
	env.tap.onReq = func(n int, _ *http.Request) *http.Response {
		if n == at {
			cancel()
		}
		return nil
	}
	res := env.run(t, ctx, "")
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled run returned %v, want context.Canceled", res.err)
	}
	if n := env.tap.count(); n > at {
		t.Errorf("%d data requests after the cancellation", n-at)
	}
	env.noOutput(t, res)
}

func checkForward(t *testing.T, s SourceTarget, r *ref) {
	key := s.cursorKey()
	if key == "" || !s.Source.Incremental(s.params()) {
		t.Skip("the source has no incremental field")
	}
	if len(r.cursorPage) < 2 {
		t.Fatalf("%d answer(s) hold %q, want several: set CursorKey, or Skip[%s] with the reason", len(r.cursorPage), key, Forward)
	}
	if r.checkpoint == "" {
		t.Fatalf("the full run returned no checkpoint")
	}
	// Newest first: the first page's records carry the newest value, the
	// last page's the oldest.
	env := s.start(t)
	first, last := r.cursorPage[0], r.cursorPage[len(r.cursorPage)-1]
	env.tap.onResp = func(n int, _ *http.Request, body []byte, _ http.Header) []byte {
		switch n {
		case first:
			return rewriteCursor(body, key, func(_ int, obj map[string]any) { obj[key] = jsonValue(r.newest) })
		case last:
			return rewriteCursor(body, key, func(_ int, obj map[string]any) { obj[key] = jsonValue(r.oldest) })
		}
		return body
	}
	res := env.fetch(t, "")
	if res.err != nil {
		t.Fatalf("run with newer records first: %v", res.err)
	}
	if res.checkpoint != r.checkpoint {
		t.Errorf("with the newest records first and the oldest last, checkpoint %q, want %q (the newest)", res.checkpoint, r.checkpoint)
	}
	// Nothing new since the checkpoint: the source keeps it.
	env2 := s.start(t)
	res = env2.fetch(t, r.checkpoint)
	if res.err != nil {
		t.Fatalf("incremental run from %s: %v", r.checkpoint, res.err)
	}
	if res.checkpoint != r.checkpoint && !later(res.checkpoint, r.checkpoint) {
		t.Errorf("a run from %q with nothing newer returned checkpoint %q: it moved back", r.checkpoint, res.checkpoint)
	}
}

// clipLimit bounds a failure's message: a vendor's text in it is clipped.
const clipLimit = 600

func checkClipped(t *testing.T, s SourceTarget, r *ref) {
	env := s.start(t)
	at := r.second()
	long := strings.Repeat("the vendor explains at length ", 340)
	b, _ := json.Marshal(map[string]any{
		"message": long, "error_description": long, "description": long, "errorCode": "BAD_REQUEST",
		"error":         map[string]any{"message": long, "code": "BAD_REQUEST", "errors": []any{map[string]any{"message": long}}},
		"errors":        []any{map[string]any{"message": long, "errorCode": "BAD_REQUEST"}},
		"errorMessages": []string{long}, "category": "VALIDATION_ERROR", "status": "error",
	})
	env.tap.onReq = func(n int, req *http.Request) *http.Response {
		if n == at {
			return synthetic(req, http.StatusBadRequest, "", string(b))
		}
		return nil
	}
	res := env.run(t, context.Background(), "")
	f := env.failure(t, res.err, "")
	if n := len([]rune(f.Message)); n > clipLimit {
		t.Errorf("message is %d characters, want at most %d: %.200q…", n, clipLimit, f.Message)
	}
	env.noOutput(t, res)
}

// env is one started fake and a request to run a source against it.
type env struct {
	s           SourceTarget
	fake        *Fake
	tap         *tap
	req         jobrunner.Request
	secretField string
	dir         string

	mu          sync.Mutex
	nForced     int
	deadRefresh bool // the refreshed token is refused too
	noRefresh   bool // Token cannot refresh (a grant without a refresh token)
	token       string
}

func (s SourceTarget) start(t *testing.T) *env {
	t.Helper()
	f, err := s.Case.Start(t)
	if errors.Is(err, ErrMissingPeer) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("start the %s fake: %v", s.Case.Name(), err)
		}
		t.Skipf("start the %s fake: %v (scripts/build-test-tools.sh builds it)", s.Case.Name(), err)
	}
	if err != nil {
		t.Fatalf("start the %s fake: %v", s.Case.Name(), err)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	e := &env{s: s, fake: f, tap: &tap{base: base, housekeeping: s.Options.Housekeeping}, dir: t.TempDir()}
	set := map[string]string{}
	for _, kv := range f.Set {
		k, v, _ := strings.Cut(kv, "=")
		set[k] = v
	}
	e.req = jobrunner.Request{Fields: connection.Effective(s.Connector, s.Auth, set), Secrets: map[string]string{}, Params: map[string]string{}}
	for _, p := range s.Params {
		k, v, _ := strings.Cut(p, "=")
		if strings.HasSuffix(k, "_dir") && !filepath.IsAbs(v) {
			v = filepath.Join(e.dir, v)
		}
		e.req.Params[k] = v
	}
	if o := f.OAuth; o != nil {
		e.token = o.Issue()
		e.req.Secrets[jobrunner.SecretAccessToken] = e.token
		e.req.Token = e.tokenFunc
		if h := s.Auth.OAuth; h != nil && h.Hooks != nil && h.Hooks.DescribeGrant != nil {
			r := httptest.NewRequest(http.MethodPost, f.URL+"/token", nil)
			extra := map[string]any{}
			if o.Extra != nil {
				extra = o.Extra(r)
			}
			cb := url.Values{}
			if o.CallbackExtra != nil {
				cb = o.CallbackExtra(r)
			}
			g, err := h.Hooks.DescribeGrant(context.Background(), &connector.GrantInput{
				AccessToken: e.token,
				TokenField:  func(k string) string { v, _ := extra[k].(string); return v },
				Callback:    cb, Fields: e.req.Fields, Scopes: fill(h.Scopes, e.req.Fields), Call: caller{base},
			})
			if err != nil {
				t.Fatalf("describe the grant: %v", err)
			}
			e.req.Fields["api_base"] = g.APIBase
		}
		return e
	}
	e.secretField = f.SecretField
	if e.secretField == "" {
		p, ok := connection.PrimarySecret(s.Connector, s.Auth)
		if !ok {
			t.Fatalf("%s/%s has no secret field", s.Connector.ID, s.Auth.ID)
		}
		e.secretField = p.Name
	}
	e.req.Secrets[e.secretField] = f.Secret
	return e
}

// fill fills the {field} placeholders of scopes.
func fill(scopes []string, fields map[string]string) []string {
	out := make([]string, len(scopes))
	for i, sc := range scopes {
		for k, v := range fields {
			sc = strings.ReplaceAll(sc, "{"+k+"}", v)
		}
		out[i] = sc
	}
	return out
}

// tokenFunc is Request.Token: the issued token, or with force a fresh one
// (counted), as the authorization service would refresh it.
func (e *env) tokenFunc(_ context.Context, force bool) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !force {
		return e.token, nil
	}
	e.nForced++
	switch {
	case e.noRefresh:
		return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "the access token was rejected and the grant has no refresh token"}
	case e.deadRefresh:
		e.token = "at-refused-" + Canary
	default:
		e.token = e.fake.OAuth.Issue()
	}
	return e.token, nil
}

func (e *env) forced() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nForced
}

// result is one run's outcome.
type result struct {
	checkpoint string
	err        error
	records    []jobrunner.Record
	stats      *jobrunner.Stats
	waits      []time.Duration
	out        string // the output file
}

// run runs a fresh source through jobrunner.Run into an NDJSON file.
func (e *env) run(t *testing.T, ctx context.Context, since string) result {
	t.Helper()
	var w jobrunnertest.Waits
	req := e.request(&w, since)
	out := filepath.Join(t.TempDir(), "out.ndjson")
	dst, err := jobrunner.NewFileDestination(out, "ndjson", nil)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := jobrunner.Run(ctx, e.s.Source.New(), req, dst, nil)
	res := result{checkpoint: cp, err: err, stats: req.HTTP.Stats(), waits: w.Durations(), out: out}
	if err != nil {
		return res
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for dec.More() {
		var rec map[string]any
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		res.records = append(res.records, rec)
	}
	return res
}

// fetch calls the source's Fetch straight (no jobrunner.Run, which would
// keep the checkpoint from moving back itself).
func (e *env) fetch(t *testing.T, since string) result {
	t.Helper()
	var w jobrunnertest.Waits
	req := e.request(&w, since)
	var res result
	res.checkpoint, res.err = e.s.Source.New().Fetch(context.Background(), req, func(r jobrunner.Record) error {
		res.records = append(res.records, r)
		return nil
	})
	res.stats, res.waits = req.HTTP.Stats(), w.Durations()
	return res
}

func (e *env) request(w *jobrunnertest.Waits, since string) jobrunner.Request {
	req := e.req
	req.Since = since
	req.Fields, req.Secrets, req.Params = clone(e.req.Fields), clone(e.req.Secrets), clone(e.req.Params)
	// The client the runner builds: safehttp's, same-origin redirects only.
	req.HTTP = jobrunner.NewHTTP(safehttp.New(e.tap, safehttp.Timeouts{}), w.Sleep, nil, nil)
	return req
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// failure checks err is a one-line *jobrunner.Failure (of reason, unless
// "") without a secret: every secret and token the fakes hand out holds
// Canary.
func (e *env) failure(t *testing.T, err error, reason string) *jobrunner.Failure {
	t.Helper()
	var f *jobrunner.Failure
	if !errors.As(err, &f) {
		t.Fatalf("err = %v (%T), want a %s failure", err, err, reason)
	}
	if reason != "" && f.Reason != reason {
		t.Errorf("reason %s (%s), want %s", f.Reason, f.Message, reason)
	}
	for _, s := range []string{Canary, e.fake.Secret, e.fake.BadSecret} {
		if s != "" && strings.Contains(f.Message, s) {
			t.Errorf("message leaks a secret: %q", f.Message)
		}
	}
	if strings.ContainsAny(f.Message, "\n\r") {
		t.Errorf("message spans lines: %q", f.Message)
	}
	return f
}

// noOutput checks a failed run left no checkpoint and no output file.
func (e *env) noOutput(t *testing.T, res result) {
	t.Helper()
	if res.checkpoint != "" {
		t.Errorf("failed run returned checkpoint %q, want none", res.checkpoint)
	}
	if _, err := os.Stat(res.out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed run left its output file (stat: %v)", err)
	}
}

func (e *env) namesVendor(msg string) bool {
	msg = strings.ToLower(msg)
	c := e.s.Connector
	for _, n := range append([]string{c.ID, c.Name, strings.ReplaceAll(c.ID, "-", " ")}, c.Aliases...) {
		if n != "" && strings.Contains(msg, strings.ToLower(n)) {
			return true
		}
	}
	return false
}

// foreign starts a server on another origin that fails the test when a
// request with credentials reaches it.
func (e *env) foreign(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leak := r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != ""
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, Canary) || e.fake.Secret != "" && strings.Contains(v, e.fake.Secret) {
					leak = true
				}
			}
		}
		if strings.Contains(r.URL.RawQuery, Canary) {
			leak = true
		}
		if leak {
			t.Errorf("credentials sent to another origin: %s %s", r.Method, r.URL.Path)
		}
		http.Error(w, "not here", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// tap sits between the source's client and the fake: it counts the data
// requests and may answer one itself (onReq) or rewrite a 2xx answer's
// body and header (onResp).
type tap struct {
	base         http.RoundTripper
	housekeeping func(*http.Request) bool
	mu           sync.Mutex
	n            int
	onReq        func(n int, r *http.Request) *http.Response
	onResp       func(n int, r *http.Request, body []byte, h http.Header) []byte
}

func (tp *tap) count() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.n
}

func (tp *tap) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "token") || tp.housekeeping != nil && tp.housekeeping(r) {
		return tp.base.RoundTrip(r)
	}
	tp.mu.Lock()
	tp.n++
	n := tp.n
	tp.mu.Unlock()
	if tp.onReq != nil {
		if resp := tp.onReq(n, r); resp != nil {
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return resp, nil
		}
	}
	resp, err := tp.base.RoundTrip(r)
	if err != nil || tp.onResp == nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = tp.onResp(n, r, body, resp.Header)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// synthetic is an answer the tap gives instead of the fake.
func synthetic(r *http.Request, status int, retryAfter, body string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h, Request: r,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
}

// decodeAll reads a JSON answer: one value, or several (NDJSON).
func decodeAll(body []byte) ([]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, len(out) > 0
		}
		if err != nil {
			return nil, false
		}
		out = append(out, v)
	}
}

// walk calls f with every object holding key, depth first, in document
// order (an object's members by name).
func walk(v any, key string, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v[key]; ok {
			f(v)
		}
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			walk(v[k], key, f)
		}
	case []any:
		for _, x := range v {
			walk(x, key, f)
		}
	}
}

// cursorValues returns the key's values in a JSON answer, as JSON.
func cursorValues(body []byte, key string) []string {
	vals, ok := decodeAll(body)
	if !ok || key == "" {
		return nil
	}
	var out []string
	for _, v := range vals {
		walk(v, key, func(obj map[string]any) {
			b, _ := json.Marshal(obj[key])
			out = append(out, string(b))
		})
	}
	return out
}

// rewriteCursor calls f with the i-th object holding key and re-encodes
// the answer.
func rewriteCursor(body []byte, key string, f func(i int, obj map[string]any)) []byte {
	vals, ok := decodeAll(body)
	if !ok {
		return body
	}
	i := 0
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	for _, v := range vals {
		walk(v, key, func(obj map[string]any) { f(i, obj); i++ })
		_ = enc.Encode(v)
	}
	if len(vals) == 1 {
		return bytes.TrimRight(out.Bytes(), "\n")
	}
	return out.Bytes()
}

func jsonValue(s string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	_ = dec.Decode(&v)
	return v
}

// later reports whether checkpoint a reads as after b (both times).
func later(a, b string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02", time.DateTime} {
		ta, err1 := time.Parse(layout, a)
		tb, err2 := time.Parse(layout, b)
		if err1 == nil && err2 == nil {
			return ta.After(tb)
		}
	}
	return false
}

// caller is the connector.Caller of the grant hooks: plain GETs and POSTs
// to the fake.
type caller struct{ rt http.RoundTripper }

func (c caller) GetJSON(ctx context.Context, u, auth string, out any) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", auth)
	r.Header.Set("Accept", "application/json")
	return c.do(r, out)
}

func (c caller) PostForm(ctx context.Context, u string, form url.Values, out any) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(r, out)
}

func (c caller) do(r *http.Request, out any) error {
	resp, err := safehttp.Call(safehttp.New(c.rt, safehttp.Timeouts{})).Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &connector.CallError{Kind: "server", Status: resp.StatusCode, Message: r.URL.Path + ": " + resp.Status}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
