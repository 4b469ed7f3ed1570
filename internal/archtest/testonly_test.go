package archtest

import "testing"

// testOnly are packages kept for tests alone: connctl itself uses a
// library for what they do (docs/design.md, "Protocol libraries"), and
// they stay as independent checks of it. internal/awssig, SigV4 written
// from AWS's documentation, verifies in the fake S3 servers what the AWS
// SDK's signer signed.
var testOnly = []string{
	"internal/awssig",
}

func TestTestOnlyPackagesAreNotInTheBinary(t *testing.T) {
	t.Parallel()
	pkgs := goList(t, "-deps", module+"/cmd/connctl")
	if len(pkgs) < 50 {
		t.Fatalf("go list -deps found only %d packages", len(pkgs))
	}
	in := map[string]bool{}
	for _, p := range pkgs {
		in[p.ImportPath] = true
	}
	for _, rel := range testOnly {
		if in[module+"/"+rel] {
			t.Errorf("connctl links %s, which is kept for tests only: use the library docs/design.md names instead", rel)
		}
	}
}
