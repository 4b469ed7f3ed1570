package authorization

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/connector"
	"github.com/connctl/connctl/internal/connector/all"
)

// TestNoVendorInGenericOAuthPackages fails when the non-test code of
// authorization or oauthflow names a connector of the catalogue (its id or
// an alias, in a string or an identifier; comments may cite vendors) or
// imports a package under internal/connector/ other than connector itself
// and fieldkit (field helpers every connector shares).
// A vendor's OAuth behaviour belongs in its connector package, behind the
// hooks of connector.OAuthHooks.
func TestNoVendorInGenericOAuthPackages(t *testing.T) {
	t.Parallel()
	const module = "github.com/connctl/connctl/internal/connector"
	var names []string // lower case: ids and aliases of every vendor's connector
	for _, c := range all.Catalogue().All() {
		if c.Category == connector.CategoryGeneric {
			continue // the generic OAuth connector (id oauth2) is no vendor
		}
		for _, n := range append([]string{c.ID}, c.Aliases...) {
			names = append(names, strings.ToLower(n))
		}
	}
	if len(names) < 10 {
		t.Fatalf("the catalogue gave only %v", names)
	}
	// Short names (s3, sm, bq, px) are checked as whole strings only: as
	// parts of words they would match everywhere.
	names4 := func(s string) string {
		s = strings.ToLower(s)
		for _, n := range names {
			if s == n || (len(n) >= 4 && strings.Contains(s, n)) {
				return n
			}
		}
		return ""
	}
	fset := token.NewFileSet()
	files := 0
	for _, dir := range []string{".", filepath.Join("..", "oauthflow")} {
		paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, module+"/") && p != module+"/fieldkit" {
					t.Errorf("%s imports %s: generic OAuth code reaches a connector only through connector.OAuthHooks", fset.Position(imp.Pos()), p)
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.ImportSpec:
					return false
				case *ast.BasicLit:
					if n.Kind != token.STRING {
						return true
					}
					s, err := strconv.Unquote(n.Value)
					if err != nil {
						s = n.Value
					}
					if v := names4(s); v != "" {
						t.Errorf("%s: the string %s names connector %q: move this behaviour into its connector package (a connector.OAuthHooks hook)", fset.Position(n.Pos()), n.Value, v)
					}
				case *ast.Ident:
					if v := names4(n.Name); v != "" {
						t.Errorf("%s: the identifier %s names connector %q: move this behaviour into its connector package (a connector.OAuthHooks hook)", fset.Position(n.Pos()), n.Name, v)
					}
				}
				return true
			})
		}
	}
	if files < 10 {
		t.Fatalf("read only %d files: is the test running in internal/authorization?", files)
	}
}
