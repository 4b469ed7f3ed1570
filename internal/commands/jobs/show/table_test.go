package show

import (
	"strings"
	"testing"

	"github.com/connctl/connctl/internal/commands/jobs/jobview"
	"github.com/connctl/connctl/internal/iostreams"
)

// Map order is random in Go: params must still print in name order, the
// same on every run (scripts and diffs of `jobs show` depend on it).
func TestTableParamsInNameOrder(t *testing.T) {
	t.Parallel()
	v := jobview.View{Name: "j", Params: map[string]string{}}
	for _, k := range []string{"zeta", "alpha", "mu", "beta", "omega", "kappa", "delta", "gamma"} {
		v.Params[k] = k + "-value"
	}
	for range 20 {
		ios, _, out, _ := iostreams.Test()
		if err := table(ios, v); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "params.") {
				got = append(got, strings.TrimPrefix(f[0], "params."))
			}
		}
		want := "alpha beta delta gamma kappa mu omega zeta"
		if strings.Join(got, " ") != want {
			t.Fatalf("params printed in order %q, want %q", strings.Join(got, " "), want)
		}
	}
}
