package jsonexport

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/connctl/connctl/internal/exitcode"
)

type authState int

const (
	unauthorized authState = iota
	authorized
)

func (s authState) MarshalText() ([]byte, error) {
	if s == authorized {
		return []byte("authorized"), nil
	}
	return []byte("none"), nil
}

type conn struct {
	Name      string            `json:"name"`
	Connector string            `json:"connector"`
	Auth      authState         `json:"auth"`
	Scopes    []string          `json:"scopes"`
	Labels    map[string]string `json:"labels,omitempty"`
	ExpiresAt *time.Time        `json:"expires_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Pages     int64             `json:"pages"`
	Ratio     float64           `json:"ratio"`
	Note      string            `json:"note,omitempty"`
	Ignored   string            `json:"-"`
	secret    string
}

var connFields = []string{"name", "connector", "auth", "scopes", "labels", "expires_at", "updated_at", "pages", "ratio", "note"}

func sampleConns() []conn {
	cet := time.FixedZone("CET", 3600)
	exp := time.Date(2026, 3, 10, 13, 0, 0, 0, cet)
	return []conn{
		{
			Name: "crm-prod", Connector: "salesforce", Auth: authorized,
			Scopes: []string{"api", "refresh_token"}, Labels: map[string]string{"team": "sales"},
			ExpiresAt: &exp, UpdatedAt: time.Date(2026, 3, 10, 9, 30, 0, 0, time.UTC),
			Pages: 9007199254740993, Ratio: 0.5, Note: `say "hi", <b>bye</b>`,
			Ignored: "x", secret: "s3cr3t",
		},
		{
			Name: "support", Connector: "freshdesk", Auth: unauthorized,
			Note: "line1\nline2\tend \\ back",
		},
	}
}

func mustNew(t *testing.T, f Format, query string) Exporter {
	t.Helper()
	e, err := New(f, query, connFields)
	if err != nil {
		t.Fatalf("New(%q, %q): %v", f, query, err)
	}
	if e == nil {
		t.Fatalf("New(%q, %q) = nil", f, query)
	}
	return e
}

func write(t *testing.T, e Exporter, data any) string {
	t.Helper()
	var b bytes.Buffer
	if err := e.Write(&b, data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.String()
}

func TestJSON(t *testing.T) {
	t.Parallel()
	got := write(t, mustNew(t, JSON, ""), sampleConns())
	want := `[
  {
    "name": "crm-prod",
    "connector": "salesforce",
    "auth": "authorized",
    "scopes": [
      "api",
      "refresh_token"
    ],
    "labels": {
      "team": "sales"
    },
    "expires_at": "2026-03-10T13:00:00+01:00",
    "updated_at": "2026-03-10T09:30:00Z",
    "pages": 9007199254740993,
    "ratio": 0.5,
    "note": "say \"hi\", <b>bye</b>"
  },
  {
    "name": "support",
    "connector": "freshdesk",
    "auth": "none",
    "scopes": null,
    "expires_at": null,
    "updated_at": "0001-01-01T00:00:00Z",
    "pages": 0,
    "ratio": 0,
    "note": "line1\nline2\tend \\ back"
  }
]
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEmptyLists(t *testing.T) {
	t.Parallel()
	var nilConns []conn
	tests := []struct {
		format Format
		query  string
		data   any
		want   string
	}{
		{JSON, "", nilConns, "[]\n"},
		{JSON, "", []conn{}, "[]\n"},
		{JSON, "", []string(nil), "[]\n"},
		{JSON, "", nil, "null\n"},
		{JSON, ".", nilConns, "[]\n"},
		{JSON, "length", nilConns, "0\n"},
		{YAML, "", nilConns, "[]\n"},
		{CSV, "", nilConns, "name,connector,auth,scopes,labels,expires_at,updated_at,pages,ratio,note\n"},
		{TSV, "", nilConns, "name\tconnector\tauth\tscopes\tlabels\texpires_at\tupdated_at\tpages\tratio\tnote\n"},
	}
	for _, tt := range tests {
		got := write(t, mustNew(t, tt.format, tt.query), tt.data)
		if got != tt.want {
			t.Errorf("%s %q %#v: got %q, want %q", tt.format, tt.query, tt.data, got, tt.want)
		}
	}
}

func TestJQ(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  string
	}{
		{".[].name", "crm-prod\nsupport\n"},
		{".[0].scopes", `["api","refresh_token"]` + "\n"},
		{".[] | {name, auth}", `{"auth":"authorized","name":"crm-prod"}` + "\n" + `{"auth":"none","name":"support"}` + "\n"},
		{".[0].pages", "9007199254740993\n"},
		{"length", "2\n"},
		{".[1].note", "line1\nline2\tend \\ back\n"},
		{".[0].note | tojson", `"say \"hi\", <b>bye</b>"` + "\n"},
		{"[.[] | select(.auth == \"authorized\") | .name]", `["crm-prod"]` + "\n"},
		{".[] | .expires_at", "2026-03-10T13:00:00+01:00\nnull\n"},
		{"empty", ""},
		{".[0].name, halt, .[1].name", "crm-prod\n"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			e := mustNew(t, "", tt.query)
			if f := e.(*Export).Format(); f != JSON {
				t.Errorf("Format() = %q, want json", f)
			}
			if got := write(t, e, sampleConns()); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJQRuntimeError(t *testing.T) {
	t.Parallel()
	for _, query := range []string{".name", `error("boom")`, `"x" | halt_error`} {
		e := mustNew(t, JSON, query)
		var b bytes.Buffer
		err := e.Write(&b, sampleConns())
		if err == nil {
			t.Errorf("%s: Write succeeded, printed %q", query, b.String())
			continue
		}
		if !strings.HasPrefix(err.Error(), "jq: ") {
			t.Errorf("%s: error %q lacks the jq: prefix", query, err)
		}
		if b.Len() != 0 {
			t.Errorf("%s: wrote %q before failing", query, b.String())
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		format  Format
		query   string
		nilExp  bool
		want    Format
		wantErr string
	}{
		{format: "", nilExp: true},
		{format: Table, nilExp: true},
		{format: JSON, want: JSON},
		{format: YAML, want: YAML},
		{format: CSV, want: CSV},
		{format: TSV, want: TSV},
		{query: ".", want: JSON},
		{format: JSON, query: ".[]", want: JSON},
		{format: "xml", wantErr: `unknown output format "xml" (want table, json, yaml, csv, tsv)`},
		{format: "JSON", wantErr: `unknown output format "JSON" (want table, json, yaml, csv, tsv)`},
		{format: YAML, query: ".", wantErr: "--jq works on JSON output and cannot be combined with -o yaml"},
		{format: Table, query: ".", wantErr: "--jq works on JSON output and cannot be combined with -o table"},
		{query: ".foo |", wantErr: "invalid jq expression: unexpected EOF"},
		{query: ".[", wantErr: "invalid jq expression: unexpected EOF"},
		{query: "nosuchfunc", wantErr: "invalid jq expression: function not defined: nosuchfunc/0"},
		{query: "$undefined", wantErr: "invalid jq expression: variable not defined: $undefined"},
	}
	for _, tt := range tests {
		e, err := New(tt.format, tt.query, nil)
		if tt.wantErr != "" {
			if err == nil {
				t.Errorf("New(%q, %q) succeeded, want %q", tt.format, tt.query, tt.wantErr)
				continue
			}
			if err.Error() != tt.wantErr {
				t.Errorf("New(%q, %q) error = %q, want %q", tt.format, tt.query, err, tt.wantErr)
			}
			if c := exitcode.FromError(err); c != exitcode.Usage {
				t.Errorf("New(%q, %q) exit code = %d, want 2", tt.format, tt.query, c)
			}
			continue
		}
		if err != nil {
			t.Errorf("New(%q, %q): %v", tt.format, tt.query, err)
			continue
		}
		if tt.nilExp {
			if e != nil {
				t.Errorf("New(%q, %q) = %#v, want nil", tt.format, tt.query, e)
			}
			continue
		}
		x := e.(*Export)
		if x.Format() != tt.want || x.Query() != tt.query {
			t.Errorf("New(%q, %q) = format %q query %q", tt.format, tt.query, x.Format(), x.Query())
		}
	}
}

func TestYAML(t *testing.T) {
	t.Parallel()
	got := write(t, mustNew(t, YAML, ""), sampleConns())
	want := `- name: crm-prod
  connector: salesforce
  auth: authorized
  scopes:
    - api
    - refresh_token
  labels:
    team: sales
  expires_at: "2026-03-10T13:00:00+01:00"
  updated_at: "2026-03-10T09:30:00Z"
  pages: 9007199254740993
  ratio: 0.5
  note: say "hi", <b>bye</b>
- name: support
  connector: freshdesk
  auth: none
  scopes: null
  expires_at: null
  updated_at: "0001-01-01T00:00:00Z"
  pages: 0
  ratio: 0
  note: |-
    line1
    line2	end \ back
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestYAMLScalars(t *testing.T) {
	t.Parallel()
	type strs struct {
		Num    string         `json:"num"`
		Bool   string         `json:"bool"`
		Yes    string         `json:"yes"`
		Null   string         `json:"null"`
		Empty  string         `json:"empty"`
		Colon  string         `json:"colon"`
		Lines  string         `json:"lines"`
		Float  float64        `json:"float"`
		Big    float64        `json:"big"`
		List   []int          `json:"list"`
		Object map[string]int `json:"object"`
	}
	got := write(t, mustNew(t, YAML, ""), strs{
		Num: "123", Bool: "true", Yes: "yes", Null: "null", Colon: "a: b",
		Lines: "first\nsecond\n", Float: 1.25, Big: 1e21, List: []int{}, Object: map[string]int{},
	})
	want := `num: "123"
bool: "true"
"yes": "yes"
"null": "null"
empty: ""
colon: 'a: b'
lines: |
  first
  second
float: 1.25
big: 1e+21
list: []
object: {}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	got := write(t, mustNew(t, CSV, ""), sampleConns())
	want := `name,connector,auth,scopes,labels,expires_at,updated_at,pages,ratio,note
crm-prod,salesforce,authorized,"[""api"",""refresh_token""]","{""team"":""sales""}",2026-03-10T12:00:00Z,2026-03-10T09:30:00Z,9007199254740993,0.5,"say ""hi"", <b>bye</b>"
support,freshdesk,none,,,,,0,0,"line1
line2	end \ back"
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestTSV(t *testing.T) {
	t.Parallel()
	got := write(t, mustNew(t, TSV, ""), sampleConns())
	want := "name\tconnector\tauth\tscopes\tlabels\texpires_at\tupdated_at\tpages\tratio\tnote\n" +
		"crm-prod\tsalesforce\tauthorized\t[\"api\",\"refresh_token\"]\t{\"team\":\"sales\"}\t2026-03-10T12:00:00Z\t2026-03-10T09:30:00Z\t9007199254740993\t0.5\tsay \"hi\", <b>bye</b>\n" +
		"support\tfreshdesk\tnone\t\t\t\t\t0\t0\t" + `line1\nline2\tend \\ back` + "\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCSVFieldOrderAndShapes(t *testing.T) {
	t.Parallel()
	type Base struct {
		ID   int    `json:"id"`
		Kind string `json:"kind"`
	}
	type job struct {
		Name string `json:"name"`
		Base
		Kind  string `json:"type"`
		Extra *Base  `json:"extra"`
	}
	jobs := []*job{
		{Name: "sync", Base: Base{ID: 7, Kind: "inner"}, Kind: "outer", Extra: &Base{ID: 1}},
		nil,
	}
	tests := []struct {
		name   string
		fields []string
		format Format
		data   any
		want   string
	}{
		{
			name:   "fields pick and order the columns",
			fields: []string{"kind", "name"},
			format: CSV,
			data:   jobs,
			want:   "kind,name\ninner,sync\n,\n",
		},
		{
			name:   "no fields: json order with promoted fields in place",
			format: CSV,
			data:   jobs,
			want:   "name,id,kind,type,extra\n" + `sync,7,inner,outer,"{""id"":1,""kind"":""""}"` + "\n,,,,\n",
		},
		{
			name:   "maps with fields",
			fields: []string{"b", "a", "missing"},
			format: TSV,
			data:   []map[string]any{{"a": 1, "b": "x\ty"}, {"a": nil}},
			want:   "b\ta\tmissing\nx\\ty\t1\t\n\t\t\n",
		},
		{
			name:   "maps without fields: sorted union of keys",
			format: CSV,
			data:   []map[string]any{{"b": true}, {"a": 1.5}},
			want:   "a,b\n,true\n1.5,\n",
		},
		{
			name:   "a single object is one record",
			fields: []string{"name", "type"},
			format: CSV,
			data:   job{Name: "one", Kind: "k"},
			want:   "name,type\none,k\n",
		},
		{
			name:   "leading space and quotes",
			fields: []string{"v"},
			format: CSV,
			data:   []map[string]string{{"v": " padded"}, {"v": `"q"`}},
			want:   "v\n\" padded\"\n\"\"\"q\"\"\"\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := New(tt.format, "", tt.fields)
			if err != nil {
				t.Fatal(err)
			}
			if got := write(t, e, tt.data); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields []string
		data   any
		want   string
	}{
		{"unknown field", []string{"name", "nope"}, sampleConns(), `jsonexport: jsonexport.conn has no json field "nope"`},
		{"not objects", nil, []string{"a"}, "jsonexport: csv and tsv need a list of objects, got an element of type string"},
		{"scalar", nil, 42, "jsonexport: csv and tsv need a list of objects, got int"},
		{"int keys", []string{"1"}, []map[int]string{{1: "a"}}, "jsonexport: csv and tsv need string map keys, got map[int]string"},
	}
	for _, tt := range tests {
		for _, f := range []Format{CSV, TSV} {
			e, err := New(f, "", tt.fields)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			err = e.Write(&b, tt.data)
			if err == nil || err.Error() != tt.want {
				t.Errorf("%s %s: error = %v, want %q", tt.name, f, err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("%s %s: wrote %q before failing", tt.name, f, b.String())
			}
		}
	}
}

func TestWriteError(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	WriteError(&b, 4, `connection "crm-prod" needs <re>authorization`)
	want := `{"error":{"code":4,"message":"connection \"crm-prod\" needs <re>authorization"}}` + "\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteFailure(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{JSON, YAML, CSV, TSV} {
		if err := mustNew(t, f, "").Write(failWriter{}, sampleConns()); err == nil {
			t.Errorf("%s: Write to a failing writer succeeded", f)
		}
	}
	WriteError(failWriter{}, 1, "ignored") // must not panic
}

// newCmd returns a command with the export flags whose RunE records the exporter.
func newCmd(fields []string) (*cobra.Command, *Exporter, *bool) {
	var exp Exporter
	ran := false
	cmd := &cobra.Command{
		Use:           "list",
		Short:         "List connections",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          func(*cobra.Command, []string) error { ran = true; return nil },
	}
	AddFlags(cmd, &exp, fields)
	return cmd, &exp, &ran
}

func TestAddFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		nilExp  bool
		format  Format
		query   string
		wantErr string
	}{
		{args: nil, nilExp: true},
		{args: []string{"-o", "table"}, nilExp: true},
		{args: []string{"-o", "json"}, format: JSON},
		{args: []string{"--output=yaml"}, format: YAML},
		{args: []string{"-ocsv"}, format: CSV},
		{args: []string{"-o", "tsv"}, format: TSV},
		{args: []string{"--jq", ".[].name"}, format: JSON, query: ".[].name"},
		{args: []string{"--jq", ".", "-o", "json"}, format: JSON, query: "."},
		{args: []string{"-o", "json", "--jq", "."}, format: JSON, query: "."},
		{args: []string{"-o", "yaml", "-o", "json"}, format: JSON},
		{
			args:    []string{"-o", "xml"},
			wantErr: `invalid argument "xml" for "-o, --output" flag: unknown output format "xml" (want table, json, yaml, csv, tsv)`,
		},
		{
			args:    []string{"--jq", ".foo |"},
			wantErr: `invalid argument ".foo |" for "--jq" flag: invalid jq expression: unexpected EOF`,
		},
		{
			args:    []string{"-o", "yaml", "--jq", "."},
			wantErr: `invalid argument "." for "--jq" flag: --jq works on JSON output and cannot be combined with -o yaml`,
		},
		{
			args:    []string{"--jq", ".", "-o", "csv"},
			wantErr: `invalid argument "csv" for "-o, --output" flag: --jq works on JSON output and cannot be combined with -o csv`,
		},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			cmd, exp, ran := newCmd([]string{"name"})
			cmd.SetArgs(tt.args)
			err := cmd.Execute()
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				if c := exitcode.FromError(err); c != exitcode.Usage {
					t.Errorf("exit code = %d, want 2", c)
				}
				if *ran {
					t.Error("RunE ran despite a bad flag")
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if !*ran {
				t.Fatal("RunE did not run")
			}
			if tt.nilExp {
				if *exp != nil {
					t.Errorf("exporter = %#v, want nil", *exp)
				}
				return
			}
			x, ok := (*exp).(*Export)
			if !ok {
				t.Fatalf("exporter = %#v", *exp)
			}
			if x.Format() != tt.format || x.Query() != tt.query {
				t.Errorf("format %q query %q, want %q %q", x.Format(), x.Query(), tt.format, tt.query)
			}
		})
	}
}

func TestAddFlagsHelpAndCompletion(t *testing.T) {
	t.Parallel()
	cmd, _, _ := newCmd([]string{"name", "connector", "updated_at"})
	wantUsage := `Usage:
  list [flags]

Flags:
      --jq expression   filter JSON output with a jq expression (implies -o json)
  -o, --output format   output format: table, json, yaml, csv, tsv (default table)
                        JSON fields: name, connector, updated_at
`
	if got := cmd.UsageString(); got != wantUsage {
		t.Errorf("usage:\n%s\nwant:\n%s", got, wantUsage)
	}
	if got := strings.Join(Fields(cmd), " "); got != "name connector updated_at" {
		t.Errorf("Fields = %q", got)
	}

	complete, ok := cmd.GetFlagCompletionFunc("output")
	if !ok {
		t.Fatal("no completion for --output")
	}
	values, directive := complete(cmd, nil, "")
	var names []string
	for _, v := range values {
		name, _, _ := strings.Cut(v, "\t")
		names = append(names, name)
	}
	if got := strings.Join(names, " "); got != "table json yaml csv tsv" {
		t.Errorf("completions = %q", got)
	}
	if directive != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("directive = %v", directive)
	}
	if _, ok := cmd.GetFlagCompletionFunc("jq"); !ok {
		t.Error("no completion for --jq")
	}

	bare, _, _ := newCmd(nil)
	if Fields(bare) != nil {
		t.Errorf("Fields without fields = %q", Fields(bare))
	}
	if strings.Contains(bare.UsageString(), "JSON fields") {
		t.Error("usage lists JSON fields for a command without any")
	}
}
