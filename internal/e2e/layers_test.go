package e2e

import (
	"os/exec"
	"strings"
	"testing"
)

// layer ranks Strata's packages: a package may import only packages of a
// lower rank: pure → engines → network-facing → daemon → cli.
var layer = map[string]int{
	"config": 0, "transform": 0, "jsonapi": 0, "httphdr": 0, "sigv4": 0, "checksum": 0, "postpolicy": 0, "browsertest": 0, "respcount": 0, "flv": 0, "livetest": 0,
	"cachepolicy": 1, "hls": 1, "recmux": 1,
	"objstore": 2, "cachestore": 2, "live": 2, "logs": 2, "tlsstore": 2, "record": 2, "snapshot": 2, "vod": 2, "resolve": 2, "resolve/dnstest": 2,
	"s3api": 3, "admin": 3, "edge": 3, "cluster": 3, "diag": 3, "livehttp": 3, "rtmpserver": 3,
	"daemon": 4,
	"cli":    5,
}

// Imports go downward only.
func TestImportsGoDownward(t *testing.T) {
	const mod = "github.com/strata-cdn/strata/internal/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "github.com/strata-cdn/strata/internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		if pkg == "e2e" {
			continue
		}
		from, ok := layer[pkg]
		if !ok {
			t.Errorf("package %s has no layer in layers_test.go; add it", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			to := strings.TrimPrefix(imp, mod)
			if l, ok := layer[to]; ok && l >= from && to != pkg {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must go to a lower layer", pkg, from, to, l)
			}
		}
	}
}
