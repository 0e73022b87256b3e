package transform

import "testing"

// FuzzNegotiate checks that any Accept-Encoding value yields one of the
// offered codings or identity, and that a coding named with q=0 is never
// chosen.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"gzip, deflate, br", "br;q=0.5, gzip;q=0.8", "*;q=0", "identity;q=0, gzip", "x-gzip;q=1.000", ";;,;q=", "br;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		offered := []Coding{Brotli, Gzip}
		got := Negotiate([]string{accept}, offered)
		if got != Identity && got != Brotli && got != Gzip {
			t.Fatalf("Negotiate(%q) = %q", accept, got)
		}
		if got != Identity && !Accepts([]string{accept}, got) {
			t.Fatalf("Negotiate(%q) = %q, which the field does not accept", accept, got)
		}
	})
}

// FuzzDecode checks that decoding arbitrary bytes never panics and never
// exceeds its limit.
func FuzzDecode(f *testing.F) {
	gz, _ := Encode(Gzip, []byte("hello hello hello"), 0)
	br, _ := Encode(Brotli, []byte("hello hello hello"), 0)
	f.Add(gz, false)
	f.Add(br, true)
	f.Add([]byte{0x1f, 0x8b, 8, 0}, false)
	f.Fuzz(func(t *testing.T, body []byte, isBrotli bool) {
		c := Gzip
		if isBrotli {
			c = Brotli
		}
		out, err := Decode(c, body, 1<<16)
		if err == nil && len(out) > 1<<16 {
			t.Fatalf("Decode returned %d bytes over a %d limit", len(out), 1<<16)
		}
	})
}
