// Package connectortest holds the conformance suite's vendor fakes: for every
// connector in the catalogue, a local server that follows the vendor's
// documented request and response shapes (sign-in, who-am-I, the
// out-of-the-box sources' paging, incremental filter, throttling and error
// bodies), and what to tell `connctl create` to reach it. cmd/connctl's
// TestConformance drives every Case through the command line: create, test,
// test with a bad secret, revoke, reauthorize, full run, incremental run,
// throttled run and failing run.
//
// The source suite (RunSourceSuite, run by this package's TestSources)
// drives every source of every Case straight through its jobrunner.Source
// against the same fakes: paging to the end, 401 and one refresh,
// Retry-After, a malformed page, a redirect and next links to another
// origin, a record without its cursor field, cancellation, a checkpoint
// that only moves forward, clipped vendor errors, no secret in any error.
// A new source gets all of it by being a Case's Source or Also; a check
// the vendor cannot express is skipped in Case.Suite[source].Skip, with
// the reason. A defect is fixed, not skipped: TestNoBugSkips fails on a
// reason starting "BUG:".
//
// Only tests import this package. Its servers bind to 127.0.0.1.
package connectortest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"
)

// ErrMissingPeer is wrapped by Start's error when a test peer the fake
// needs is not built (the suite skips, or fails when skipping is forbidden).
var ErrMissingPeer = errors.New("test peer not built")

// Canary is part of every secret and token the fakes hand out, so that the
// suite can scan the files connctl leaves for leaks.
const Canary = "CANARY"

// A Case is one connector and auth method in the conformance suite.
type Case struct {
	Connector string // catalogue id
	Auth      string // auth method id (the `auth` field); "" for the connector's only method
	Source    string // an out-of-the-box source with an incremental field
	Params    []string
	// Also are the connector's other sources the fake serves: each gets a
	// full run (Records records) and a second run through the command line.
	// Every source of every connector must be some case's Source or Also.
	Also []SourceRun
	// Account is what `connctl test` reports the credentials belong to
	// (a substring of its output).
	Account string
	// Revocable says the provider has a revocation endpoint (OAuth), so
	// `connctl revoke` must call it; otherwise revoke removes the secrets
	// locally and says so.
	Revocable bool
	// Suite tunes the source suite (RunSourceSuite) per source name: the
	// checks a source cannot run, with the reason. Most sources need none.
	Suite map[string]SuiteOptions
	// Start starts the fake. It returns an error wrapping ErrMissingPeer
	// when a peer it needs (rclone) is not built.
	Start func(tb testing.TB) (*Fake, error)
}

// A SourceRun is a source to run with its job parameters, and how many
// records a full run must write.
type SourceRun struct {
	Source  string
	Params  []string
	Records int
}

// Name is the case's subtest name: connector or connector/auth.
func (c Case) Name() string {
	if c.Auth == "" {
		return c.Connector
	}
	return c.Connector + "/" + c.Auth
}

// A Fake is a started vendor server and how to reach it.
type Fake struct {
	URL string // the server's base URL
	// Set are the `connctl create` --set values (base_url, auth, endpoints...).
	Set []string
	// Secret is given to create with --secret-stdin (the main secret of a
	// key-based method, or an OAuth client secret: then SecretField is
	// client_secret). Empty: none.
	Secret      string
	SecretField string
	// SecretFile gives Secret with --secret-file instead (service-account keys).
	SecretFile bool
	// BadSecret is a secret of the right shape that the fake refuses
	// (key-based methods).
	BadSecret string
	// OAuth is the fake's authorization server; nil for key-based methods.
	OAuth *OAuth
	// Data is what the sources read, with the fault switches.
	Data *Dataset
}

// Cases returns every case of the suite. Each vendor's file adds its own.
func Cases() []Case {
	out := append([]Case(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

var registry []Case

// register adds cases; vendor files call it from init.
func register(cs ...Case) { registry = append(registry, cs...) }

// Serve starts h on 127.0.0.1 and closes it when tb ends. Each before
// func runs with the server's URL before it accepts a connection, so that
// what it sets is safe for the handlers to read.
func Serve(tb testing.TB, h http.Handler, before ...func(url string)) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	for _, f := range before {
		f("http://" + srv.Listener.Addr().String())
	}
	srv.Start()
	tb.Cleanup(srv.Close)
	return srv
}

// A Record is one record of a fake's dataset: its vendor id and when it was
// last modified. Vendors render the rest.
type Record struct {
	ID       string
	Modified time.Time
	Seq      int // position in the dataset, from 0
}

// Fault is what a data request must be answered with.
type Fault int

const (
	// None: answer normally.
	None Fault = iota
	// Throttle: answer with the vendor's throttle signal (429 or its own)
	// and a Retry-After of one second.
	Throttle
	// Fail: answer with the vendor's server error (a 5xx in its error
	// shape), which connctl retries and then gives up on.
	Fail
)

// Dataset is a fake's records and fault switches. Vendor handlers call
// Fault at the start of every data request (not sign-in or who-am-I calls),
// Since to select records, and SawSince when a request carried the
// incremental filter. It is safe for concurrent use.
type Dataset struct {
	// OnTouch, when set, is called by Touch with the touched records (after
	// the change, outside the lock): fakes backed by a real server (rclone)
	// rewrite those objects there.
	OnTouch func([]Record)

	mu        sync.Mutex
	recs      []Record
	requests  int // data requests since the last switch
	throttleN int // answer request number throttleN with Throttle (0: off)
	throttled int
	failFrom  int // answer requests from number failFrom on with Fail (0: off)
	failed    int
	since     []time.Time
	// throttleFrom: answer requests from number throttleFrom on with
	// Throttle (0: off), a throttle that outlasts every retry.
	throttleFrom int
}

// Base is when the datasets' records were modified: one second apart from
// Base on.
var Base = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// NewDataset returns n records with ids id(i), modified one second apart
// from Base.
func NewDataset(n int, id func(i int) string) *Dataset {
	d := &Dataset{}
	for i := range n {
		d.recs = append(d.recs, Record{ID: id(i), Modified: Base.Add(time.Duration(i) * time.Second), Seq: i})
	}
	return d
}

// Len is the number of records.
func (d *Dataset) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.recs)
}

// All returns the records sorted by modification time, then id order.
func (d *Dataset) All() []Record { return d.Since(time.Time{}, false) }

// Since returns the records modified after t (at or after when inclusive),
// oldest first. A zero t selects all.
func (d *Dataset) Since(t time.Time, inclusive bool) []Record {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Record
	for _, r := range d.recs {
		if t.IsZero() || r.Modified.After(t) || (inclusive && r.Modified.Equal(t)) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Modified.Equal(out[j].Modified) {
			return out[i].Modified.Before(out[j].Modified)
		}
		return out[i].Seq < out[j].Seq
	})
	return out
}

// Touch marks the records at the given positions modified now (a
// millisecond apart, in the order given) and returns their ids.
func (d *Dataset) Touch(seqs ...int) []string {
	d.mu.Lock()
	now := time.Now().UTC().Truncate(time.Millisecond)
	var ids []string
	var recs []Record
	for k, s := range seqs {
		if s < 0 || s >= len(d.recs) {
			d.mu.Unlock()
			panic(fmt.Sprintf("connectortest: no record %d", s))
		}
		d.recs[s].Modified = now.Add(time.Duration(k) * time.Millisecond)
		ids = append(ids, d.recs[s].ID)
		recs = append(recs, d.recs[s])
	}
	d.mu.Unlock()
	if d.OnTouch != nil {
		d.OnTouch(recs)
	}
	return ids
}

// ThrottleAt makes the n-th data request from now answer Throttle, once.
func (d *Dataset) ThrottleAt(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests, d.throttleN, d.failFrom = 0, n, 0
}

// FailFrom makes every data request from the n-th from now on answer Fail,
// until Heal.
func (d *Dataset) FailFrom(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests, d.throttleN, d.failFrom = 0, 0, n
}

// ThrottleFrom makes every data request from the n-th from now on answer
// Throttle, until Heal.
func (d *Dataset) ThrottleFrom(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests, d.throttleN, d.failFrom, d.throttleFrom = 0, 0, 0, n
}

// Heal turns the fault switches off.
func (d *Dataset) Heal() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests, d.throttleN, d.failFrom, d.throttleFrom = 0, 0, 0, 0
}

// Fault counts a data request and says how to answer it.
func (d *Dataset) Fault() Fault {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	switch {
	case d.throttleN > 0 && d.requests == d.throttleN, d.throttleFrom > 0 && d.requests >= d.throttleFrom:
		d.throttled++
		return Throttle
	case d.failFrom > 0 && d.requests >= d.failFrom:
		d.failed++
		return Fail
	}
	return None
}

// Requests is the number of data requests since the last switch.
func (d *Dataset) Requests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests
}

// Throttled and Failed count the requests answered with each fault.
func (d *Dataset) Throttled() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.throttled
}

// Failed counts the requests answered with Fail.
func (d *Dataset) Failed() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}

// SawSince records that a data request filtered on the incremental field
// from t (vendors call it when they parse the filter).
func (d *Dataset) SawSince(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.since = append(d.since, t)
}

// Sinces returns the incremental bounds the requests carried, in order.
func (d *Dataset) Sinces() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.since...)
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	writeJSONBody(w, v)
}

// writeJSONBody writes v as JSON, after the caller set the header and status.
func writeJSONBody(w http.ResponseWriter, v any) { _ = json.NewEncoder(w).Encode(v) }
