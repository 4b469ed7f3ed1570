package connectortest

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The vendors' published API descriptions (testdata/specs/README.md says
// where each comes from, its version and its licence).
//
//go:embed testdata/specs
var specFiles embed.FS

// An APISpec is a vendor's published API description that a fake checks
// every request of a source against, so that a request the vendor would
// refuse fails the test with the spec's complaint rather than passing
// against a fake that shares connctl's assumptions.
type APISpec struct {
	File string // under testdata/specs
	// Base replaces the spec's servers: the path prefix its paths sit
	// under on the fake ("/" when the paths are absolute).
	Base string
	// Checked are the request path prefixes the spec must describe: a
	// request under one that the spec has no operation for fails too.
	// Requests elsewhere (sign-in, OAuth, who-am-I) pass unchecked.
	Checked []string
	// Strip, when set, is removed from the start of a request's path
	// before the check (Jira's OAuth gateway prefix /ex/jira/{cloudId}).
	Strip *regexp.Regexp
}

// The specs the fakes check against.
var (
	MixpanelExportSpec = APISpec{File: "mixpanel-export.openapi.yaml", Base: "/api/2.0", Checked: []string{"/api/2.0/export"}}
	JiraPlatformSpec   = APISpec{File: "jira-platform-v3.trimmed.json", Base: "/", Checked: []string{"/rest/api/3/search", "/rest/api/3/project", "/rest/api/3/myself"},
		Strip: regexp.MustCompile(`^/ex/jira/[^/]+`)}
	HubSpotCRMSpec = APISpec{File: "hubspot-crm-objects-v3.connctl.yaml", Base: "/", Checked: []string{"/crm/v3/objects/"}}
)

type loadedSpec struct {
	router routers.Router
	err    error
}

var (
	specMu    sync.Mutex
	specCache = map[string]*loadedSpec{}
)

// load parses a spec once per process (the Jira one is large).
func (s APISpec) load() (routers.Router, error) {
	specMu.Lock()
	defer specMu.Unlock()
	key := s.File + "\x00" + s.Base
	if l, ok := specCache[key]; ok {
		return l.router, l.err
	}
	l := &loadedSpec{}
	specCache[key] = l
	b, err := specFiles.ReadFile("testdata/specs/" + s.File)
	if err != nil {
		l.err = err
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		l.err = fmt.Errorf("spec %s: %w", s.File, err)
		return nil, l.err
	}
	doc.Servers = openapi3.Servers{{URL: s.Base}}
	l.router, l.err = gorillamux.NewRouter(doc)
	if l.err != nil {
		l.err = fmt.Errorf("spec %s: %w", s.File, l.err)
	}
	return l.router, l.err
}

// Check returns the spec's complaint about r, or nil when r conforms or
// lies outside Checked. r's body is read and put back.
func (s APISpec) Check(r *http.Request) error {
	path := r.URL.Path
	if s.Strip != nil {
		path = s.Strip.ReplaceAllString(path, "")
	}
	checked := false
	for _, p := range s.Checked {
		checked = checked || strings.HasPrefix(path, p)
	}
	if !checked {
		return nil
	}
	router, err := s.load()
	if err != nil {
		return err
	}
	var body []byte
	if r.Body != nil {
		if body, err = io.ReadAll(r.Body); err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	c := r.Clone(context.Background())
	c.URL.Path, c.URL.RawPath = path, ""
	c.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(c)
	if err != nil {
		return fmt.Errorf("%s %s is not in %s: %v", r.Method, path, s.File, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: c, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("%s %s does not conform to %s: %s", r.Method, path, s.File, strings.Join(strings.Fields(err.Error()), " "))
	}
	return nil
}

// CheckSpec wraps next so that every request is checked against s first: a
// request that does not conform fails tb with the spec's complaint and is
// answered 400 with it (so the source fails too), never served.
func CheckSpec(tb testing.TB, s APISpec, next http.Handler) http.Handler {
	if _, err := s.load(); err != nil {
		tb.Fatalf("load the API description: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := s.Check(r); err != nil {
			tb.Errorf("request against the vendor's API description: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
