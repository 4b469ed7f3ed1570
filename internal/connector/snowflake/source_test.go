package snowflake

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/connctl/connctl/internal/connector/connectortest"
	"github.com/connctl/connctl/internal/jobrunner"
	"github.com/connctl/connctl/internal/jobrunner/jobrunnertest"
)

// The query source against the Snowflake fake, which follows the SQL API
// docs (https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests,
// https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses):
// 200 with the first partition inline, 202 and status requests, later
// partitions by ?partition=N (gzip), bind variables, error bodies.

func queryRequest(s *connectortest.SnowflakeFake, auth string, params map[string]string) jobrunner.Request {
	return jobrunner.Request{Fields: checkFields(s), Secrets: map[string]string{secretName(auth): s.Secret}, Params: params}
}

var incParams = map[string]string{"query": connectortest.SnowflakeQuery, "incremental_column": "updated_at"}

func TestQueryReadsEveryPartition(t *testing.T) {
	t.Parallel()
	for _, auth := range []string{AuthKeyPair, AuthPAT} {
		s := connectortest.NewSnowflake(t, auth)
		res := jobrunnertest.Run(t, QuerySource(), nil, queryRequest(s, auth, incParams), jobrunnertest.UseNumber())
		if res.Err != nil {
			t.Fatalf("%s: %v", auth, res.Err)
		}
		if len(res.Records) != s.Data.Len() {
			t.Fatalf("%s: %d records, want %d (three partitions)", auth, len(res.Records), s.Data.Len())
		}
		first, last := res.Records[0], res.Records[len(res.Records)-1]
		if first["ID"] != "ORD-000000" || first["AMOUNT"] != json.Number("10.50") || first["UPDATED_AT"] != "2026-10-01T00:00:00Z" {
			t.Errorf("%s: first record %v", auth, first)
		}
		want := connectortest.Base.Add(time.Duration(s.Data.Len()-1) * time.Second).Format(time.RFC3339Nano)
		if last["UPDATED_AT"] != want || res.Checkpoint != want {
			t.Errorf("%s: last record %v, checkpoint %q; want UPDATED_AT and checkpoint %s", auth, last, res.Checkpoint, want)
		}
		reqs := s.Requests()
		if len(reqs) != 1 || reqs[0].Statement != connectortest.SnowflakeQuery || len(reqs[0].Bindings) != 0 {
			t.Errorf("%s: the first run sent %+v, want the query as it is", auth, reqs)
		}
		if res.Stats.Pages.Load() != 3 {
			t.Errorf("%s: %d answers, want 3 (the statement, partitions 1 and 2)", auth, res.Stats.Pages.Load())
		}
	}
}

// TestQueryIncrementalBinds: the checkpoint goes in as a bind variable,
// never into the SQL text.
func TestQueryIncrementalBinds(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthPAT)
	since := connectortest.Base.Add(2000 * time.Second).Format(time.RFC3339Nano)
	req := queryRequest(s, AuthPAT, incParams)
	req.Since = since
	res := jobrunnertest.Run(t, QuerySource(), nil, req)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Records) != 500 {
		t.Errorf("%d records, want the 500 at or after %s", len(res.Records), since)
	}
	reqs := s.Requests()
	want := "SELECT * FROM (\n" + connectortest.SnowflakeQuery + "\n) WHERE updated_at >= ?"
	if len(reqs) != 1 || reqs[0].Statement != want || reqs[0].Bindings["1"] != (connectortest.SnowflakeBinding{Type: "TEXT", Value: since}) {
		t.Fatalf("sent %+v, want %q bound to TEXT %s", reqs, want, since)
	}
	if got := s.Data.Sinces(); len(got) != 1 || !got[0].Equal(connectortest.Base.Add(2000*time.Second)) {
		t.Errorf("the fake filtered from %v", got)
	}

	// A checkpoint that reads as SQL is still only a bound value.
	s = connectortest.NewSnowflake(t, AuthPAT)
	req = queryRequest(s, AuthPAT, incParams)
	req.Since = "x' OR 1=1 --"
	_ = jobrunnertest.Fetch(QuerySource(), nil, req)
	reqs = s.Requests()
	if len(reqs) != 1 || strings.Contains(reqs[0].Statement, "OR 1=1") || reqs[0].Bindings["1"].Value != req.Since {
		t.Errorf("sent %+v", reqs)
	}
}

func TestQueryIncrementalColumnIsChecked(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthPAT)
	for _, col := range []string{"updated_at) OR (1=1", `"UPDATED_AT"`, "a b"} {
		req := queryRequest(s, AuthPAT, map[string]string{"query": connectortest.SnowflakeQuery, "incremental_column": col})
		req.Since = "2026-10-01T00:00:00Z"
		res := jobrunnertest.Fetch(QuerySource(), nil, req)
		jobrunnertest.Failure(t, res.Err, jobrunner.ReasonConfig)
	}
	req := queryRequest(s, AuthPAT, map[string]string{"query": connectortest.SnowflakeQuery, "incremental_column": "SHIPPED_AT"})
	res := jobrunnertest.Fetch(QuerySource(), nil, req)
	if f := jobrunnertest.Failure(t, res.Err, jobrunner.ReasonConfig); !strings.Contains(f.Message, "not a column of the query's result") {
		t.Errorf("unknown column: %v", f)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d statements sent, want 1 (bad column names are refused before sending)", n)
	}
}

// TestQueryPollsWithBoundedBackoff: a 202 is followed by status requests,
// 250 ms apart, then twice as long each time up to 5 s.
func TestQueryPollsWithBoundedBackoff(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthKeyPair)
	s.SetAsync(7)
	res := jobrunnertest.Run(t, QuerySource(), nil, queryRequest(s, AuthKeyPair, incParams))
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Records) != s.Data.Len() {
		t.Errorf("%d records", len(res.Records))
	}
	ms := time.Millisecond
	want := []time.Duration{250 * ms, 500 * ms, 1000 * ms, 2000 * ms, 4000 * ms, 5000 * ms, 5000 * ms}
	if !slices.Equal(res.Waits, want) {
		t.Errorf("waits %v, want %v", res.Waits, want)
	}
}

// TestQueryCancelsOnInterrupt: a run stopped while the statement runs asks
// Snowflake to cancel it.
func TestQueryCancelsOnInterrupt(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthKeyPair)
	s.SetAsync(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	polls := 0
	req := queryRequest(s, AuthKeyPair, incParams)
	req.HTTP = jobrunner.NewHTTP(nil, func(c context.Context, _ time.Duration) error {
		if polls++; polls == 2 {
			cancel() // Ctrl-C during the second wait
		}
		return c.Err()
	}, nil, nil)
	_, err := QuerySource().Fetch(ctx, req, func(jobrunner.Record) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch = %v, want context.Canceled", err)
	}
	if got := s.Cancels(); len(got) != 1 {
		t.Errorf("cancelled %v, want the one statement", got)
	}

	// A finished statement is not cancelled.
	s = connectortest.NewSnowflake(t, AuthPAT)
	res := jobrunnertest.Fetch(QuerySource(), nil, queryRequest(s, AuthPAT, map[string]string{"query": "SELECT nonsense"}))
	jobrunnertest.Failure(t, res.Err, jobrunner.ReasonConfig)
	if got := s.Cancels(); len(got) != 0 {
		t.Errorf("cancelled %v after a failed statement", got)
	}
}

func TestQueryFailures(t *testing.T) {
	t.Parallel()
	s := connectortest.NewSnowflake(t, AuthKeyPair)
	res := jobrunnertest.Run(t, QuerySource(), nil, queryRequest(s, AuthKeyPair, map[string]string{"query": "SELECT * FROM NOPE"}))
	if f := jobrunnertest.Failure(t, res.Err, jobrunner.ReasonConfig, s.Secret); !strings.Contains(f.Message, "Snowflake 001003, SQL state 42000") {
		t.Errorf("a failing statement: %v", f)
	}

	req := queryRequest(s, AuthKeyPair, incParams)
	req.Secrets["private_key"] = s.BadSecret
	res = jobrunnertest.Run(t, QuerySource(), nil, req)
	if f := jobrunnertest.Failure(t, res.Err, jobrunner.ReasonAuth); !strings.Contains(f.Message, "390144") || !strings.Contains(f.Message, "again with a new JWT") {
		t.Errorf("a key the user does not hold: %v", f)
	}

	s.Data.ThrottleAt(2)
	res = jobrunnertest.Run(t, QuerySource(), nil, queryRequest(s, AuthKeyPair, incParams))
	if res.Err != nil || len(res.Records) != s.Data.Len() || !slices.Equal(res.Waits, []time.Duration{time.Second}) {
		t.Errorf("a 429 with Retry-After 1: err %v, %d records, waits %v", res.Err, len(res.Records), res.Waits)
	}

	s.Data.FailFrom(1)
	res = jobrunnertest.Run(t, QuerySource(), nil, queryRequest(s, AuthKeyPair, incParams))
	if f := jobrunnertest.Failure(t, res.Err, jobrunner.ReasonSourceError); !strings.Contains(f.Message, "503") {
		t.Errorf("503 every time: %v", f)
	}
	s.Data.Heal()

	req = queryRequest(s, AuthPAT, incParams)
	req.Fields["auth"] = AuthPAT
	delete(req.Secrets, "token")
	res = jobrunnertest.Run(t, QuerySource(), nil, req)
	jobrunnertest.Failure(t, res.Err, jobrunner.ReasonAuth)
}

func TestConvert(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		typ  string
		in   *string
		want any
	}{
		{"TEXT", nil, nil},
		{"TEXT", str("héllo"), "héllo"},
		{"FIXED", str("12.50"), json.Number("12.50")},
		{"FIXED", str("-7"), json.Number("-7")},
		{"REAL", str("NaN"), "NaN"},
		{"REAL", str("0x1p-2"), "0x1p-2"},
		{"BOOLEAN", str("true"), true},
		{"DATE", str("18262"), "2020-01-01"},
		{"TIME", str("45296.123000000"), "12:34:56.123"},
		{"TIMESTAMP_NTZ", str("1616173619.500000000"), "2021-03-19T17:06:59.5"},
		{"TIMESTAMP_LTZ", str("1616173619.000000000"), "2021-03-19T17:06:59Z"},
		{"TIMESTAMP_TZ", str("1616173619.000000000 1500"), "2021-03-19T18:06:59+01:00"},
		{"VARIANT", str(`{"a":[1,2]}`), json.RawMessage(`{"a":[1,2]}`)},
		{"TIMESTAMP_LTZ", str("soon"), "soon"},
	} {
		got := convert(column{Name: "C", Type: tc.typ}, tc.in)
		if gb, ok := got.(json.RawMessage); ok {
			if wb, ok := tc.want.(json.RawMessage); !ok || string(gb) != string(wb) {
				t.Errorf("%s %v = %s, want %v", tc.typ, tc.in, gb, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("%s %v = %#v, want %#v", tc.typ, tc.in, got, tc.want)
		}
	}
}

// TestCheckpointByType: the checkpoint is the largest value as its type
// orders it, and never goes back.
func TestCheckpointByType(t *testing.T) {
	t.Parallel()
	cur := func(typ, v string) *cursor {
		c, err := newCursor(column{Type: typ}, v)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if !cur("FIXED", "10").after(cur("FIXED", "9.99")) || cur("TEXT", "10").after(cur("TEXT", "9")) {
		t.Errorf("numbers must order as numbers, text as text")
	}
	if c := cur("DATE", "18262"); c.text != "2020-01-01" {
		t.Errorf("DATE checkpoint %q", c.text)
	}
	if c := cur("TIMESTAMP_NTZ", "1616173619.5"); c.text != "2021-03-19T17:06:59.5" {
		t.Errorf("TIMESTAMP_NTZ checkpoint %q", c.text)
	}
	if _, err := newCursor(column{Type: "TIMESTAMP_LTZ"}, "soon"); err == nil {
		t.Errorf("an unreadable timestamp was accepted")
	}
	prev, _ := newCursorFrom("time", "2030-01-01T00:00:00Z")
	if !prev.after(cur("TIMESTAMP_LTZ", "1616173619")) {
		t.Errorf("an older value must not move the checkpoint back")
	}
}
