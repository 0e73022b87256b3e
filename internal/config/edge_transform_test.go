package config

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDomainTransformParse_C03: the transform keys are read as written.
func TestDomainTransformParse_C03(t *testing.T) {
	cfg, err := Parse([]byte(`
domains:
  - host: a.example.test
    origin: http://10.0.0.1:8000
    transform: {compress: [br, gzip], minify: [html, css, js], types: ["text/*", application/json], min_size: 1KiB, max_size: 8MiB, gzip_level: 9, brotli_level: 11, origin_accept_encoding: identity}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := DomainTransform{
		Compress: []string{"br", "gzip"}, Minify: []string{"html", "css", "js"}, Types: []string{"text/*", "application/json"},
		MinSize: KiB, MaxSize: 8 * MiB, GzipLevel: 9, BrotliLevel: 11, OriginAcceptEncoding: "identity",
	}
	if diff := cmp.Diff(want, cfg.Domains[0].Transform); diff != "" {
		t.Errorf("transform (-want +got):\n%s", diff)
	}
	if !cfg.Domains[0].Transform.Enabled() {
		t.Error("Enabled() = false")
	}
}

// TestDomainTransformProblems: each bad value is reported at its key, with
// what to write instead.
func TestDomainTransformProblems(t *testing.T) {
	_, err := Parse([]byte(`
domains:
  - host: a.example.test
    origin: http://10.0.0.1:8000
    transform: {compress: [br, zstd, br], minify: [png], types: [html], min_size: -1, max_size: -1, gzip_level: 10, brotli_level: 12, origin_accept_encoding: deflate}
  - host: b.example.test
    origin: http://10.0.0.1:8000
    transform: {gzip_level: 5}
`))
	got := problemPaths(t, err)
	want := []string{
		"domains[0].transform.compress[1]", "domains[0].transform.compress[2]", "domains[0].transform.minify[0]",
		"domains[0].transform.types[0]", "domains[0].transform.min_size", "domains[0].transform.max_size",
		"domains[0].transform.gzip_level", "domains[0].transform.brotli_level", "domains[0].transform.origin_accept_encoding",
		"domains[1].transform",
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem paths (-want +got):\n%s\n%v", diff, err)
	}
	for _, s := range []string{`"zstd" is not a coding the edge makes; use "br" or "gzip"`, `"br" is listed twice`, "neither compress nor minify"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}
