package connectortest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A Discovery is a Google API discovery document (the format Google
// publishes its REST APIs in, instead of OpenAPI) that a fake checks every
// request under its basePath against: the method and path must be one of
// the document's methods, and every query parameter one the method or the
// API takes, of its type (integer, boolean, enum) and given once unless
// repeated. Bodies are not checked.
type Discovery struct {
	File string // under testdata/specs
}

// BigQueryDiscovery is BigQuery v2's discovery document, trimmed to the
// methods connctl calls.
var BigQueryDiscovery = Discovery{File: "bigquery-v2.discovery.trimmed.json"}

type discoveryParam struct {
	Location string   `json:"location"`
	Type     string   `json:"type"`
	Format   string   `json:"format"`
	Enum     []string `json:"enum"`
	Required bool     `json:"required"`
	Repeated bool     `json:"repeated"`
}

type discoveryMethod struct {
	ID         string                    `json:"id"`
	HTTPMethod string                    `json:"httpMethod"`
	Path       string                    `json:"path"`
	Parameters map[string]discoveryParam `json:"parameters"`
	re         *regexp.Regexp
}

type discoveryDoc struct {
	BasePath   string                    `json:"basePath"`
	Parameters map[string]discoveryParam `json:"parameters"`
	Resources  map[string]struct {
		Methods map[string]*discoveryMethod `json:"methods"`
	} `json:"resources"`
	methods []*discoveryMethod
}

var templateVar = regexp.MustCompile(`\{\+?[^}]+\}`)

func (d Discovery) load() (*discoveryDoc, error) {
	b, err := specFiles.ReadFile("testdata/specs/" + d.File)
	if err != nil {
		return nil, err
	}
	var doc discoveryDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("discovery document %s: %w", d.File, err)
	}
	for _, res := range doc.Resources {
		for _, m := range res.Methods {
			// {+projectId} (reserved expansion) and {projectId} are one
			// path segment here: every connctl parameter has pattern ^[^/]+$.
			parts := templateVar.Split(m.Path, -1)
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			m.re = regexp.MustCompile("^" + regexp.QuoteMeta(doc.BasePath) + strings.Join(parts, "[^/]+") + "$")
			doc.methods = append(doc.methods, m)
		}
	}
	return &doc, nil
}

// Check returns the document's complaint about r, or nil when r conforms or
// lies outside its basePath.
func (d Discovery) Check(r *http.Request) error {
	doc, err := d.load()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r.URL.Path, doc.BasePath) {
		return nil
	}
	var m *discoveryMethod
	for _, c := range doc.methods {
		if c.re.MatchString(r.URL.EscapedPath()) {
			if c.HTTPMethod == r.Method {
				m = c
				break
			}
		}
	}
	if m == nil {
		return fmt.Errorf("%s %s is no method of %s", r.Method, r.URL.Path, d.File)
	}
	q := r.URL.Query()
	var problems []string
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		p, ok := m.Parameters[name]
		if !ok {
			p, ok = doc.Parameters[name]
		}
		if !ok || p.Location != "query" {
			problems = append(problems, fmt.Sprintf("query parameter %q is not a parameter of %s", name, m.ID))
			continue
		}
		vals := q[name]
		if len(vals) > 1 && !p.Repeated {
			problems = append(problems, fmt.Sprintf("%s: %q given %d times", m.ID, name, len(vals)))
		}
		for _, v := range vals {
			if err := p.check(v); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %q: %v", m.ID, name, err))
			}
		}
	}
	if problems != nil {
		return fmt.Errorf("%s %s does not conform to %s: %s", r.Method, r.URL.Path, d.File, strings.Join(problems, "; "))
	}
	return nil
}

func (p discoveryParam) check(v string) error {
	switch {
	case len(p.Enum) > 0 && !slices.Contains(p.Enum, v):
		return fmt.Errorf("%q is not one of %v", v, p.Enum)
	case p.Type == "boolean" && v != "true" && v != "false":
		return fmt.Errorf("%q is not a boolean", v)
	case p.Type == "integer" || p.Format == "uint64" || p.Format == "int64":
		bits, signed := 32, !strings.HasPrefix(p.Format, "u")
		if strings.HasSuffix(p.Format, "64") {
			bits = 64
		}
		var err error
		if signed {
			_, err = strconv.ParseInt(v, 10, bits)
		} else {
			_, err = strconv.ParseUint(v, 10, bits)
		}
		if err != nil {
			return fmt.Errorf("%q is not a %s", v, p.Format)
		}
	}
	return nil
}

// CheckDiscovery wraps next as CheckSpec does, against a discovery document.
func CheckDiscovery(tb testing.TB, d Discovery, next http.Handler) http.Handler {
	if _, err := d.load(); err != nil {
		tb.Fatalf("load the discovery document: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.Check(r); err != nil {
			tb.Errorf("request against the vendor's API description: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
