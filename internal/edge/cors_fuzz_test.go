package edge

import (
	"strings"
	"testing"
)

// FuzzCORSAllowed checks the allow-list matcher on arbitrary origins: it
// never panics, an origin listed exactly is allowed, and a pattern never
// allows the bare domain or another scheme.
func FuzzCORSAllowed(f *testing.F) {
	f.Add("https://a.example.com", "https://*.example.com")
	f.Add("http://x.example.com:8080", "*.example.com:8080")
	f.Add("null", "*")
	f.Add("https://example.com", "https://*.example.com")
	f.Fuzz(func(t *testing.T, origin, pattern string) {
		c := &CORS{AllowOrigins: []string{pattern}}
		got := c.allowed(origin)
		if origin == "" || origin == "null" {
			if got {
				t.Fatalf("allowed(%q) with %q", origin, pattern)
			}
			return
		}
		if _, host, ok := strings.Cut(origin, "://"); ok && got && strings.ContainsAny(host, "/?#@ \\") {
			t.Fatalf("allowed(%q), which is not scheme://host", origin)
		}
		if _, host, ok := strings.Cut(origin, "://"); ok && host != "" && !strings.ContainsAny(host, "/?#@ \\") && strings.EqualFold(strings.TrimSuffix(pattern, "/"), origin) && !got {
			t.Fatalf("exact %q not allowed", origin)
		}
		if rest, ok := strings.CutPrefix(pattern, "https://*."); ok && got && strings.EqualFold(origin, "https://"+rest) {
			t.Fatalf("pattern %q allowed the bare domain %q", pattern, origin)
		}
		if _, ok := strings.CutPrefix(pattern, "https://*."); ok && got && !strings.HasPrefix(strings.ToLower(origin), "https://") {
			t.Fatalf("pattern %q allowed scheme of %q", pattern, origin)
		}
	})
}
