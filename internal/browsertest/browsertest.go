// Package browsertest prepares headless Chromium tests: it finds Chromium
// and Node.js and installs a test's Node project (playwright-core and any
// page libraries) with `npm ci` when its node_modules is missing. Tests skip
// only when Chromium, Node.js or npm is not installed (make test installs
// them through scripts/deps.sh).
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Chromium is the Debian chromium binary the tests drive.
const Chromium = "/usr/bin/chromium"

// Need returns node's path once dir (a Node project with a package-lock
// file) has every package of pkgs in its node_modules, running `npm ci` in
// dir when one is missing.
func Need(t testing.TB, dir string, pkgs ...string) string {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Skipf("headless Chromium test needs %s (the Debian package chromium; scripts/deps.sh installs it): %v", Chromium, err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skipf("headless Chromium test needs Node.js (scripts/deps.sh installs it): %v", err)
	}
	for _, pkg := range pkgs {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err == nil {
			continue
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skipf("headless Chromium test needs npm to install %s: %v", pkg, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
		break // npm ci installs the whole project
	}
	return node
}
