package snowflake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/jobrunner"
)

const (
	// firstPoll and maxPoll bound the wait between two status requests of
	// a statement still running (202): it doubles from firstPoll up to
	// maxPoll. The run's context (Ctrl-C, --timeout) ends the wait.
	firstPoll = 250 * time.Millisecond
	maxPoll   = 5 * time.Second
	// cancelWait bounds the best-effort cancel of a statement left running.
	cancelWait = 10 * time.Second
	maxMessage = 300
)

// QuerySource returns the `query` source: the rows of the job's `query`
// parameter (one SQL statement) through the SQL API v2.
//
//	POST {base}/api/v2/statements {statement, role, warehouse, database, schema[, bindings]}
//	GET  {base}/api/v2/statements/{handle}               while it answers 202
//	GET  {base}/api/v2/statements/{handle}?partition=N   for N = 1 .. len(partitionInfo)-1
//
// A 200 answer holds the result's first partition (data) and its metadata
// (rowType, partitionInfo); a statement that runs longer than Snowflake's
// wait is answered 202 with its statementHandle, and the source asks for
// its status, waiting 250 ms, then twice as long each time up to 5 s,
// until the answer is 200. Each row (an array of strings, null for NULL) is
// a record keyed by rowType's names; values are converted by type (see
// convert). When the run stops before the statement finished (Ctrl-C, the
// run's time limit, a failure), the source asks Snowflake to cancel it
// (POST .../{handle}/cancel), best effort.
// https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests
// https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses
//
// Incremental runs (the job names incremental_column, an unquoted column of
// the result): the first run sends the query as it is; later runs send
//
//	SELECT * FROM (
//	<query>
//	) WHERE <incremental_column> >= ?
//
// with the checkpoint as bind variable 1 (type TEXT; Snowflake casts it to
// the column's type in the comparison), never pasted into the SQL
// (https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests#using-bind-variables-in-a-statement).
// The checkpoint is the largest value of the column among the rows
// returned (a TIMESTAMP_LTZ/TZ as RFC 3339 UTC, a TIMESTAMP_NTZ as its
// wall-clock time, a DATE as YYYY-MM-DD, a number as Snowflake wrote it,
// a text as it is), or the previous one when no row came: at-least-once at
// the checkpoint value, deduplicate on the query's key. No ORDER BY is
// added: the checkpoint is the largest value of the whole result, and the
// output is kept only when the run succeeds.
//
// Authorization: auth=key_pair signs an RS256 JWT with private_key (valid
// 59 minutes) and signs a new one once when Snowflake answers 401;
// auth=pat sends the token. 429 and 5xx are retried with backoff
// (Retry-After honoured) by the run's HTTP client; 422 (the statement
// failed) and 400 are config failures carrying Snowflake's code, SQL state
// and message.
func QuerySource() jobrunner.Source { return &querySource{now: time.Now} }

type querySource struct {
	now func() time.Time
}

func (s *querySource) Fetch(ctx context.Context, req jobrunner.Request, emit func(jobrunner.Record) error) (cp string, err error) {
	c, err := newClient(req, s.now)
	if err != nil {
		return "", err
	}
	query := strings.TrimSpace(req.Params["query"])
	if query == "" {
		return "", configErr("the query source needs the query parameter (one SQL statement)")
	}
	col := strings.TrimSpace(req.Params["incremental_column"])
	if col != "" && validateColumn(col) != nil {
		return "", configErr(validateColumn(col).Error())
	}
	statement, binds := query, []binding(nil)
	if col != "" && req.Since != "" {
		// A newline before the closing parenthesis, so that a trailing
		// -- comment in the query cannot swallow it.
		statement = "SELECT * FROM (\n" + strings.TrimRight(strings.TrimSpace(query), ";") + "\n) WHERE " + col + " >= ?"
		binds = []binding{{Type: "TEXT", Value: req.Since}}
	}
	body, err := statementBody(statement, c.context, binds)
	if err != nil {
		return "", err
	}
	rs, status, err := c.call(ctx, http.MethodPost, statementsPath, nil, body)
	if err != nil {
		return "", err
	}
	handle := rs.StatementHandle
	if handle != "" && !handleShape().MatchString(handle) {
		return "", srcErr("the statement's handle is not a handle")
	}
	done := status != http.StatusAccepted
	defer func() {
		if err != nil && !done && handle != "" {
			c.cancel(ctx, handle)
		}
	}()
	wait := firstPoll
	for status == http.StatusAccepted {
		if handle == "" {
			return "", srcErr("a 202 answer without a statementHandle")
		}
		if err := req.HTTP.Sleep(ctx, wait); err != nil {
			return "", err
		}
		wait = min(wait*2, maxPoll)
		// The same request, answered alike while the statement runs, is
		// no pagination loop.
		if rs, status, err = c.call(jobrunner.Poll(ctx), http.MethodGet, statementsPath+"/"+handle, nil, nil); err != nil {
			return "", err
		}
	}
	done = true
	if rs.Meta == nil {
		return "", srcErr("the result has no resultSetMetaData")
	}
	if f := strings.ToLower(rs.Meta.Format); f != "" && f != "jsonv2" {
		return "", srcErr(fmt.Sprintf("the result is in format %q, not jsonv2", clip(rs.Meta.Format)))
	}
	cols := rs.Meta.RowType
	idx := -1
	if col != "" {
		for i, rc := range cols {
			if strings.EqualFold(rc.Name, col) {
				idx = i
			}
		}
		if idx < 0 {
			return "", configErr(fmt.Sprintf("incremental_column %s is not a column of the query's result", col))
		}
		if !incrementalType(cols[idx].Type) {
			return "", configErr(fmt.Sprintf("incremental_column %s is of type %s: use a timestamp, date, number or text column", col, clip(cols[idx].Type)))
		}
	}
	var best *cursor
	take := func(rows [][]*string) error {
		for _, row := range rows {
			if len(row) != len(cols) {
				return srcErr(fmt.Sprintf("a row has %d values for %d columns", len(row), len(cols)))
			}
			rec := make(jobrunner.Record, len(cols))
			for i, rc := range cols {
				rec[rc.Name] = convert(rc, row[i])
			}
			if idx >= 0 {
				if row[idx] == nil {
					req.HTTP.Stats().WithoutCursor.Add(1)
				} else {
					cur, err := newCursor(cols[idx], *row[idx])
					if err != nil {
						return srcErr(fmt.Sprintf("incremental_column %s: %v", cols[idx].Name, err))
					}
					if best == nil || cur.after(best) {
						best = cur
					}
				}
			}
			if err := emit(rec); err != nil {
				return err
			}
		}
		return nil
	}
	if err := take(rs.Data); err != nil {
		return "", err
	}
	for p := 1; p < len(rs.Meta.PartitionInfo); p++ {
		part, _, err := c.call(ctx, http.MethodGet, statementsPath+"/"+handle, url.Values{"partition": {strconv.Itoa(p)}}, nil)
		if err != nil {
			return "", err
		}
		if err := take(part.Data); err != nil {
			return "", err
		}
	}
	switch {
	case col == "":
		return "", nil
	case best == nil:
		return req.Since, nil
	}
	if req.Since != "" {
		if prev, err := newCursorFrom(best.kind, req.Since); err == nil && prev.after(best) {
			return req.Since, nil // forward only
		}
	}
	return best.text, nil
}

// client sends the SQL API requests of one run.
type client struct {
	http      *jobrunner.HTTP
	base      string
	context   map[string]string
	cred      *jobrunner.Credential
	tokenType string
}

func newClient(req jobrunner.Request, now func() time.Time) (*client, error) {
	acct := strings.TrimSpace(req.Fields["account"])
	user := strings.TrimSpace(req.Fields["user"])
	if acct == "" || user == "" {
		return nil, configErr("the connection needs account and user")
	}
	base := strings.TrimRight(strings.TrimSpace(req.Fields["base_url"]), "/")
	if base == "" {
		base = defaultBase(acct)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, configErr(fmt.Sprintf("base_url %q is not an http(s) URL", base))
	}
	c := &client{http: req.HTTP.WithExplain(explain), base: base, context: map[string]string{}}
	for _, k := range contextFields {
		if v := strings.TrimSpace(req.Fields[k]); v != "" {
			c.context[k] = v
		}
	}
	method := req.Fields["auth"]
	if method == "" {
		method = AuthKeyPair
	}
	switch method {
	case AuthKeyPair:
		raw := req.Secrets["private_key"]
		if strings.TrimSpace(raw) == "" {
			return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "snowflake: the connection has no private_key: give rsa_key.p8 with --secret-file"}
		}
		kp, err := parsePrivateKey(raw)
		if err != nil {
			return nil, configErr(err.Error())
		}
		c.tokenType = tokenTypeJWT
		// A JWT per run, and a new one when Snowflake refuses it (401),
		// e.g. after its hour.
		c.cred = jobrunner.TokenCredential("Bearer", func(context.Context, bool) (string, error) {
			tok, err := kp.token(acct, user, now())
			if err != nil {
				return "", &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "snowflake: cannot sign a JWT with private_key"}
			}
			return tok, nil
		})
	case AuthPAT:
		tok := strings.TrimSpace(req.Secrets["token"])
		if tok == "" {
			return nil, &jobrunner.Failure{Reason: jobrunner.ReasonAuth, Message: "snowflake: the connection has no token: give it with --secret-stdin"}
		}
		c.tokenType = tokenTypePAT
		c.cred = jobrunner.StaticCredential("Bearer " + tok)
	default:
		return nil, configErr(fmt.Sprintf("unknown auth method %q (use key_pair or pat)", clip(method)))
	}
	return c, nil
}

// call sends one request and decodes a 2xx answer (200 or 202).
func (c *client) call(ctx context.Context, method, path string, q url.Values, body []byte) (*resultSet, int, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var r *http.Request
	status, _, resp, renewed, err := c.cred.Do(ctx, c.http, func() (*http.Request, error) {
		var err error
		if r, err = jobrunner.JSONRequest(ctx, "snowflake", method, u, body); err != nil {
			return nil, err
		}
		r.Header.Set(tokenTypeHeader, c.tokenType)
		return r, nil
	})
	if err != nil {
		var f *jobrunner.Failure
		if errors.As(err, &f) && f == err && status == http.StatusUnauthorized && renewed {
			err = &jobrunner.Failure{Reason: f.Reason, Message: f.Message + " (again with a new JWT)"}
		}
		return nil, status, jobrunner.WithPrefix("snowflake", err)
	}
	var rs resultSet
	if err := json.NewDecoder(bytes.NewReader(resp)).Decode(&rs); err != nil {
		return nil, status, srcErr(fmt.Sprintf("%s %s%s: malformed JSON: %v", method, r.URL.Host, r.URL.EscapedPath(), err))
	}
	return &rs, status, nil
}

// cancel asks Snowflake to stop a statement the run leaves running, with a
// context of its own (the run's may be cancelled already), best effort.
// https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses#cancelling-the-execution-of-a-sql-statement
func (c *client) cancel(ctx context.Context, handle string) {
	cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), cancelWait)
	defer stop()
	_, _, _ = c.call(cctx, http.MethodPost, statementsPath+"/"+handle+"/cancel", nil, nil)
}

// explain adds Snowflake's error code, SQL state and message to a failed
// answer and classifies it: 422 (the statement failed: a SQL error, an
// object that does not exist or is not granted) and 400 are config; 408
// (the statement's timeout) a source error.
func explain(status int, body []byte, _ http.Header, f *jobrunner.Failure) *jobrunner.Failure {
	var e sfError
	if json.Unmarshal(body, &e) != nil || (e.Code == "" && e.Message == "") {
		return nil
	}
	reason := f.Reason
	switch status {
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		reason = jobrunner.ReasonConfig
	}
	return &jobrunner.Failure{Reason: reason, Message: f.Message + ": " + e.describe(func(s string) string { return clip(s) })}
}

// incrementalType reports whether a column of this type can be the
// incremental column.
func incrementalType(t string) bool {
	switch strings.ToUpper(t) {
	case "FIXED", "NUMBER", "REAL", "FLOAT", "DECFLOAT", "DATE", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "TEXT":
		return true
	}
	return false
}

// A cursor is a value of the incremental column, comparable with others
// of its kind, and the checkpoint text it becomes.
type cursor struct {
	kind string // "number", "time", "text"
	num  *big.Rat
	at   time.Time
	text string
}

func (a *cursor) after(b *cursor) bool {
	switch a.kind {
	case "number":
		return a.num.Cmp(b.num) > 0
	case "time":
		return a.at.After(b.at)
	}
	return a.text > b.text
}

// newCursor reads a jsonv2 cell of the incremental column.
func newCursor(c column, v string) (*cursor, error) {
	switch strings.ToUpper(c.Type) {
	case "FIXED", "NUMBER", "REAL", "FLOAT", "DECFLOAT":
		r, ok := new(big.Rat).SetString(v)
		if !ok {
			return nil, fmt.Errorf("value %q is not a number", clip(v))
		}
		return &cursor{kind: "number", num: r, text: v}, nil
	case "DATE":
		d, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("DATE value %q is not days since 1970", clip(v))
		}
		t := time.Unix(d*86400, 0).UTC()
		return &cursor{kind: "time", at: t, text: t.Format(time.DateOnly)}, nil
	case "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ":
		t, err := epoch(v)
		if err != nil {
			return nil, err
		}
		if strings.EqualFold(c.Type, "TIMESTAMP_NTZ") {
			return &cursor{kind: "time", at: t, text: t.Format("2006-01-02T15:04:05.999999999")}, nil
		}
		return &cursor{kind: "time", at: t, text: t.Format(time.RFC3339Nano)}, nil
	}
	return &cursor{kind: "text", text: v}, nil
}

// newCursorFrom reads a checkpoint of kind back.
func newCursorFrom(kind, text string) (*cursor, error) {
	switch kind {
	case "number":
		r, ok := new(big.Rat).SetString(text)
		if !ok {
			return nil, errors.New("not a number")
		}
		return &cursor{kind: kind, num: r, text: text}, nil
	case "time":
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.DateOnly} {
			if t, err := time.Parse(l, text); err == nil {
				return &cursor{kind: kind, at: t, text: text}, nil
			}
		}
		return nil, errors.New("not a time")
	}
	return &cursor{kind: kind, text: text}, nil
}

// epoch reads a jsonv2 timestamp: seconds since the epoch with a fraction
// ("1616173619.000000000"), for TIMESTAMP_TZ followed by a space and the
// offset in minutes plus 1440. The instant is returned in UTC (for
// TIMESTAMP_NTZ: the wall-clock time, read as UTC).
func epoch(v string) (time.Time, error) {
	secs, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	r, ok := new(big.Rat).SetString(secs)
	if !ok {
		return time.Time{}, fmt.Errorf("timestamp value %q is not seconds since 1970", clip(v))
	}
	ns := new(big.Rat).Mul(r, big.NewRat(1e9, 1))
	n := new(big.Int).Quo(ns.Num(), ns.Denom())
	if !n.IsInt64() {
		return time.Time{}, fmt.Errorf("timestamp value %q is out of range", clip(v))
	}
	return time.Unix(0, n.Int64()).UTC(), nil
}

// convert turns a jsonv2 cell into a record value: NULL is null; FIXED,
// NUMBER, REAL, FLOAT and DECFLOAT are JSON numbers holding exactly the
// digits Snowflake sent (NaN and infinities stay strings); BOOLEAN a JSON
// boolean; DATE YYYY-MM-DD; TIME hh:mm:ss.fffffffff; TIMESTAMP_NTZ its
// wall-clock time without zone, TIMESTAMP_LTZ RFC 3339 UTC, TIMESTAMP_TZ
// RFC 3339 in its offset; VARIANT, OBJECT and ARRAY the JSON they hold;
// anything else (TEXT, BINARY as hex, GEOGRAPHY...) the string as sent. A
// value that does not read as its type is kept as the string.
func convert(c column, v *string) any {
	if v == nil {
		return nil
	}
	s := *v
	switch strings.ToUpper(c.Type) {
	case "FIXED", "NUMBER", "REAL", "FLOAT", "DECFLOAT":
		if s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) && json.Valid([]byte(s)) {
			return json.Number(s)
		}
	case "BOOLEAN":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case "DATE":
		if d, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(d*86400, 0).UTC().Format(time.DateOnly)
		}
	case "TIME":
		if t, err := epoch(s); err == nil {
			return t.Format("15:04:05.999999999")
		}
	case "TIMESTAMP_NTZ":
		if t, err := epoch(s); err == nil {
			return t.Format("2006-01-02T15:04:05.999999999")
		}
	case "TIMESTAMP_LTZ":
		if t, err := epoch(s); err == nil {
			return t.Format(time.RFC3339Nano)
		}
	case "TIMESTAMP_TZ":
		if t, err := epoch(s); err == nil {
			if _, off, ok := strings.Cut(s, " "); ok {
				if m, err := strconv.Atoi(off); err == nil {
					t = t.In(time.FixedZone("", (m-1440)*60))
				}
			}
			return t.Format(time.RFC3339Nano)
		}
	case "VARIANT", "OBJECT", "ARRAY", "MAP":
		if json.Valid([]byte(s)) {
			return json.RawMessage(s)
		}
	}
	return s
}

func configErr(m string) error {
	return &jobrunner.Failure{Reason: jobrunner.ReasonConfig, Message: "snowflake: " + m}
}

func srcErr(m string) error {
	return &jobrunner.Failure{Reason: jobrunner.ReasonSourceError, Message: "snowflake: " + m}
}

func clip(s string) string { return jobrunner.Clip(s, maxMessage) }
