package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The layers of docs/design.md ("Layers"), as rules on imports. Paths are
// relative to the module; a rule on a folder covers what is under it.

// outside are the packages under internal/ that are not domain packages:
// the command line (app, commands, deps, which wires commands to the
// domain), the output layer (iostreams, tableprint, jsonexport), and test
// tooling (archtest, testpeer).
var outside = []string{
	"internal/app",
	"internal/commands",
	"internal/deps",
	"internal/iostreams",
	"internal/tableprint",
	"internal/jsonexport",
	"internal/archtest",
	"internal/testpeer",
}

// presentation is what domain packages never import, even indirectly:
// they return data and typed errors, and the commands present them.
var presentation = []string{
	"github.com/spf13/cobra",
	module + "/internal/iostreams",
	module + "/internal/tableprint",
	module + "/internal/jsonexport",
	module + "/internal/commands",
}

// sharedCommands are the command packages every command may import: shell
// completion, the secret flags, and how a connection looks in output.
// Other than these, a command imports only packages of its own noun
// (connection/create may import connection/credcheck).
var sharedCommands = []string{
	"internal/commands/complete",
	"internal/commands/secretflags",
	"internal/commands/connview",
}

// crossCommand are the imports of another noun's command package that the
// rule above lets through, each with its reason. Key: importer, then the
// imported package (or a folder of them).
var crossCommand = map[[2]string]string{
	{"internal/commands/connection/create", "internal/commands/jobs"}: "create --default-jobs makes the out-of-the-box jobs with the code of " +
		"jobs create --default-jobs (jobview.CreateDefaultJobs); to drop this, move the choice of jobs into internal/jobs and keep only the messages in each command",
}

// exitcodeUsers may import internal/exitcode: the command line builds its
// errors with exit codes and hints, and app maps them to the exit status.
var exitcodeUsers = []string{
	"internal/app",
	"internal/commands",
	"internal/deps",
	"internal/jsonexport",
}

// exitcodeExceptions are domain packages that still import exitcode, each
// with its reason. Each wants typed errors that app or the commands turn
// into codes and hints (architecture review §6, item 8); until then they
// are listed here so that no new one joins them unnoticed.
var exitcodeExceptions = map[string]string{
	"internal/connection":     "NotFound, the rule checks and SecretStoreError carry the hint naming the command that fixes them",
	"internal/authorization":  "an invalid grant and a missing token are exit 4 with the reauthorize hint",
	"internal/jobs":           "job name and source errors are usage errors with a hint",
	"internal/connector/jira": "the site choice without a terminal is a usage error naming --set site=",
}

// under reports whether rel is dir or inside it.
func under(rel, dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }

func underAny(rel string, dirs []string) bool {
	for _, d := range dirs {
		if under(rel, d) {
			return true
		}
	}
	return false
}

func rel(importPath string) string { return strings.TrimPrefix(importPath, module+"/") }

// internalPackages lists every non-test package under internal/.
func internalPackages(t *testing.T) []goPackage {
	t.Helper()
	pkgs := goList(t, module+"/internal/...")
	if len(pkgs) < 40 {
		t.Fatalf("go list found only %d packages under internal/", len(pkgs))
	}
	return pkgs
}

func TestDomainPackagesDoNotPresent(t *testing.T) {
	t.Parallel()
	domain := 0
	for _, p := range internalPackages(t) {
		if underAny(rel(p.ImportPath), outside) {
			continue
		}
		domain++
		for _, dep := range p.Deps {
			for _, bad := range presentation {
				if dep == bad || strings.HasPrefix(dep, bad+"/") {
					t.Errorf("%s imports %s (directly or through another package): domain packages return data and typed errors; the commands present them", rel(p.ImportPath), dep)
				}
			}
		}
	}
	if domain < 20 {
		t.Fatalf("only %d domain packages: is the list outside too wide?", domain)
	}
}

// noun is the command group a command package belongs to: "connection"
// for internal/commands/connection/create, "root" for the root.
func noun(relPath string) string {
	n, _, _ := strings.Cut(strings.TrimPrefix(relPath, "internal/commands/"), "/")
	return n
}

func TestCommandsImportNoOtherNoun(t *testing.T) {
	t.Parallel()
	used := map[[2]string]bool{}
	for _, p := range goList(t, module+"/internal/commands/...") {
		from := rel(p.ImportPath)
		if from == "internal/commands/root" || underAny(from, sharedCommands) {
			continue // root assembles every command; shared packages are checked as leaves below
		}
		for _, imp := range p.Imports {
			to := rel(imp)
			if !under(to, "internal/commands") || underAny(to, sharedCommands) || noun(to) == noun(from) {
				continue
			}
			allowed := false
			for k := range crossCommand {
				if k[0] == from && under(to, k[1]) {
					allowed, used[k] = true, true
				}
			}
			if !allowed {
				t.Errorf("%s imports %s: a command imports only its own noun's packages and %s; move what both need into one of those, or into internal/deps",
					from, to, strings.Join(sharedCommands, ", "))
			}
		}
	}
	for k, why := range crossCommand {
		if !used[k] {
			t.Errorf("the exception %s -> %s (%s) is no longer needed: remove it", k[0], k[1], why)
		}
	}
	// The shared packages import no command package but each other.
	for _, rp := range sharedCommands {
		for _, p := range goList(t, module+"/"+rp) {
			for _, imp := range p.Imports {
				if to := rel(imp); under(to, "internal/commands") && !underAny(to, sharedCommands) {
					t.Errorf("%s imports %s: the packages every command shares may not depend on one command", rp, to)
				}
			}
		}
	}
}

func TestConnectorsDoNotReachTheLifecycle(t *testing.T) {
	t.Parallel()
	vendors := vendorPackages(t)
	for _, p := range goList(t, "-deps", module+"/internal/connector/...") {
		if !vendors[p.ImportPath] {
			continue
		}
		for _, dep := range p.Deps {
			for _, bad := range []string{"internal/authorization", "internal/connection", "internal/configstore", "internal/secretstore"} {
				if rel(dep) == bad {
					t.Errorf("%s imports %s (directly or through another package): a connector reaches providers through the hooks' arguments (connector.Caller), never the stores or the lifecycle", rel(p.ImportPath), bad)
				}
			}
		}
	}
}

func TestExitCodesOnlyOnTheCommandLine(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for _, p := range internalPackages(t) {
		from := rel(p.ImportPath)
		for _, imp := range p.Imports {
			if rel(imp) != "internal/exitcode" || underAny(from, exitcodeUsers) {
				continue
			}
			if _, ok := exitcodeExceptions[from]; ok {
				used[from] = true
				continue
			}
			t.Errorf("%s imports internal/exitcode: return a typed error and let the command or app give it its exit code and hint", from)
		}
	}
	for p, why := range exitcodeExceptions {
		if !used[p] {
			t.Errorf("the exitcode exception for %s (%s) is no longer needed: remove it", p, why)
		}
	}
}

// exitExceptions are packages other than main that may end the process,
// each with its reason.
var exitExceptions = map[string]string{
	"internal/testpeer/browsersim": "Main is the browser stand-in program the end-to-end scripts run as a command (testscript's Main), in the test binary only",
}

// TestOnlyProgramsExitOrPrint: only package main (cmd/ and the test tools'
// programs) ends the process or writes to the process's stdout; everything
// else writes to the streams it is given (iostreams), so tests capture it.
func TestOnlyProgramsExitOrPrint(t *testing.T) {
	t.Parallel()
	banned := map[string]map[string]bool{
		"os":  {"Exit": true},
		"fmt": {"Print": true, "Printf": true, "Println": true},
		"log": {"Fatal": true, "Fatalf": true, "Fatalln": true, "Print": true, "Printf": true, "Println": true, "Panic": true, "Panicf": true, "Panicln": true},
	}
	used := map[string]bool{}
	for _, p := range internalPackages(t) {
		from := rel(p.ImportPath)
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name.Name == "main" {
				continue
			}
			imported := map[string]string{} // local name -> package path
			for _, is := range f.Imports {
				pkgPath := strings.Trim(is.Path.Value, `"`)
				local := pkgPath
				if is.Name != nil {
					local = is.Name.Name
				}
				imported[local] = pkgPath
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				if names := banned[imported[x.Name]]; names[sel.Sel.Name] {
					if _, ok := exitExceptions[from]; ok {
						used[from] = true
						return true
					}
					t.Errorf("%s: %s.%s: only cmd/ ends the process or writes to os.Stdout; return an error, or write to the IOStreams the command was given",
						fset.Position(sel.Pos()), x.Name, sel.Sel.Name)
				}
				return true
			})
		}
	}
	for p, why := range exitExceptions {
		if !used[p] {
			t.Errorf("the exception for %s (%s) is no longer needed: remove it", p, why)
		}
	}
}

// TestTUIHoldsNoDomain: internal/tui, the Connections page, imports no
// connctl package: it reaches the connections only through its Backend,
// which the ui command implements by running the verbs. So the page
// cannot grow a second copy of what a verb does.
func TestTUIHoldsNoDomain(t *testing.T) {
	t.Parallel()
	for _, p := range goList(t, module+"/internal/tui") {
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, module+"/") {
				t.Errorf("internal/tui imports %s: give the page what it needs through tui.Backend (internal/commands/ui)", rel(imp))
			}
		}
	}
}
