// Package archtest holds tests of the code's shape rather than its
// behaviour: rules that the compiler does not enforce and review would
// miss.
package archtest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
)

const module = "github.com/connctl/connctl"

// vendorFree lists the generic packages: each vendor's behaviour lives in
// its own internal/connector/<vendor> package, attached to its catalogue
// entry (connector.AuthMethod.Check, ...), so none of these may import a
// vendor package, even indirectly, or name a connector in a string.
var vendorFree = []string{
	"internal/keycheck",
	"internal/jobrunner",
	"internal/authorization",
	"internal/oauthflow",
	"internal/execenv",
}

// notVendors are the packages under internal/connector that belong to no
// vendor.
var notVendors = map[string]bool{
	"internal/connector":               true,
	"internal/connector/all":           true,
	"internal/connector/connectortest": true,
	"internal/connector/fieldkit":      true,
}

// goPackage is what the test needs of `go list -json`.
type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Deps       []string
	Imports    []string // direct imports (layering_test.go)
}

func goList(t *testing.T, args ...string) []goPackage {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goBin, append([]string{"list", "-json"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// vendorPackages are the import paths of every vendor package.
func vendorPackages(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, p := range goList(t, module+"/internal/connector/...") {
		if rel := strings.TrimPrefix(p.ImportPath, module+"/"); !notVendors[rel] {
			out[p.ImportPath] = true
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d vendor packages under internal/connector: %v", len(out), out)
	}
	return out
}

// vendorIDs are the catalogue's connector ids, the generic OAuth 2.0
// connector left out: "oauth2" is also the name of an auth kind.
func vendorIDs() []string {
	var ids []string
	for _, c := range all.Catalogue().All() {
		if c.Category != connector.CategoryGeneric {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func TestGenericPackagesImportNoVendor(t *testing.T) {
	t.Parallel()
	vendors := vendorPackages(t)
	for _, rel := range vendorFree {
		for _, p := range goList(t, "-deps", module+"/"+rel) {
			if vendors[p.ImportPath] {
				t.Errorf("%s imports %s (directly or through another package): move the vendor's behaviour into its package behind a hook on its catalogue entry", rel, p.ImportPath)
			}
		}
	}
}

func TestGenericPackagesNameNoVendor(t *testing.T) {
	t.Parallel()
	var words []*regexp.Regexp
	ids := vendorIDs()
	if len(ids) < 10 {
		t.Fatalf("the catalogue has only %d vendor connectors: %v", len(ids), ids)
	}
	for _, id := range ids {
		// The id as a word: "zoho" in "Zoho-oauthtoken", not "s3" in "s3cr3t".
		words = append(words, regexp.MustCompile(`(?i)(^|[^a-z0-9])`+regexp.QuoteMeta(id)+`($|[^a-z0-9])`))
	}
	for _, rel := range vendorFree {
		pkgs := goList(t, module+"/"+rel)
		if len(pkgs) != 1 || len(pkgs[0].GoFiles) == 0 {
			t.Fatalf("go list %s found no Go files", rel)
		}
		for _, name := range pkgs[0].GoFiles { // test files are not listed here
			path := filepath.Join(pkgs[0].Dir, name)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution) // comments are dropped
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					s = lit.Value
				}
				for i, w := range words {
					if w.MatchString(s) {
						t.Errorf("%s: %s names connector %s: move what it does for that vendor into internal/connector/<vendor>, behind a hook on the catalogue entry", rel, fset.Position(lit.Pos()), ids[i])
					}
				}
				return true
			})
		}
	}
}
