package cachepolicy

import (
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestInvalidates(t *testing.T) {
	target, _ := url.Parse("http://www.example.test/a/b?x=1#frag")
	tests := []struct {
		name   string
		method string
		status int
		kv     []string
		want   []string
	}{
		// §4.4: safe methods never invalidate.
		{"get", "GET", 200, nil, nil},
		{"head", "HEAD", 200, nil, nil},
		{"options", "OPTIONS", 200, nil, nil},
		// Non-error statuses only.
		{"post 200", "POST", 200, nil, []string{"http://www.example.test/a/b?x=1"}},
		{"delete 204", "DELETE", 204, nil, []string{"http://www.example.test/a/b?x=1"}},
		{"put 303", "PUT", 303, nil, []string{"http://www.example.test/a/b?x=1"}},
		{"post 404", "POST", 404, nil, nil},
		{"post 500", "POST", 500, nil, nil},
		{"post 100", "POST", 100, nil, nil},
		// Unknown methods count as unsafe.
		{"purge-like", "FROB", 200, nil, []string{"http://www.example.test/a/b?x=1"}},
		// Location and Content-Location on the same origin.
		{"location relative", "POST", 201, []string{"Location", "../c", "Content-Location", "/d#x"},
			[]string{"http://www.example.test/a/b?x=1", "http://www.example.test/c", "http://www.example.test/d"}},
		{"location absolute same origin", "POST", 201, []string{"Location", "HTTP://WWW.EXAMPLE.TEST:80/e"},
			[]string{"http://www.example.test/a/b?x=1", "http://www.example.test/e"}},
		{"location other host", "POST", 201, []string{"Location", "http://evil.test/a/b"},
			[]string{"http://www.example.test/a/b?x=1"}},
		{"location other scheme", "POST", 201, []string{"Content-Location", "https://www.example.test/a"},
			[]string{"http://www.example.test/a/b?x=1"}},
		{"location other port", "POST", 201, []string{"Location", "http://www.example.test:8080/a"},
			[]string{"http://www.example.test/a/b?x=1"}},
		{"location same as target", "POST", 201, []string{"Location", "/a/b?x=1"},
			[]string{"http://www.example.test/a/b?x=1"}},
		{"location garbage", "POST", 201, []string{"Location", "http://[::1"},
			[]string{"http://www.example.test/a/b?x=1"}},
	}
	for _, tt := range tests {
		var got []string
		for _, u := range Invalidates(tt.method, tt.status, target, hdr(tt.kv...)) {
			got = append(got, u.String())
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: Invalidates mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	if target.Fragment != "frag" {
		t.Errorf("Invalidates modified the target")
	}
	v6, _ := url.Parse("http://[::1]:8080/x")
	got := Invalidates("POST", 200, v6, hdr("Location", "http://[::1]:8080/y"))
	if len(got) != 2 || got[0].String() != "http://[::1]:8080/x" || got[1].String() != "http://[::1]:8080/y" {
		t.Errorf("IPv6 target: Invalidates = %v", got)
	}
	rel, _ := url.Parse("/a")
	if got := Invalidates("POST", 200, rel, hdr()); got != nil {
		t.Errorf("relative target: Invalidates = %v, want nil", got)
	}
}
