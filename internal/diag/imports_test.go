package diag

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyPurePackages keeps diag usable against any site: it may
// use the pure header packages, never the servers it diagnoses.
func TestImportsOnlyPurePackages(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		rest, ok := strings.CutPrefix(dep, "github.com/strata-cdn/strata/internal/")
		if !ok || rest == "diag" {
			continue
		}
		if rest != "httphdr" && rest != "cachepolicy" {
			t.Errorf("diag depends on internal/%s; only httphdr and cachepolicy are allowed", rest)
		}
	}
}
