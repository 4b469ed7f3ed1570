// Package snowflake describes the Snowflake connector: the SQL API v2
// (https://docs.snowflake.com/en/developer-guide/sql-api/index) with a
// key-pair JWT or a programmatic access token, its key check (check.go) and
// its query source (source.go). Like every connector package it owns all of
// its vendor's behaviour and is registered by one line in connector/all.
package snowflake

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/fieldkit"
)

// The auth method ids.
const (
	AuthKeyPair = "key_pair"
	AuthPAT     = "pat"
)

// Connector returns the catalogue entry for Snowflake.
func Connector() *connector.Connector {
	auths := []connector.AuthMethod{
		{
			ID:    AuthKeyPair,
			Check: checkKeyPair,
			Kind:  connector.AuthServiceAccount,
			Label: "Key pair (RSA private key, JWT)",
			Fields: []connector.Field{{
				Name:     "private_key",
				Label:    "Private key",
				Help:     "the user's unencrypted PKCS#8 RSA private key (rsa_key.p8); give it with --secret-file rsa_key.p8",
				Required: true,
				Secret:   true,
				Validate: validatePrivateKey,
			}},
			HowTo: "Create a key pair and give its public key to the Snowflake user:\n" +
				"openssl genrsa 2048 | openssl pkcs8 -topk8 -inform PEM -out rsa_key.p8 -nocrypt\n" +
				"openssl rsa -in rsa_key.p8 -pubout -out rsa_key.pub\n" +
				"ALTER USER <user> SET RSA_PUBLIC_KEY='<rsa_key.pub without its BEGIN/END lines>';\n" +
				"Then give rsa_key.p8 with --secret-file. connctl signs a JWT (RS256, an hour at most) with it.",
		},
		{
			ID:    AuthPAT,
			Check: checkPAT,
			Kind:  connector.AuthAPIKey,
			Label: "Programmatic access token",
			Fields: []connector.Field{
				fieldkit.Secret("token", "Programmatic access token", "a programmatic access token of the user; give it with --secret-stdin"),
			},
			HowTo: "In Snowsight: your user menu > Settings > Authentication > Programmatic access tokens >\n" +
				"Generate new token (or ALTER USER <user> ADD PROGRAMMATIC ACCESS TOKEN <name>), and copy the\n" +
				"token: it is shown once. Snowflake accepts it only from a network its network policy allows.\n" +
				"Give it with --secret-stdin.",
		},
	}
	return &connector.Connector{
		ID:       "snowflake",
		Name:     "Snowflake",
		Category: connector.CategoryWarehouse,
		Multiple: true,
		Fields: []connector.Field{
			fieldkit.AuthField(auths),
			{
				Name:     "account",
				Label:    "Account identifier",
				Help:     "the account identifier (orgname-accountname, or an account locator with its region and cloud); the API is https://<account>.snowflakecomputing.com",
				Required: true,
				Example:  "myorg-myaccount",
				Validate: validateAccount,
			},
			{
				Name:     "user",
				Label:    "User",
				Help:     "the Snowflake user's login name",
				Required: true,
				Example:  "etl_svc",
				Validate: fieldkit.NoSpaces("user", "the LOGIN_NAME of DESCRIBE USER"),
			},
			{Name: "role", Label: "Role", Help: "role to run statements as; empty: the user's DEFAULT_ROLE (case-sensitive, as SHOW ROLES lists it)", Example: "ANALYST"},
			{Name: "warehouse", Label: "Warehouse", Help: "warehouse that runs the queries; empty: the user's DEFAULT_WAREHOUSE (case-sensitive)", Example: "COMPUTE_WH"},
			{Name: "database", Label: "Database", Help: "database of unqualified names; empty: the user's DEFAULT_NAMESPACE (case-sensitive)", Example: "SALES"},
			{Name: "schema", Label: "Schema", Help: "schema of unqualified names; empty: the user's DEFAULT_NAMESPACE (case-sensitive)", Example: "PUBLIC"},
			fieldkit.BaseURL("API base; default https://{account}.snowflakecomputing.com", "https://myorg-myaccount.snowflakecomputing.com"),
		},
		Auths: auths,
		Sources: []connector.Source{{
			Name: "query",
			New:  QuerySource,
			Help: "rows of one SQL statement (SQL API: POST /api/v2/statements, then its result partitions)",
			// A job that names its incremental_column runs incrementally.
			IncrementalParam: "incremental_column",
			Params: []connector.Field{{
				Name:     "query",
				Label:    "SQL",
				Help:     "one SQL statement (SELECT ...); with incremental_column, connctl keeps only rows whose column is at or after the last checkpoint",
				Required: true,
				Example:  "SELECT * FROM SALES.PUBLIC.ORDERS",
			}, {
				Name:     "incremental_column",
				Label:    "Incremental column",
				Help:     "column of the query's result (a timestamp, date, number or text, unquoted name) whose largest value becomes the checkpoint",
				Example:  "UPDATED_AT",
				Validate: validateColumn,
			}},
		}},
		DocsURL: "https://docs.snowflake.com/en/developer-guide/sql-api/authenticating",
		Assumptions: "an incremental run compares the column with the checkpoint bound as TEXT, which " +
			"Snowflake casts to the column's type; TIMESTAMP_TZ cells read as seconds with an offset in " +
			"minutes plus 1440; partitions after the first may carry only data; no requestId is sent, so a " +
			"statement retried after a 5xx may run twice (a SELECT reads twice, nothing changes).",
	}
}

// account matches an account identifier: orgname-accountname, or an
// account locator, possibly followed by region, cloud or privatelink parts.
// https://docs.snowflake.com/en/user-guide/admin-account-identifier
var accountShape = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*$`)
})

func validateAccount(v string) error {
	if accountShape().MatchString(v) && !strings.HasSuffix(strings.ToLower(v), ".snowflakecomputing.com") {
		return nil
	}
	h := strings.ToLower(v)
	h = strings.TrimPrefix(strings.TrimPrefix(h, "https://"), "http://")
	if i := strings.Index(h, ".snowflakecomputing.com"); i > 0 && accountShape().MatchString(h[:i]) {
		return fmt.Errorf("account %q is a host name or URL: use the account identifier alone, %s", v, h[:i])
	}
	return fmt.Errorf("account %q is not an account identifier: use orgname-accountname (e.g. myorg-myaccount, as in https://myorg-myaccount.snowflakecomputing.com)", v)
}

// column matches an unquoted identifier: what connctl writes into the
// incremental filter (never a quoted one, whose text could hold SQL).
// https://docs.snowflake.com/en/sql-reference/identifiers-syntax
var unquotedColumn = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]{0,254}$`) })

func validateColumn(v string) error {
	if unquotedColumn().MatchString(v) {
		return nil
	}
	return fmt.Errorf("incremental_column %q is not an unquoted column name: use letters, digits, _ and $ (e.g. UPDATED_AT), and alias the column in the query if its name needs quotes", v)
}

// validatePrivateKey checks that a private_key value is an RSA private key
// in PEM. Its messages never quote the value.
func validatePrivateKey(v string) error {
	k, err := parsePrivateKey(v)
	if err == nil {
		// A 4096-bit PKCS#8 key is about 3,270 bytes of PEM: more than
		// the secret store keeps (2,560 bytes, Windows' item limit).
		if bits := k.key.N.BitLen(); bits > 3072 {
			return fmt.Errorf("a %d-bit key does not fit the secret store (2,560 bytes): make a 2048-bit key pair (openssl genrsa 2048 | openssl pkcs8 -topk8 -nocrypt -out rsa_key.p8) and set its public key on the user", bits)
		}
		return nil
	}
	var ke *keyError
	if errors.As(err, &ke) {
		return errors.New(ke.msg)
	}
	return errors.New("private_key is not a usable private key: give rsa_key.p8 with --secret-file")
}
