package transform

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	both := []Coding{Brotli, Gzip}
	tests := []struct {
		name    string
		accept  []string
		offered []Coding
		want    Coding
	}{
		{"no field", nil, both, Identity},
		{"browser", []string{"gzip, deflate, br, zstd"}, both, Brotli},
		{"server preference breaks ties", []string{"gzip, br"}, both, Brotli},
		{"gzip only offered", []string{"gzip, br"}, []Coding{Gzip}, Gzip},
		{"weights", []string{"br;q=0.5, gzip;q=0.8"}, both, Gzip},
		{"x-gzip alias", []string{"x-gzip"}, both, Gzip},
		{"case and spaces", []string{" GZIP ; Q=1 "}, both, Gzip},
		{"refused coding", []string{"br;q=0, gzip"}, both, Gzip},
		{"wildcard", []string{"*"}, both, Brotli},
		{"wildcard refused, gzip named", []string{"*;q=0, gzip;q=0.1"}, both, Gzip},
		{"identity preferred by weight", []string{"gzip;q=0.5, identity"}, both, Identity},
		{"unnamed identity comes last", []string{"gzip;q=0.5"}, both, Gzip},
		{"identity explicitly lower", []string{"gzip;q=0.5, identity;q=0.1"}, both, Gzip},
		{"nothing acceptable", []string{"zstd"}, both, Identity},
		{"empty value", []string{""}, both, Identity},
		{"several field lines", []string{"deflate", "br"}, both, Brotli},
		{"malformed weight counts as asked", []string{"br;q=2"}, both, Brotli},
		{"three decimals", []string{"br;q=0.001, gzip;q=0.002"}, both, Gzip},
	}
	for _, tt := range tests {
		if got := Negotiate(tt.accept, tt.offered); got != tt.want {
			t.Errorf("%s: Negotiate(%q, %v) = %q, want %q", tt.name, tt.accept, tt.offered, got, tt.want)
		}
	}
}

func TestAccepts(t *testing.T) {
	tests := []struct {
		accept []string
		c      Coding
		want   bool
	}{
		{nil, Identity, true},
		{nil, Gzip, false},
		{[]string{"gzip"}, Gzip, true},
		{[]string{"gzip"}, Brotli, false},
		{[]string{"gzip"}, Identity, true},
		{[]string{"identity;q=0, gzip"}, Identity, false},
		{[]string{"*;q=0"}, Identity, false},
		{[]string{"*"}, Brotli, true},
	}
	for _, tt := range tests {
		if got := Accepts(tt.accept, tt.c); got != tt.want {
			t.Errorf("Accepts(%q, %q) = %v, want %v", tt.accept, tt.c, got, tt.want)
		}
	}
}

func TestParseCoding(t *testing.T) {
	tests := []struct {
		in   string
		want Coding
		ok   bool
	}{
		{"", Identity, true}, {"identity", Identity, true}, {"GZIP", Gzip, true}, {"x-gzip", Gzip, true},
		{"br", Brotli, true}, {"deflate", "", false}, {"gzip, br", "", false}, {"zstd", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseCoding(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseCoding(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	body := bytes.Repeat([]byte("<p>hello, edge</p>\n"), 500)
	for _, c := range []Coding{Identity, Gzip, Brotli} {
		enc, err := Encode(c, body, 0)
		if err != nil {
			t.Fatalf("Encode(%s): %v", c, err)
		}
		if c != Identity && len(enc) >= len(body)/4 {
			t.Errorf("Encode(%s): %d bytes from %d: not compressed", c, len(enc), len(body))
		}
		dec, err := Decode(c, enc, int64(len(body)))
		if err != nil {
			t.Fatalf("Decode(%s): %v", c, err)
		}
		if !bytes.Equal(dec, body) {
			t.Errorf("Decode(Encode(%s)) differs from the input", c)
		}
	}
}

func TestDecodeLimit(t *testing.T) {
	// A small gzip body that expands far beyond the limit is refused, not
	// decoded whole (a decompression bomb).
	enc, err := Encode(Gzip, make([]byte, 10<<20), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(Gzip, enc, 1<<20); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Decode of 10 MiB with a 1 MiB limit: err = %v, want ErrTooLarge", err)
	}
	if _, err := Decode(Gzip, []byte("not gzip at all"), 1<<20); err == nil {
		t.Error("Decode of a corrupt gzip body succeeded")
	}
}

func TestMinify(t *testing.T) {
	mf := NewMinifier()
	tests := []struct {
		kind    Kind
		in      string
		want    []string // substrings of the output
		notWant []string
	}{
		{HTML, "<!DOCTYPE html>\n<html>\n  <head>\n    <title>  Hi  </title>\n  </head>\n  <body>\n    <!-- a comment -->\n    <p class=\"x\">  text  </p>\n  </body>\n</html>\n",
			[]string{"<html>", "</body>", `class="x"`}, []string{"a comment", "\n  "}},
		{CSS, "body {\n  color : #ff0000 ;\n  margin: 0px;\n}\n", []string{"body{"}, []string{"\n"}},
		{JS, "function add(first, second) {\n  // sum\n  return first + second;\n}\n", []string{"first", "second"}, []string{"// sum", "\n  "}},
	}
	for _, tt := range tests {
		out, err := mf.Minify(tt.kind, []byte(tt.in))
		if err != nil {
			t.Fatalf("Minify(%s): %v", tt.kind, err)
		}
		if len(out) >= len(tt.in) {
			t.Errorf("Minify(%s): %d bytes from %d", tt.kind, len(out), len(tt.in))
		}
		for _, s := range tt.want {
			if !strings.Contains(string(out), s) {
				t.Errorf("Minify(%s) = %q, want it to contain %q", tt.kind, out, s)
			}
		}
		for _, s := range tt.notWant {
			if strings.Contains(string(out), s) {
				t.Errorf("Minify(%s) = %q, want no %q", tt.kind, out, s)
			}
		}
	}
	// A body the minifier cannot parse comes back unchanged, with the error.
	bad := []byte("function ( {")
	out, err := mf.Minify(JS, bad)
	if err == nil || !bytes.Equal(out, bad) {
		t.Errorf("Minify(JS, %q) = %q, %v; want the input back and an error", bad, out, err)
	}
}

func TestMediaTypeAndMatch(t *testing.T) {
	if got := MediaType("Text/HTML; charset=UTF-8"); got != "text/html" {
		t.Errorf("MediaType = %q", got)
	}
	if got := MediaType("text/css;;"); got != "text/css" {
		t.Errorf("MediaType(sloppy) = %q", got)
	}
	if got := MediaType("garbage"); got != "" {
		t.Errorf("MediaType(garbage) = %q", got)
	}
	pats := []string{"text/*", "application/json"}
	for mt, want := range map[string]bool{"text/plain": true, "application/json": true, "application/jsonx": false, "image/png": false, "": false, "textual/x": false} {
		if got := MatchType(pats, mt); got != want {
			t.Errorf("MatchType(%q) = %v, want %v", mt, got, want)
		}
	}
	for mt, want := range map[string]Kind{"text/html": HTML, "text/css": CSS, "text/javascript": JS, "application/json": ""} {
		if got := KindOf(mt); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", mt, got, want)
		}
	}
}
