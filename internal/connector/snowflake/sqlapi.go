package snowflake

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The SQL API's shapes, shared by the key check and the query source.
// https://docs.snowflake.com/en/developer-guide/sql-api/submitting-requests
// https://docs.snowflake.com/en/developer-guide/sql-api/handling-responses

// statementsPath is the statements endpoint.
const statementsPath = "/api/v2/statements"

// contextFields are the connection fields that go into every statement
// request's body under the same names.
var contextFields = []string{"role", "warehouse", "database", "schema"}

// defaultBase is the account's API address.
func defaultBase(account string) string {
	return "https://" + strings.ToLower(strings.TrimSpace(account)) + ".snowflakecomputing.com"
}

// binding is one bind variable: a Snowflake type and the value as a string.
type binding struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// statementBody is the request body {statement, role, warehouse, database,
// schema, bindings} (bindings keyed "1", "2", ... for the ? placeholders
// in order).
func statementBody(statement string, context map[string]string, binds []binding) ([]byte, error) {
	body := map[string]any{"statement": statement}
	for k, v := range context {
		body[k] = v
	}
	if len(binds) > 0 {
		m := map[string]binding{}
		for i, b := range binds {
			m[strconv.Itoa(i+1)] = b
		}
		body["bindings"] = m
	}
	return json.Marshal(body)
}

// column is one entry of resultSetMetaData.rowType.
type column struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Scale *int   `json:"scale"`
}

// partition is one entry of resultSetMetaData.partitionInfo.
type partition struct {
	RowCount int `json:"rowCount"`
}

// resultSet is the 200 answer (a ResultSet), the 202 answer (a QueryStatus:
// only code, message, statementHandle and statementStatusUrl) and, for a
// later partition, an answer that may hold data alone.
type resultSet struct {
	Meta *struct {
		NumRows       int         `json:"numRows"`
		Format        string      `json:"format"`
		RowType       []column    `json:"rowType"`
		PartitionInfo []partition `json:"partitionInfo"`
	} `json:"resultSetMetaData"`
	Data            [][]*string `json:"data"`
	Code            string      `json:"code"`
	Message         string      `json:"message"`
	StatementHandle string      `json:"statementHandle"`
}

// handleShape is what a statement handle looks like (a UUID); connctl puts
// nothing else into a URL path.
var handleShape = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z-]{1,64}$`) })
