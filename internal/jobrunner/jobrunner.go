// Package jobrunner runs a job: a Source fetches records page by page through
// a retrying HTTP client, and Run streams them, one at a time, into a
// Destination that becomes visible only when the run succeeds. It returns
// the incremental checkpoint for the caller to save after the output is
// durable, so a failed or cancelled run loses nothing and changes nothing.
//
// The package never prints and never sleeps for real in tests: progress is a
// callback, backoff waits go through an injected sleep function, and every
// failure is a *Failure carrying a classified reason and a one-line message
// that names a host and path, never a header, a query or a secret.
package jobrunner

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/connctl/connctl/internal/textsafe"
)

// Record is one fetched item, as decoded from the provider's JSON.
type Record = map[string]any

// Request is what a Source needs for one run.
type Request struct {
	Fields  map[string]string // the connection's effective fields (domain, base_url, ...)
	Secrets map[string]string // key-based secrets by field name (api_key); OAuth: SecretAccessToken
	Params  map[string]string // job parameters
	Since   string            // checkpoint of the last successful run; "" = everything
	HTTP    *HTTP             // retrying client; sources use it for every request

	// Token, set for OAuth connections, returns a usable access token:
	// the stored one (refreshed first if it is about to expire), or with
	// force a freshly refreshed one, for a source whose request was just
	// answered 401 mid-run. Sources call it through AccessToken.
	Token func(ctx context.Context, force bool) (string, error)

	// raw, set by Run when its destination writes NDJSON, writes a record's
	// line as it is (see Emit).
	raw func(line []byte) error
}

// Emit passes on a record read by DecodePage: within Run into an NDJSON
// destination, its line goes to the destination as it is, never decoded
// into a map; otherwise (CSV, or a caller of Fetch with its own emit) it is
// decoded into a Record and given to emit. Either way it is written and
// counted once, and an error stops the source as emit's would.
func (r Request) Emit(emit func(Record) error, rec *RawRecord) error {
	if r.raw != nil {
		return r.raw(rec.line)
	}
	m, err := rec.Record()
	if err != nil {
		return err
	}
	return emit(m)
}

// SecretAccessToken is the Secrets key of an OAuth connection's access token
// as it was when the run began. It is also the kind the token is stored
// under (connection.KindAccessToken is this constant).
const SecretAccessToken = "oauth_access_token"

// tokenReason is the reason of a run that could not get its access token:
// the provider's trouble when the error says so (a connector.CallError's
// kind: unreachable, a 5xx, rate limiting), else auth.
func tokenReason(err error) string {
	var k interface{ CallKind() string }
	if errors.As(err, &k) {
		switch k.CallKind() {
		case "network":
			return ReasonNetwork
		case "server":
			return ReasonSourceError
		case "rate_limit":
			return ReasonRateLimit
		}
	}
	return ReasonAuth
}

// AccessToken returns the OAuth access token to send: from Token when it is
// set, else Secrets[SecretAccessToken]. With force (after a 401) it asks
// Token for a refreshed one; without Token there is none to get. Every error
// is a *Failure (auth unless Token returned another *Failure), or ctx's
// error on cancellation, so a source may return it as it is.
func (r Request) AccessToken(ctx context.Context, force bool) (string, error) {
	if r.Token == nil {
		if force {
			return "", &Failure{Reason: ReasonAuth, Message: "the access token was rejected and this run cannot refresh it"}
		}
		if tok := r.Secrets[SecretAccessToken]; tok != "" {
			return tok, nil
		}
		return "", &Failure{Reason: ReasonAuth, Message: "the connection has no access token"}
	}
	tok, err := r.Token(ctx, force)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		var f *Failure
		if errors.As(err, &f) {
			return "", f
		}
		what := "get the access token"
		if force {
			what = "refresh the access token"
		}
		return "", &Failure{Reason: tokenReason(err), Message: what + ": " + oneLine(err.Error())}
	}
	if tok == "" {
		return "", &Failure{Reason: ReasonAuth, Message: "the connection has no access token"}
	}
	return tok, nil
}

// Source fetches records. It calls emit for each record, in order, and stops
// at the first error emit returns. It returns the checkpoint for the next run
// (e.g. the largest updated_at seen, RFC 3339), computed from what it
// emitted; a source with nothing new returns Request.Since.
//
// A record whose incremental field is missing or null is never dropped
// silently, and it never moves the checkpoint:
//   - when the field is one the user chose (a job parameter such as
//     incremental_field or incremental_column, or a field of a custom
//     object), the source writes the record and adds it to
//     Stats.WithoutCursor, so the run warns;
//   - when the vendor's API guarantees the field (Salesforce's
//     SystemModstamp), the source may instead stop with a source_error
//     whose message names the field, and the run writes nothing. (A
//     source that can tell the absence is the job's own doing, such as a
//     SOQL query that does not select SystemModstamp, says so as config.)
//
// Writing and counting is always allowed; refusing only for a vendor-
// guaranteed field. A source whose checkpoint is not a record's field (an
// export cursor, a day, the time a query was sent) is outside this rule.
type Source interface {
	Fetch(ctx context.Context, req Request, emit func(Record) error) (checkpoint string, err error)
}

// Stats are a run's live counters, safe to read while the run goes on.
type Stats struct {
	Records atomic.Int64 // records written to the destination
	Bytes   atomic.Int64 // response body bytes of successful responses
	Pages   atomic.Int64 // successful responses
	Retries atomic.Int64 // requests sent again after a retryable failure
	// WaitUntil is when the wait before the next attempt ends (Unix
	// nanoseconds), or 0 when the run is not waiting.
	WaitUntil atomic.Int64
	// WithoutCursor counts records a source wrote without their incremental
	// field (missing or null): they did not move the checkpoint. The source
	// adds to it, once per record written, as the Source rule says; the
	// run's caller warns when it is not zero.
	WithoutCursor atomic.Int64
}

// The failure reasons, as recorded on an execution activity.
const (
	ReasonAuth        = "auth"
	ReasonConfig      = "config"
	ReasonRateLimit   = "rate_limit"
	ReasonSourceError = "source_error"
	ReasonNetwork     = "network"
	ReasonDestination = "destination"
)

// Failure is a classified failure (the activity's reason): auth, config,
// rate_limit, source_error, network, destination. Message is one line and
// holds no secret.
type Failure struct {
	Reason  string
	Message string
}

// Error returns the message.
func (f *Failure) Error() string { return f.Message }

// Sleep waits for d or until ctx is done, whichever comes first; it is the
// production sleep for NewHTTP.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run fetches from src into dst. On success it commits dst and returns the
// checkpoint; the caller saves it only now, after the output is durable. A
// source that stopped early with a *Partial is a success too, as far as it
// went: Run commits dst and returns the checkpoint and the *Partial. On
// any error or ctx cancellation it aborts dst and returns the error: a
// *Failure, or ctx.Err() for cancellation. Destination errors become
// Failure{destination}; a source error that is not a *Failure becomes
// Failure{source_error}.
//
// Each record is written as it is emitted, so memory stays flat however many
// records come. progress, when non-nil, is called with the live stats just
// before each request (after the page before it was written, or, for a
// source that fetches the next page ahead, while it is being written), once
// at the end, and when a wait before a retry begins (Stats.WaitUntil is set).
//
// The checkpoint only moves forward: when the source returns one that reads
// as earlier than req.Since (a server that answered with older records),
// Run returns req.Since instead.
func Run(ctx context.Context, src Source, req Request, dst Destination, progress func(*Stats)) (string, error) {
	if req.HTTP == nil {
		dst.Abort()
		return "", &Failure{Reason: ReasonConfig, Message: "jobrunner: request has no HTTP client"}
	}
	defer oneProc()()
	stats := req.HTTP.stats
	var reported int64
	report := func() {
		if progress == nil {
			return
		}
		if p := stats.Pages.Load(); p > reported {
			reported = p
			progress(stats)
		}
	}
	// A per-run copy of the client carries the progress hook, so one *HTTP
	// may serve several runs.
	h := *req.HTTP
	h.beforeSend = report
	h.beforeWait = func() {
		if progress != nil {
			progress(stats)
		}
	}
	h.pages = newPageLog()
	req.HTTP = &h

	emit := func(r Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := dst.Write(r); err != nil {
			return &Failure{Reason: ReasonDestination, Message: "write output: " + oneLine(err.Error())}
		}
		stats.Records.Add(1)
		return nil
	}
	if w, ok := dst.(lineWriter); ok && w.writesLines() {
		req.raw = func(line []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := w.writeLine(line); err != nil {
				return &Failure{Reason: ReasonDestination, Message: "write output: " + oneLine(err.Error())}
			}
			stats.Records.Add(1)
			return nil
		}
	}
	checkpoint, err := src.Fetch(ctx, req, emit)
	var partial *Partial
	if errors.As(err, &partial) {
		err = nil // the output so far is complete up to checkpoint: keep it
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		dst.Abort()
		return "", classify(ctx, err)
	}
	if err := dst.Commit(); err != nil {
		dst.Abort()
		return "", &Failure{Reason: ReasonDestination, Message: "save output: " + oneLine(err.Error())}
	}
	report()
	if partial != nil {
		return forward(req.Since, checkpoint), partial
	}
	return forward(req.Since, checkpoint), nil
}

// classify turns a source's error into what Run returns. Its message is
// stored in the activity log and printed, so terminal controls that a
// source quoted from the vendor are shown escaped.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	var f *Failure
	if errors.As(err, &f) {
		if f == err {
			if !textsafe.Safe(f.Message) {
				return &Failure{Reason: f.Reason, Message: textsafe.Sanitize(f.Message)}
			}
			return f
		}
		return &Failure{Reason: f.Reason, Message: oneLine(err.Error())}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &Failure{Reason: ReasonSourceError, Message: oneLine(err.Error())}
}
