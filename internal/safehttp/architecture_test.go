package safehttp_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlySafehttpBuildsClients fails when non-test code under internal/
// (testpeer excepted: it drives test servers, never a credential of a user)
// builds an http.Client, sets a redirect policy or uses http.DefaultClient
// (directly or through http.Get, Head, Post, PostForm). Every client that
// may carry a credential must come from this package, so that its redirect
// rule holds for every source and endpoint, including the next one written.
func TestOnlySafehttpBuildsClients(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..")
	fset := token.NewFileSet()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "safehttp", "testpeer", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		httpName := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "net/http" {
				httpName = "http"
				if imp.Name != nil {
					httpName = imp.Name.Name
				}
			}
		}
		isHTTP := func(e ast.Expr, names ...string) bool {
			sel, ok := e.(*ast.SelectorExpr)
			if !ok {
				return false
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || httpName == "" || id.Name != httpName {
				return false
			}
			for _, n := range names {
				if sel.Sel.Name == n {
					return true
				}
			}
			return false
		}
		report := func(n ast.Node, what string) {
			found = append(found, fset.Position(n.Pos()).String()+": "+what)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if isHTTP(n.Type, "Client") {
					report(n, "builds an http.Client")
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 && isHTTP(n.Args[0], "Client") {
					report(n, "builds an http.Client with new")
				}
			case *ast.SelectorExpr:
				if isHTTP(n, "DefaultClient", "Get", "Head", "Post", "PostForm") {
					report(n, "uses http.DefaultClient (http."+n.Sel.Name+")")
				}
				if n.Sel.Name == "CheckRedirect" {
					report(n, "sets a redirect policy")
				}
			case *ast.KeyValueExpr:
				if id, ok := n.Key.(*ast.Ident); ok && id.Name == "CheckRedirect" {
					report(n, "sets a redirect policy")
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range found {
		t.Errorf("%s: build HTTP clients with package safehttp (New, SameOrigin, NoRedirects), so that no credential follows a redirect to another origin", f)
	}
}
