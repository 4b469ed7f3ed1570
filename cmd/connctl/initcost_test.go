package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Start-up must stay cheap (issue #17: "no new init cost"). Time is not
// asserted (it is measured in docs/performance.md); what package
// initialisation allocates is, because it is the same on every run and
// grows with every regular expression, table or map built at start:
//
//   - each of connctl's own packages allocates at most ownInitBudget at init
//     (compile patterns and build tables on first use, as sync.OnceValue);
//   - all the packages the shipped binary links allocate at most
//     totalInitBudget together, so a new dependency with a costly init is
//     a decision someone made, not an accident.
//
// Measured from GODEBUG=inittrace=1 of `connctl version`, counting only the
// packages `go list -deps ./cmd/connctl` names (this test binary also links
// the test-only packages, which are left out).
const (
	ownInitBudget = 16 << 10
	// 2026-12-06: 1,706,664 bytes in 8,919 allocations, most of it
	// tablewriter's width tables (663 KB), vault/api's path patterns
	// (316 KB) and gojq (219 KB).
	totalInitBudget = 1800 << 10
)

func TestInitCost(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list the shipped binary's packages")
	}
	list, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	shipped := map[string]bool{}
	for p := range strings.FieldsSeq(string(list)) {
		shipped[p] = true
	}

	cmd := exec.Command("connctl", "version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("connctl version: %v\n%s", err, stderr.String())
	}
	type pkg struct {
		name  string
		bytes int
	}
	var pkgs []pkg
	total := 0
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(sc.Text())
		if len(f) < 11 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		// The main package is left out: here it holds the test files too.
		if !shipped[f[1]] || f[1] == "github.com/connctl/connctl/cmd/connctl" {
			continue
		}
		b, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		pkgs = append(pkgs, pkg{f[1], b})
		total += b
		if strings.HasPrefix(f[1], "github.com/connctl/connctl/") && b > ownInitBudget {
			t.Errorf("%s allocates %d bytes at init, budget %d: build its patterns and tables on first use (sync.OnceValue)", f[1], b, ownInitBudget)
		}
	}
	if len(pkgs) == 0 {
		t.Fatalf("no inittrace lines from connctl version:\n%s", stderr.String())
	}
	if total > totalInitBudget {
		slices.SortFunc(pkgs, func(a, b pkg) int { return b.bytes - a.bytes })
		var top strings.Builder
		for _, p := range pkgs[:min(8, len(pkgs))] {
			fmt.Fprintf(&top, "\n  %9d  %s", p.bytes, p.name)
		}
		t.Errorf("package initialisation allocates %d bytes, budget %d (a new dependency's init, or one of ours?); the largest:%s", total, totalInitBudget, top.String())
	}
	t.Logf("init: %d bytes over %d packages", total, len(pkgs))
}
