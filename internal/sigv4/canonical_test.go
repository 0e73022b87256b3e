package sigv4

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/bucket/key", "/bucket/key"},
		{"/b/a b+c", "/b/a%20b%2Bc"},
		{"/b/~._-", "/b/~._-"},
		{"/b/a=b&c", "/b/a%3Db%26c"},
		{"/b/€", "/b/%E2%82%AC"},
		{"/b/%2F", "/b/%252F"},
		{"/b//./../x", "/b//./../x"},
		{"/b/!$'()*,;:@[]", "/b/%21%24%27%28%29%2A%2C%3B%3A%40%5B%5D"},
	}
	for _, tc := range tests {
		if got := EncodePath(tc.in); got != tc.want {
			t.Errorf("EncodePath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct{ raw, skip, want string }{
		{"", "", ""},
		{"acl", "", "acl="},
		{"uploads&prefix=a", "", "prefix=a&uploads="},
		{"prefix=a+b&prefix=a%20a", "", "prefix=a%20a&prefix=a%20b"},
		{"b=2&a=1&B=3", "", "B=3&a=1&b=2"},
		{"k=%7E~&x=%2f/", "", "k=~~&x=%2F%2F"},
		{"a=1;b=2", "", "a=1%3Bb%3D2"},
		{"&&a=&", "", "a="},
		{"X-Amz-Signature=abc&a=1", "X-Amz-Signature", "a=1"},
		{"k=%E2%82%AC", "", "k=%E2%82%AC"},
	}
	for _, tc := range tests {
		params, err := parseQuery(tc.raw)
		if err != nil {
			t.Fatalf("parseQuery(%q): %v", tc.raw, err)
		}
		if got := canonicalQuery(params, tc.skip); got != tc.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	if _, err := parseQuery("a=%zz"); err == nil || !strings.Contains(err.Error(), `query parameter "a"`) {
		t.Errorf("parseQuery(a=%%zz) error = %v", err)
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := newServerRequest("PUT", "/b/k", "example.com:9000", nil, []byte("12345"))
	r.Header.Add("X-Amz-Meta-A", "  one   two  ")
	r.Header.Add("X-Amz-Meta-A", "three")
	r.Header.Set("X-Empty", "")
	r.Header.Del("Content-Length")
	got := canonicalHeaders(r, []string{"content-length", "host", "x-amz-meta-a", "x-empty", "x-missing"})
	want := "content-length:5\nhost:example.com:9000\nx-amz-meta-a:one two,three\nx-empty:\nx-missing:\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canonicalHeaders (-want +got):\n%s", diff)
	}
	r.TransferEncoding = []string{"chunked"}
	if got := headerValues(r, "transfer-encoding"); !cmp.Equal(got, []string{"chunked"}) {
		t.Errorf("transfer-encoding = %q", got)
	}
}

func TestTrimAll(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"  a  ":        "a",
		"a  b   c":     "a b c",
		"a\tb":         "a\tb",
		" a b ":        "a b",
		"\t x  y \t\n": "x y",
	} {
		if got := trimAll(in); got != want {
			t.Errorf("trimAll(%q) = %q, want %q", in, got, want)
		}
	}
}
