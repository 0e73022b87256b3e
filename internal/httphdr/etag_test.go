package httphdr

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseETag(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ETag
		ok   bool
	}{
		// RFC 9110 §8.8.3 examples.
		{"strong", `"xyzzy"`, ETag{Value: "xyzzy"}, true},
		{"weak", `W/"xyzzy"`, ETag{Weak: true, Value: "xyzzy"}, true},
		{"empty opaque-tag", `""`, ETag{Value: ""}, true},
		{"weak empty", `W/""`, ETag{Weak: true}, true},
		{"OWS around", " \t\"a\" ", ETag{Value: "a"}, true},
		{"S3 multipart style", `"d41d8cd98f00b204e9800998ecf8427e-2"`, ETag{Value: "d41d8cd98f00b204e9800998ecf8427e-2"}, true},
		{"comma inside quotes", `"a,b"`, ETag{Value: "a,b"}, true},
		{"W/ inside quotes", `"W/x"`, ETag{Value: "W/x"}, true},
		{"obs-text", "\"caf\xc3\xa9\"", ETag{Value: "caf\xc3\xa9"}, true},
		{"invalid: space inside quotes", `"a b"`, ETag{}, false},
		{"invalid: unterminated", `"abc`, ETag{}, false},
		{"invalid: trailing garbage", `"abc"x`, ETag{}, false},
		{"invalid: two tags", `"a", "b"`, ETag{}, false},
		{"invalid: lowercase w/ is a bare tag with a quote", `w/"a"`, ETag{}, false},
		{"invalid: empty", ``, ETag{}, false},
		{"invalid: W/ alone", `W/`, ETag{}, false},
		{"invalid: control char", "\"a\x01\"", ETag{}, false},
		{"invalid: stray quote in bare tag", `ab"c"`, ETag{}, false},
		{"invalid: bare with comma", `a,b`, ETag{}, false},
		{"invalid: bare with space", `a b`, ETag{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseETag(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseETag(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// A1: origins that send unquoted ETags; they are read as strong tags.
func TestParseETagBare_A1(t *testing.T) {
	tests := []struct {
		in   string
		want ETag
	}{
		{`5e8c1a2b-1f4`, ETag{Value: "5e8c1a2b-1f4"}}, // nginx-style, unquoted
		{`d41d8cd98f00b204e9800998ecf8427e`, ETag{Value: "d41d8cd98f00b204e9800998ecf8427e"}},
		{`W/abc`, ETag{Weak: true, Value: "abc"}},
		{` abc `, ETag{Value: "abc"}},
		{`*`, ETag{Value: "*"}},
	}
	for _, tt := range tests {
		got, ok := ParseETag(tt.in)
		if !ok || got != tt.want {
			t.Errorf("ParseETag(%q) = %+v, %v; want %+v, true", tt.in, got, ok, tt.want)
		}
		// A bare tag is sent on quoted, as RFC 9110 §8.8.3 requires.
		if again, ok := ParseETag(got.String()); !ok || again != got {
			t.Errorf("ParseETag(%q.String() = %q) = %+v, %v; want %+v", tt.in, got.String(), again, ok, got)
		}
	}
}

func TestETagString(t *testing.T) {
	tests := []struct {
		in   ETag
		want string
	}{
		{ETag{Value: "abc"}, `"abc"`},
		{ETag{Weak: true, Value: "abc"}, `W/"abc"`},
		{ETag{}, `""`},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// RFC 9110 §8.8.3.2, the comparison table.
func TestETagComparison(t *testing.T) {
	tests := []struct {
		a, b         string
		strong, weak bool
	}{
		{`W/"1"`, `W/"1"`, false, true},
		{`W/"1"`, `W/"2"`, false, false},
		{`W/"1"`, `"1"`, false, true},
		{`"1"`, `"1"`, true, true},
		{`"1"`, `"2"`, false, false},
		{`"a"`, `"A"`, false, false}, // opaque-tags are case-sensitive
		{`"1"`, `1`, true, true},     // A1: a bare tag equals its quoted form
	}
	for _, tt := range tests {
		a, okA := ParseETag(tt.a)
		b, okB := ParseETag(tt.b)
		if !okA || !okB {
			t.Fatalf("ParseETag(%q), ParseETag(%q) failed", tt.a, tt.b)
		}
		if got := StrongCompare(a, b); got != tt.strong {
			t.Errorf("StrongCompare(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.strong)
		}
		if got := StrongCompare(b, a); got != tt.strong {
			t.Errorf("StrongCompare(%s, %s) = %v, want %v", tt.b, tt.a, got, tt.strong)
		}
		if got := WeakCompare(a, b); got != tt.weak {
			t.Errorf("WeakCompare(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.weak)
		}
	}
}

func TestParseETagList(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ETagList
		ok   bool
	}{
		// RFC 9110 §13.1.1 examples.
		{"one", `"xyzzy"`, ETagList{Tags: []ETag{{Value: "xyzzy"}}}, true},
		{"three", `"xyzzy", "r2d2xxxx", "c3piozzzz"`, ETagList{Tags: []ETag{{Value: "xyzzy"}, {Value: "r2d2xxxx"}, {Value: "c3piozzzz"}}}, true},
		{"any", `*`, ETagList{Any: true}, true},
		{"any with OWS", " * ", ETagList{Any: true}, true},
		// RFC 9110 §13.1.2 example.
		{"weak tags", `W/"xyzzy", W/"r2d2xxxx"`, ETagList{Tags: []ETag{{Weak: true, Value: "xyzzy"}, {Weak: true, Value: "r2d2xxxx"}}}, true},
		{"no OWS", `"a","b"`, ETagList{Tags: []ETag{{Value: "a"}, {Value: "b"}}}, true},
		{"comma inside quotes", `"a,b", "c"`, ETagList{Tags: []ETag{{Value: "a,b"}, {Value: "c"}}}, true},
		{"empty elements", `, "a" ,, "b",`, ETagList{Tags: []ETag{{Value: "a"}, {Value: "b"}}}, true},
		{"quoted star is a tag", `"*", "a"`, ETagList{Tags: []ETag{{Value: "*"}, {Value: "a"}}}, true},
		{"bare tags A1", `abc, W/def ,"ghi"`, ETagList{Tags: []ETag{{Value: "abc"}, {Weak: true, Value: "def"}, {Value: "ghi"}}}, true},
		{"empty opaque-tag", `""`, ETagList{Tags: []ETag{{}}}, true},
		{"invalid: empty", ``, ETagList{}, false},
		{"invalid: only commas", ` , ,`, ETagList{}, false},
		{"invalid: star with tags", `*, "a"`, ETagList{}, false},
		{"invalid: tags then star", `"a", *`, ETagList{}, false},
		{"invalid: missing comma", `"a" "b"`, ETagList{}, false},
		{"invalid: unterminated", `"a", "b`, ETagList{}, false},
		{"invalid: stray quote", `"a", b"c"`, ETagList{}, false},
		{"invalid: control char", "\"a\x00\"", ETagList{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseETagList(tt.in)
			if ok != tt.ok {
				t.Fatalf("ParseETagList(%q) ok = %v, want %v (got %+v)", tt.in, ok, tt.ok, got)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ParseETagList(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestETagListMatch(t *testing.T) {
	list, _ := ParseETagList(`W/"a", "b"`)
	tests := []struct {
		cur          ETag
		strong, weak bool
	}{
		{ETag{Value: "a"}, false, true}, // listed weak: never a strong match
		{ETag{Weak: true, Value: "a"}, false, true},
		{ETag{Value: "b"}, true, true},
		{ETag{Weak: true, Value: "b"}, false, true}, // current weak
		{ETag{Value: "c"}, false, false},
	}
	for _, tt := range tests {
		if got := list.MatchStrong(tt.cur); got != tt.strong {
			t.Errorf("MatchStrong(%s) = %v, want %v", tt.cur, got, tt.strong)
		}
		if got := list.MatchWeak(tt.cur); got != tt.weak {
			t.Errorf("MatchWeak(%s) = %v, want %v", tt.cur, got, tt.weak)
		}
	}
	anyList := ETagList{Any: true}
	if !anyList.MatchStrong(ETag{Weak: true}) || !anyList.MatchWeak(ETag{}) {
		t.Errorf("\"*\" list did not match")
	}
}
