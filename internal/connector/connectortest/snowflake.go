package connectortest

import (
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Snowflake's SQL API v2, following its documentation:
//   - authentication (https://docs.snowflake.com/en/developer-guide/sql-api/authenticating):
//     every request carries Authorization: Bearer <token> and
//     X-Snowflake-Authorization-Token-Type: KEYPAIR_JWT for a key-pair JWT or
//     PROGRAMMATIC_ACCESS_TOKEN for a programmatic access token
//     (https://docs.snowflake.com/en/user-guide/programmatic-access-tokens).
//     The JWT is RS256 with iss <ACCOUNT>.<USER>.SHA256:<fingerprint>, sub
//     <ACCOUNT>.<USER> (account identifier and user in uppercase, the account
//     without region or cloud), iat, and exp at most an hour after iat; the
//     fingerprint is the base64 SHA-256 of the DER public key assigned to the
//     user (RSA_PUBLIC_KEY_FP of DESCRIBE USER). A refused token is 401 with
//     {code, message} (390144 "JWT token is invalid." for a JWT);
//   - submitting statements (https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests):
//     POST /api/v2/statements with Content-Type and Accept application/json, a
//     User-Agent, optional query parameters requestId, async, nullable and
//     retry, and the body {statement, timeout, database, schema, warehouse,
//     role, bindings, parameters}; bindings are {"1": {type, value}, ...}, one
//     per ? placeholder, values as strings;
//   - handling responses (https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses):
//     200 with a ResultSet {resultSetMetaData {numRows, format jsonv2,
//     rowType [{name, type, scale, precision, nullable, ...}], partitionInfo
//     [{rowCount, uncompressedSize}]}, data (the first partition: rows of
//     strings, null for NULL), code 090001, statementHandle,
//     statementStatusUrl, sqlState 00000, message, createdOn}; 202 with a
//     QueryStatus {code 333334, message, statementHandle, statementStatusUrl}
//     while the statement runs (this fake: SetAsync), then GET
//     /api/v2/statements/{statementHandle} answers 202 again or the
//     ResultSet; GET ...?partition=N answers the rows of partition N
//     (gzip-compressed when the client accepts it); 422 QueryFailureStatus
//     {code, sqlState, message, statementHandle} for a statement that fails;
//     POST /api/v2/statements/{statementHandle}/cancel cancels it; 429 when
//     too many requests (this fake adds Retry-After: 1).
//     jsonv2 cells: TIMESTAMP_LTZ is seconds since the epoch with nine
//     decimals, FIXED a decimal string.
//
// The fake knows one user (CONNCTL_SVC of account MYORG-MYACCOUNT, locator
// XY12345), one role, warehouse, database and schema, one table ORDERS
// (ID, NAME, AMOUNT, UPDATED_AT) and the statements this suite sends: the
// key check's SELECT CURRENT_USER(), CURRENT_ACCOUNT(); SnowflakeQuery; and
// the query source's incremental wrapper SELECT * FROM (\n<query>\n) WHERE
// UPDATED_AT >= ?, bound as TEXT. The codes of refusals other than 390144,
// 333334 and 090001 are placeholders: Snowflake does not list them.
func init() {
	register(
		Case{Connector: "snowflake", Auth: "key_pair", Source: "query", Params: snowflakeParams, Account: SnowflakeUser, Start: startSnowflake("key_pair")},
		Case{Connector: "snowflake", Auth: "pat", Source: "query", Params: snowflakeParams, Account: SnowflakeUser, Start: startSnowflake("pat")},
	)
}

// The fake's account, user and table.
const (
	SnowflakeAccount = "myorg-myaccount"
	SnowflakeLocator = "XY12345"
	SnowflakeUser    = "CONNCTL_SVC"
	SnowflakeQuery   = "SELECT ID, NAME, AMOUNT, UPDATED_AT FROM ORDERS"
)

var snowflakeParams = []string{"query=" + SnowflakeQuery, "incremental_column=UPDATED_AT"}

// snowflakeContext is the role, warehouse, database and schema the fake
// knows; the connection's fields name them.
var snowflakeContext = map[string]string{"role": "ANALYST", "warehouse": "COMPUTE_WH", "database": "SALES", "schema": "PUBLIC"}

func startSnowflake(auth string) func(testing.TB) (*Fake, error) {
	return func(tb testing.TB) (*Fake, error) {
		s := NewSnowflake(tb, auth)
		if auth == "pat" {
			s.SetAsync(1) // the statements run long: 202, then the result
		}
		return s.Fake, nil
	}
}

// SnowflakeFake is the Snowflake fake with its switches, for the
// snowflake package's own tests as well as the conformance suite.
type SnowflakeFake struct {
	*Fake
	Key *rsa.PrivateKey // the user's key pair (key_pair)

	mu            sync.Mutex
	pub           *rsa.PublicKey
	fingerprint   string
	pat           string
	async         int // 202 answers before the result; < 0: never done
	partitionRows int
	checkFault    Fault
	checkForbid   bool
	checkMalform  bool
	next          int
	stmts         map[string]*sfStatement
	seen          []SnowflakeRequest
	cancels       []string
}

// SnowflakeRequest is a statement the fake was sent.
type SnowflakeRequest struct {
	Statement string
	Bindings  map[string]SnowflakeBinding
	Context   map[string]string // role, warehouse, database, schema
	TokenType string
}

// SnowflakeBinding is one bind variable.
type SnowflakeBinding struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sfStatement struct {
	rows      [][]any
	rowType   []map[string]any
	pollsLeft int
	cancelled bool
}

// NewSnowflake starts the fake for auth (key_pair or pat) with 2,500
// orders, in partitions of 1,000 rows, answering every statement at once.
func NewSnowflake(tb testing.TB, auth string) *SnowflakeFake {
	tb.Helper()
	s := &SnowflakeFake{Fake: &Fake{Data: NewDataset(2500, func(i int) string { return fmt.Sprintf("ORD-%06d", i) })},
		partitionRows: 1000, stmts: map[string]*sfStatement{}}
	switch auth {
	case "key_pair":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		bad, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		s.Key, s.pub = key, &key.PublicKey
		s.fingerprint = SnowflakeFingerprint(&key.PublicKey)
		s.Secret, s.BadSecret = snowflakePEM(tb, key), snowflakePEM(tb, bad)
		s.SecretFile = true
	case "pat":
		s.pat = "pat-" + Canary + "-eyJraWQiOiJQQVQiLCJhbGciOiJFUzI1NiJ9"
		s.Secret, s.BadSecret = s.pat, "pat-"+Canary+"-revoked000000000000000000000"
	default:
		tb.Fatalf("snowflake fake: unknown auth %q", auth)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/statements", s.submit)
	mux.HandleFunc("GET /api/v2/statements/{handle}", s.status)
	mux.HandleFunc("POST /api/v2/statements/{handle}/cancel", s.cancel)
	srv := Serve(tb, mux)
	s.URL = srv.URL
	s.Set = []string{"auth=" + auth, "account=" + SnowflakeAccount, "user=connctl_svc", "base_url=" + srv.URL}
	for _, k := range []string{"role", "warehouse", "database", "schema"} {
		s.Set = append(s.Set, k+"="+snowflakeContext[k])
	}
	return s
}

// SnowflakeFingerprint is the public key's fingerprint as Snowflake shows it
// (RSA_PUBLIC_KEY_FP): SHA256: and the base64 SHA-256 of the DER
// SubjectPublicKeyInfo.
func SnowflakeFingerprint(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(der)
	return "SHA256:" + base64.StdEncoding.EncodeToString(sum[:])
}

// snowflakePEM is the key as rsa_key.p8 (PKCS#8, unencrypted), after the
// attribute lines `openssl pkcs12` writes before it, which carry the
// canary so that the suite finds the key wherever it leaks.
func snowflakePEM(tb testing.TB, key *rsa.PrivateKey) string {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return "Bag Attributes\n    friendlyName: conformance-" + Canary + "\nKey Attributes: <No Attributes>\n" +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// SetAsync makes every statement answer 202 n times (to the POST, then to
// status requests) before its result; n < 0: never finish.
func (s *SnowflakeFake) SetAsync(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.async = n
}

// SetPartitionRows sets the rows per partition of later results.
func (s *SnowflakeFake) SetPartitionRows(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partitionRows = n
}

// SetCheckAnswer makes the key check's statement answer a fault (Throttle:
// 429 with Retry-After: 7; Fail: 503), a 403 (forbid) or a 200 that is
// not JSON (malformed).
func (s *SnowflakeFake) SetCheckAnswer(f Fault, forbid, malformed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkFault, s.checkForbid, s.checkMalform = f, forbid, malformed
}

// Requests returns the statements the fake was sent, in order.
func (s *SnowflakeFake) Requests() []SnowflakeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SnowflakeRequest(nil), s.seen...)
}

// Cancels returns the handles of the statements cancelled.
func (s *SnowflakeFake) Cancels() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.cancels...)
}

func sfError(w http.ResponseWriter, status int, code, sqlState, msg, handle string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"code": code, "message": msg}
	if sqlState != "" {
		body["sqlState"] = sqlState
	}
	if handle != "" {
		body["statementHandle"] = handle
		body["statementStatusUrl"] = "/api/v2/statements/" + handle
	}
	writeJSONBody(w, body)
}

// authorized checks the documented headers and the token.
func (s *SnowflakeFake) authorized(w http.ResponseWriter, r *http.Request) (string, bool) {
	if r.Header.Get("User-Agent") == "" {
		sfError(w, http.StatusBadRequest, "391903", "", "User-Agent header is required", "")
		return "", false
	}
	if !strings.HasPrefix(r.Header.Get("Accept"), "application/json") {
		sfError(w, http.StatusUnsupportedMediaType, "391904", "", "Accept must be application/json", "")
		return "", false
	}
	typ := r.Header.Get("X-Snowflake-Authorization-Token-Type")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		sfError(w, http.StatusUnauthorized, "390101", "", "Authorization header is missing or not a Bearer token.", "")
		return "", false
	}
	switch {
	case typ == "KEYPAIR_JWT" && s.pub != nil:
		if why := s.checkJWT(tok); why != "" {
			sfError(w, http.StatusUnauthorized, "390144", "", "JWT token is invalid. ["+why+"]", "")
			return "", false
		}
	case typ == "PROGRAMMATIC_ACCESS_TOKEN" && s.pat != "":
		if tok != s.pat {
			sfError(w, http.StatusUnauthorized, "394400", "", "Programmatic access token is invalid.", "")
			return "", false
		}
	default:
		sfError(w, http.StatusUnauthorized, "390100", "", "Authorization token type "+strconv.Quote(typ)+" is not accepted for this user.", "")
		return "", false
	}
	return typ, true
}

// checkJWT verifies a key-pair JWT as Snowflake does; it returns what is
// wrong, or "".
func (s *SnowflakeFake) checkJWT(tok string) string {
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return "not an RS256 JWT"
	}
	if len(parsed.Headers) != 1 || parsed.Headers[0].Algorithm != "RS256" {
		return "alg is not RS256"
	}
	var c jwt.Claims
	if err := parsed.Claims(s.pub, &c); err != nil {
		return "signature does not verify with the user's public key"
	}
	qualified := strings.ToUpper(strings.SplitN(SnowflakeAccount, ".", 2)[0]) + "." + SnowflakeUser
	switch {
	case c.Issuer != qualified+"."+s.fingerprint:
		return "iss is not ACCOUNT.USER.SHA256:fingerprint of the user's key"
	case c.Subject != qualified:
		return "sub is not ACCOUNT.USER"
	case c.IssuedAt == nil || c.Expiry == nil:
		return "iat and exp are required"
	}
	now := time.Now()
	iat, exp := c.IssuedAt.Time(), c.Expiry.Time()
	switch {
	case iat.After(now.Add(time.Minute)):
		return "iat is in the future"
	case !exp.After(now):
		return "the JWT has expired"
	case exp.Sub(iat) > time.Hour:
		return "exp is more than an hour after iat"
	}
	return ""
}

var (
	sfCheckSQL    = regexp.MustCompile(`(?i)^\s*SELECT\s+CURRENT_USER\(\)\s*,\s*CURRENT_ACCOUNT\(\)\s*;?\s*$`)
	sfWrapped     = regexp.MustCompile(`(?is)^SELECT \* FROM \(\n(.*)\n\) WHERE (\w+) >= \?$`)
	sfHandleShape = regexp.MustCompile(`^[0-9a-f]{8}-0000-0000-0000-[0-9a-f]{12}$`)
)

// sfBody is the documented request body; other fields are refused.
type sfBody struct {
	Statement  *string                     `json:"statement"`
	Timeout    *int                        `json:"timeout"`
	Database   string                      `json:"database"`
	Schema     string                      `json:"schema"`
	Warehouse  string                      `json:"warehouse"`
	Role       string                      `json:"role"`
	Bindings   map[string]SnowflakeBinding `json:"bindings"`
	Parameters map[string]string           `json:"parameters"`
}

var sfBindTypes = map[string]bool{"FIXED": true, "REAL": true, "TEXT": true, "BINARY": true, "BOOLEAN": true, "DATE": true,
	"TIME": true, "TIMESTAMP_TZ": true, "TIMESTAMP_LTZ": true, "TIMESTAMP_NTZ": true}

func (s *SnowflakeFake) submit(w http.ResponseWriter, r *http.Request) {
	typ, ok := s.authorized(w, r)
	if !ok {
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		sfError(w, http.StatusUnsupportedMediaType, "391905", "", "Content-Type must be application/json", "")
		return
	}
	for k := range r.URL.Query() {
		if k != "requestId" && k != "async" && k != "nullable" && k != "retry" {
			sfError(w, http.StatusBadRequest, "391906", "", "unknown query parameter "+k, "")
			return
		}
	}
	var b sfBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil || b.Statement == nil || strings.TrimSpace(*b.Statement) == "" {
		sfError(w, http.StatusBadRequest, "391902", "", "the request body is not a statement request", "")
		return
	}
	stmt := *b.Statement
	if n := strings.Count(stmt, "?"); n != len(b.Bindings) {
		sfError(w, http.StatusUnprocessableEntity, "002049", "42601", fmt.Sprintf("SQL compilation error: %d bind variables for %d placeholders", len(b.Bindings), n), "")
		return
	}
	for k, v := range b.Bindings {
		if i, err := strconv.Atoi(k); err != nil || i < 1 || i > len(b.Bindings) || !sfBindTypes[v.Type] {
			sfError(w, http.StatusBadRequest, "391907", "", "bindings must be {\"1\": {type, value}, ...} with a Snowflake type", "")
			return
		}
	}
	ctx := map[string]string{"role": b.Role, "warehouse": b.Warehouse, "database": b.Database, "schema": b.Schema}
	s.mu.Lock()
	s.seen = append(s.seen, SnowflakeRequest{Statement: stmt, Bindings: b.Bindings, Context: ctx, TokenType: typ})
	fault, forbid, malformed := s.checkFault, s.checkForbid, s.checkMalform
	s.mu.Unlock()
	for k, v := range ctx {
		// Case-sensitive, as SHOW lists them (the docs).
		if v != "" && v != snowflakeContext[k] {
			sfError(w, http.StatusUnprocessableEntity, "390189", "08004", fmt.Sprintf("%s '%s' does not exist or not authorized.", k, v), "")
			return
		}
	}
	if sfCheckSQL.MatchString(stmt) {
		switch {
		case forbid:
			sfError(w, http.StatusForbidden, "390102", "", "User access disabled by network policy.", "")
			return
		case fault == Throttle:
			w.Header().Set("Retry-After", "7")
			sfError(w, http.StatusTooManyRequests, "000610", "", "Too many requests.", "")
			return
		case fault == Fail:
			sfError(w, http.StatusServiceUnavailable, "000605", "", "Service unavailable.", "")
			return
		case malformed:
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html>maintenance</html>"))
			return
		}
		rowType := []map[string]any{sfColumn("CURRENT_USER()", "TEXT", 0), sfColumn("CURRENT_ACCOUNT()", "TEXT", 0)}
		s.respond(w, s.start([][]any{{SnowflakeUser, SnowflakeLocator}}, rowType), 0)
		return
	}
	if s.dataFault(w) {
		return
	}
	base, since, inc := stmt, time.Time{}, false
	if m := sfWrapped.FindStringSubmatch(stmt); m != nil {
		bind := b.Bindings["1"]
		t, err := time.Parse(time.RFC3339Nano, bind.Value)
		if !strings.EqualFold(m[2], "UPDATED_AT") || bind.Type != "TEXT" || err != nil {
			sfError(w, http.StatusUnprocessableEntity, "100035", "22007", "Timestamp '"+bind.Value+"' is not recognized", "")
			return
		}
		base, since, inc = m[1], t, true
	}
	if !strings.EqualFold(strings.Join(strings.Fields(strings.TrimSuffix(strings.TrimSpace(base), ";")), " "), SnowflakeQuery) {
		sfError(w, http.StatusUnprocessableEntity, "001003", "42000", "SQL compilation error: this fake knows only "+SnowflakeQuery, "")
		return
	}
	if inc {
		s.Data.SawSince(since)
	}
	var rows [][]any
	for _, rec := range s.Data.Since(since, true) {
		rows = append(rows, []any{rec.ID, fmt.Sprintf("Order %d", rec.Seq), fmt.Sprintf("%d.50", 10+rec.Seq%90),
			fmt.Sprintf("%d.%09d", rec.Modified.Unix(), rec.Modified.Nanosecond())})
	}
	rowType := []map[string]any{sfColumn("ID", "TEXT", 0), sfColumn("NAME", "TEXT", 0), sfColumn("AMOUNT", "FIXED", 2), sfColumn("UPDATED_AT", "TIMESTAMP_LTZ", 9)}
	s.respond(w, s.start(rows, rowType), 0)
}

func sfColumn(name, typ string, scale int) map[string]any {
	c := map[string]any{"name": name, "database": "SALES", "schema": "PUBLIC", "table": "ORDERS", "type": typ, "nullable": true,
		"scale": nil, "precision": nil, "length": nil, "byteLength": nil, "collation": nil}
	switch typ {
	case "FIXED":
		c["scale"], c["precision"] = scale, 12
	case "TIMESTAMP_LTZ":
		c["scale"], c["precision"] = scale, 0
	case "TEXT":
		c["length"], c["byteLength"] = 16777216, 16777216
	}
	return c
}

// dataFault answers a data request's fault, if it has one.
func (s *SnowflakeFake) dataFault(w http.ResponseWriter) bool {
	switch s.Data.Fault() {
	case Throttle:
		w.Header().Set("Retry-After", "1")
		sfError(w, http.StatusTooManyRequests, "000610", "", "Too many requests.", "")
		return true
	case Fail:
		sfError(w, http.StatusServiceUnavailable, "000605", "", "Service unavailable.", "")
		return true
	}
	return false
}

// start records a statement and returns its handle.
func (s *SnowflakeFake) start(rows [][]any, rowType []map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	h := fmt.Sprintf("01bd%04x-0000-0000-0000-%012x", s.next, s.next)
	s.stmts[h] = &sfStatement{rows: rows, rowType: rowType, pollsLeft: s.async}
	return h
}

// respond answers for statement h: 202 while it runs, else partition part.
func (s *SnowflakeFake) respond(w http.ResponseWriter, h string, part int) {
	s.mu.Lock()
	st := s.stmts[h]
	running, cancelled := st.pollsLeft != 0, st.cancelled
	if st.pollsLeft > 0 {
		st.pollsLeft--
	}
	size := s.partitionRows
	s.mu.Unlock()
	if cancelled {
		sfError(w, http.StatusUnprocessableEntity, "000604", "57014", "SQL execution canceled", h)
		return
	}
	if running {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		writeJSONBody(w, map[string]any{"code": "333334", "message": "Asynchronous execution in progress. Use provided query id to perform query monitoring and management.",
			"statementHandle": h, "statementStatusUrl": "/api/v2/statements/" + h})
		return
	}
	var parts [][][]any
	for i := 0; i < len(st.rows); i += size {
		parts = append(parts, st.rows[i:min(i+size, len(st.rows))])
	}
	if len(parts) == 0 {
		parts = [][][]any{{}}
	}
	if part >= len(parts) {
		sfError(w, http.StatusUnprocessableEntity, "391908", "", "partition "+strconv.Itoa(part)+" does not exist", h)
		return
	}
	if part > 0 {
		w.Header().Set("Content-Type", "application/json")
		gz := gzip.NewWriter(w)
		w.Header().Set("Content-Encoding", "gzip")
		_ = json.NewEncoder(gz).Encode(map[string]any{"data": parts[part]})
		_ = gz.Close()
		return
	}
	var info []map[string]any
	for _, p := range parts {
		b, _ := json.Marshal(p)
		info = append(info, map[string]any{"rowCount": len(p), "uncompressedSize": len(b)})
	}
	writeJSON(w, map[string]any{
		"resultSetMetaData": map[string]any{"numRows": len(st.rows), "format": "jsonv2", "partitionInfo": info, "rowType": st.rowType},
		"data":              parts[0], "code": "090001", "statementHandle": h, "statementStatusUrl": "/api/v2/statements/" + h,
		"requestId": "2a1b3c4d-0000-4000-8000-" + h[len(h)-12:], "sqlState": "00000", "message": "Statement executed successfully.",
		"createdOn": time.Now().UnixMilli(),
	})
}

func (s *SnowflakeFake) known(w http.ResponseWriter, r *http.Request) (string, bool) {
	h := r.PathValue("handle")
	s.mu.Lock()
	_, ok := s.stmts[h]
	s.mu.Unlock()
	if !sfHandleShape.MatchString(h) || !ok {
		sfError(w, http.StatusNotFound, "333333", "", "Statement "+strconv.Quote(h)+" not found", "")
		return "", false
	}
	return h, true
}

func (s *SnowflakeFake) status(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authorized(w, r); !ok {
		return
	}
	h, ok := s.known(w, r)
	if !ok {
		return
	}
	part := 0
	for k, v := range r.URL.Query() {
		switch k {
		case "partition":
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 0 {
				sfError(w, http.StatusBadRequest, "391909", "", "partition must be a number", h)
				return
			}
			part = n
		case "requestId":
		default:
			sfError(w, http.StatusBadRequest, "391906", "", "unknown query parameter "+k, "")
			return
		}
	}
	if s.dataFault(w) {
		return
	}
	if part > 0 && !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		// Snowflake sends later partitions compressed.
		sfError(w, http.StatusBadRequest, "391910", "", "this fake sends partitions gzip-compressed only", h)
		return
	}
	s.respond(w, h, part)
}

func (s *SnowflakeFake) cancel(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.authorized(w, r); !ok {
		return
	}
	h, ok := s.known(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.stmts[h].cancelled = true
	s.cancels = append(s.cancels, h)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"code": "000604", "sqlState": "57014", "message": "SQL execution canceled", "statementHandle": h,
		"statementStatusUrl": "/api/v2/statements/" + h})
}
