package snowflake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/connctl/connctl/internal/keycheck"
)

// whoAmI is the key check's statement.
const whoAmI = "SELECT CURRENT_USER(), CURRENT_ACCOUNT()"

// checkKeyPair tests a key-pair connection: it signs a JWT with private_key
// and runs whoAmI through POST /api/v2/statements with the connection's
// role, warehouse, database and schema, so that a wrong one shows now.
// https://docs.snowflake.com/en/developer-guide/sql-api/authenticating
// https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests
func checkKeyPair(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, err := needFields(in)
	if err != nil {
		return nil, err
	}
	raw := in.FileSecret("private_key")
	if raw == "" {
		return nil, in.MissingSecret("private_key", "--secret-file rsa_key.p8")
	}
	kp, err := parsePrivateKey(raw)
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: err.Error()}
	}
	tok, err := kp.token(fs.account, fs.user, time.Now())
	if err != nil {
		return nil, &keycheck.Error{Kind: keycheck.KindConfig, Message: "cannot sign a JWT with private_key: create the key again as the key-pair guide shows"}
	}
	in.Sensitive(tok)
	return whoAmICheck(ctx, in, fs, tok, tokenTypeJWT, keycheck.Fixes{
		Unauthorized: fmt.Sprintf("check that user %s holds the public key of private_key (DESCRIBE USER %s shows RSA_PUBLIC_KEY_FP %s), and check account and user",
			fs.user, fs.user, kp.fingerprint),
		Forbidden: "user " + fs.user + " may not sign in from here: check the account's network policy, and that the user is not disabled",
		NotFound:  "check account (e.g. myorg-myaccount)",
	})
}

// checkPAT tests a programmatic-access-token connection as checkKeyPair
// does, with the token as the bearer.
// https://docs.snowflake.com/en/user-guide/programmatic-access-tokens
func checkPAT(ctx context.Context, in *keycheck.Call) (*keycheck.Identity, error) {
	fs, err := needFields(in)
	if err != nil {
		return nil, err
	}
	tok, err := in.Secret("token")
	if err != nil {
		return nil, err
	}
	return whoAmICheck(ctx, in, fs, tok, tokenTypePAT, keycheck.Fixes{
		Unauthorized: "check token (it may have expired or been removed: ALTER USER " + fs.user + " ADD PROGRAMMATIC ACCESS TOKEN makes a new one), and check account and user",
		Forbidden:    "user " + fs.user + " may not use the token from here: a programmatic access token needs a network policy that allows this computer",
		NotFound:     "check account (e.g. myorg-myaccount)",
	})
}

// conn is what every request of a connection needs.
type conn struct {
	account, user string
	base          string
	context       map[string]string // role, warehouse, database, schema (non-empty only)
}

func needFields(in *keycheck.Call) (*conn, error) {
	acct, err := in.Field("account")
	if err != nil {
		return nil, err
	}
	user, err := in.Field("user")
	if err != nil {
		return nil, err
	}
	c := &conn{account: acct, user: user, base: in.BaseURL(defaultBase(acct)), context: map[string]string{}}
	for _, k := range contextFields {
		if v := in.Optional(k, ""); v != "" {
			c.context[k] = v
		}
	}
	return c, nil
}

// whoAmICheck runs whoAmI and returns the user and account it names.
func whoAmICheck(ctx context.Context, in *keycheck.Call, c *conn, tok, tokenType string, f keycheck.Fixes) (*keycheck.Identity, error) {
	body, err := statementBody(whoAmI, c.context, nil)
	if err != nil {
		return nil, err
	}
	header := http.Header{"Authorization": {"Bearer " + tok}, tokenTypeHeader: {tokenType}, "Content-Type": {"application/json"}}
	inspect := func(r *keycheck.Response) *keycheck.Error { return checkError(in, r, f) }
	var rs resultSet
	r, err := in.SendJSON(ctx, keycheck.Request{Method: http.MethodPost, URL: c.base + statementsPath, Header: header, Body: body}, f, inspect, &rs)
	if err != nil {
		return nil, err
	}
	// A statement that outlives Snowflake's 45-second wait is answered 202:
	// ask for its status a few times (whoAmI is instant in practice).
	for polls := 0; r.Status == http.StatusAccepted; polls++ {
		if !handleShape().MatchString(rs.StatementHandle) {
			return nil, keycheck.Unexpected(r, "a statementHandle")
		}
		if polls == 5 {
			return nil, &keycheck.Error{Kind: keycheck.KindServer, Status: r.Status, Message: r.Host + " is still running " + whoAmI + ": try again later"}
		}
		select {
		case <-ctx.Done():
			return nil, &keycheck.Error{Kind: keycheck.KindNetwork, Message: "cancelled while " + r.Host + " ran " + whoAmI}
		case <-time.After(time.Duration(polls+1) * 200 * time.Millisecond):
		}
		h := rs.StatementHandle
		rs = resultSet{}
		r, err = in.SendJSON(ctx, keycheck.Request{Method: http.MethodGet, URL: c.base + statementsPath + "/" + h, Header: header}, f, inspect, &rs)
		if err != nil {
			return nil, err
		}
	}
	if rs.Meta == nil || len(rs.Data) != 1 || len(rs.Data[0]) != 2 || rs.Data[0][0] == nil || rs.Data[0][1] == nil {
		return nil, keycheck.Unexpected(r, "one row of CURRENT_USER() and CURRENT_ACCOUNT()")
	}
	locator := *rs.Data[0][1]
	return &keycheck.Identity{Account: *rs.Data[0][0], Org: c.account + " (" + locator + ")"}, nil
}

// checkError classifies Snowflake's error body {code, message, sqlState}
// (https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses):
// 401 and 403 keep their kind and gain Snowflake's code and words before
// the method's fix (f); a statement the context refuses (422, 400: a role,
// warehouse, database or schema that does not exist or is not granted) is
// a config error naming those fields. Other answers are left to
// keycheck.StatusError.
func checkError(in *keycheck.Call, r *keycheck.Response, f keycheck.Fixes) *keycheck.Error {
	var e sfError
	if json.Unmarshal(r.Body, &e) != nil || (e.Code == "" && e.Message == "") {
		return nil
	}
	why := e.describe(in.Quote)
	switch r.Status {
	case http.StatusUnauthorized:
		return &keycheck.Error{Kind: keycheck.KindUnauthorized, Status: r.Status, Message: r.Host + " rejected the credentials (HTTP 401, " + why + "): " + f.Unauthorized}
	case http.StatusForbidden:
		return &keycheck.Error{Kind: keycheck.KindForbidden, Status: r.Status, Message: r.Host + " refused access (HTTP 403, " + why + "): " + f.Forbidden}
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return &keycheck.Error{Kind: keycheck.KindConfig, Status: r.Status, Message: fmt.Sprintf("%s refused %s (HTTP %d, %s): check role, warehouse, database and schema (case-sensitive, as SHOW lists them)", r.Host, whoAmI, r.Status, why)}
	}
	return nil
}

// sfError is Snowflake's error body.
type sfError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	SQLState string `json:"sqlState"`
}

// describe is "Snowflake <code>, SQL state <s>: <message>", the message
// passed through quote (secrets removed, one line, clipped).
func (e sfError) describe(quote func(string) string) string {
	parts := []string{}
	if c := quote(e.Code); c != "" {
		parts = append(parts, "Snowflake "+c)
	}
	if s := quote(e.SQLState); s != "" {
		parts = append(parts, "SQL state "+s)
	}
	out := strings.Join(parts, ", ")
	if m := quote(e.Message); m != "" {
		if out != "" {
			out += ": "
		}
		out += m
	}
	return out
}
