package httphdr

import (
	"errors"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParseRange checks ParseRange's invariants: it never panics, fails only
// with its two sentinels, and returns 1..MaxRanges ranges inside [0,size)
// that, once coalesced, do not overlap and sum to at most size bytes.
func FuzzParseRange(f *testing.F) {
	f.Add("bytes=0-99", int64(1000))
	f.Add("bytes=-0", int64(10))
	f.Add("bytes=0-,0-,-5", int64(1<<62))
	f.Fuzz(func(t *testing.T, s string, size int64) {
		ranges, err := ParseRange(s, size)
		if err != nil {
			if !errors.Is(err, ErrInvalidRange) && !errors.Is(err, ErrUnsatisfiable) {
				t.Fatalf("ParseRange(%q, %d) error %v is neither sentinel", s, size, err)
			}
			if ranges != nil {
				t.Fatalf("ParseRange(%q, %d) = %v with error %v", s, size, ranges, err)
			}
			return
		}
		if len(ranges) == 0 || len(ranges) > MaxRanges {
			t.Fatalf("ParseRange(%q, %d) returned %d ranges", s, size, len(ranges))
		}
		var total int64
		for _, r := range ranges {
			if r.Start < 0 || r.Length <= 0 || r.Start > size-r.Length {
				t.Fatalf("ParseRange(%q, %d) = %v: %+v is outside [0,%d)", s, size, ranges, r, size)
			}
			total += r.Length
			if total <= 0 || total > size {
				t.Fatalf("ParseRange(%q, %d) = %v: %d bytes in total, more than size", s, size, ranges, total)
			}
		}
		sorted := slices.Clone(ranges)
		slices.SortFunc(sorted, func(a, b ByteRange) int { return int(min(max(a.Start-b.Start, -1), 1)) })
		for i := 1; i < len(sorted); i++ {
			if sorted[i].Start < sorted[i-1].end() {
				t.Fatalf("ParseRange(%q, %d) = %v: ranges overlap", s, size, ranges)
			}
		}
		// The Content-Range of each part must itself be a valid single range.
		for _, r := range ranges {
			spec := strings.TrimPrefix(r.ContentRange(size), "bytes ")
			spec = spec[:strings.IndexByte(spec, '/')]
			again, err := ParseRange("bytes="+spec, size)
			if err != nil || len(again) != 1 || again[0] != r {
				t.Fatalf("ParseRange(bytes=%s, %d) = %v, %v; want [%+v]", spec, size, again, err, r)
			}
		}
	})
}

// FuzzParseETag checks that a parsed tag never holds DQUOTE and that its
// String form parses back to the same tag.
func FuzzParseETag(f *testing.F) {
	f.Add(`"xyzzy"`)
	f.Add(`W/"xyzzy"`)
	f.Add(`abc`)
	f.Fuzz(func(t *testing.T, s string) {
		tag, ok := ParseETag(s)
		if !ok {
			if tag != (ETag{}) {
				t.Fatalf("ParseETag(%q) = %+v, false; want the zero ETag", s, tag)
			}
			return
		}
		if strings.ContainsAny(tag.Value, "\" \t\r\n") {
			t.Fatalf("ParseETag(%q).Value = %q holds DQUOTE or whitespace", s, tag.Value)
		}
		again, ok := ParseETag(tag.String())
		if !ok || again != tag {
			t.Fatalf("ParseETag(%q) = %+v; its String %q parses to %+v, %v", s, tag, tag.String(), again, ok)
		}
		if !WeakCompare(tag, again) || StrongCompare(tag, again) == tag.Weak {
			t.Fatalf("comparisons of %+v with itself are wrong", tag)
		}
	})
}

// FuzzParseETagList checks that a parsed list is "*" or non-empty, and that
// formatting it and parsing again yields the same list.
func FuzzParseETagList(f *testing.F) {
	f.Add(`"a", W/"b"`)
	f.Add(`*`)
	f.Add(`a, ,b`)
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := ParseETagList(s)
		if !ok {
			return
		}
		if l.Any {
			if len(l.Tags) != 0 {
				t.Fatalf("ParseETagList(%q) = %+v: \"*\" with tags", s, l)
			}
			return
		}
		if len(l.Tags) == 0 {
			t.Fatalf("ParseETagList(%q) = %+v: empty list", s, l)
		}
		parts := make([]string, len(l.Tags))
		for i, tag := range l.Tags {
			parts[i] = tag.String()
		}
		again, ok := ParseETagList(strings.Join(parts, ", "))
		if !ok || !slices.Equal(again.Tags, l.Tags) || again.Any {
			t.Fatalf("ParseETagList(%q) = %+v; formatted and parsed again = %+v, %v", s, l, again, ok)
		}
		for _, tag := range l.Tags {
			if !l.MatchWeak(tag) {
				t.Fatalf("ParseETagList(%q): %+v does not match itself weakly", s, tag)
			}
		}
	})
}

// FuzzEvaluate drives Evaluate and IfRangeMatches with arbitrary fields and
// validators: no panic, a known outcome, 304 only for GET and HEAD, and
// nothing but Proceed without preconditions.
func FuzzEvaluate(f *testing.F) {
	f.Add("GET", `"v1"`, "", "", "", `"v1"`, int64(1709294400), int64(0), false, `"v1"`)
	f.Add("PUT", "", "*", "", "", `"v1"`, int64(0), int64(0), true, "")
	f.Add("GET", "", "", "Fri, 01 Mar 2024 12:00:00 GMT", "Fri, 01 Mar 2024 11:00:00 GMT", "v1", int64(1709294400), int64(1709294500), false, "Fri, 01 Mar 2024 12:00:00 GMT")
	f.Fuzz(func(t *testing.T, method, ifMatch, ifNoneMatch, ims, ius, etag string, lastMod, now int64, absent bool, ifRange string) {
		h := http.Header{}
		for name, val := range map[string]string{
			"If-Match": ifMatch, "If-None-Match": ifNoneMatch,
			"If-Modified-Since": ims, "If-Unmodified-Since": ius, "If-Range": ifRange,
		} {
			// A NUL splits the input into several field lines.
			for line := range strings.SplitSeq(val, "\x00") {
				if line != "" {
					h.Add(name, line)
				}
			}
		}
		v := Validators{ETag: etag, Absent: absent}
		if lastMod != 0 {
			v.LastModified = time.Unix(lastMod, 0)
		}
		if now != 0 {
			v.Now = time.Unix(now, 0)
		}
		got := Evaluate(method, h, v)
		switch got {
		case Proceed, PreconditionFailed:
		case NotModified:
			if method != http.MethodGet && method != http.MethodHead {
				t.Fatalf("Evaluate(%q, %v, %+v) = 304 for a method other than GET/HEAD", method, h, v)
			}
		default:
			t.Fatalf("Evaluate(%q, %v, %+v) = %v", method, h, v, got)
		}
		if ir := IfRangeMatches(h, v); !ir && len(h.Values("If-Range")) == 0 {
			t.Fatalf("IfRangeMatches without If-Range = false")
		}
		h.Del("If-Range")
		if len(h) == 0 && got != Proceed {
			t.Fatalf("Evaluate(%q, no preconditions, %+v) = %v", method, v, got)
		}
	})
}

// FuzzParseContentRange checks that a parsed Content-Range is consistent
// (a non-empty range inside the complete length when known) and that
// formatting it again parses back to the same values.
func FuzzParseContentRange(f *testing.F) {
	f.Add("bytes 42-1233/1234")
	f.Add("bytes */1234")
	f.Add("bytes 0-9/*")
	f.Fuzz(func(t *testing.T, s string) {
		r, size, err := ParseContentRange(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidContentRange) {
				t.Fatalf("ParseContentRange(%q) error %v is not ErrInvalidContentRange", s, err)
			}
			return
		}
		if size < -1 {
			t.Fatalf("ParseContentRange(%q) size = %d", s, size)
		}
		if r == (ByteRange{}) {
			if size < 0 {
				t.Fatalf("ParseContentRange(%q) = unsatisfied range without a length", s)
			}
			formatted := UnsatisfiedRange(size)
			if r2, size2, err := ParseContentRange(formatted); err != nil || r2 != r || size2 != size {
				t.Fatalf("ParseContentRange(%q) = */%d; %q parses to %+v, %d, %v", s, size, formatted, r2, size2, err)
			}
			return
		}
		if r.Start < 0 || r.Length <= 0 || r.Start > math.MaxInt64-r.Length || (size >= 0 && r.end() > size) {
			t.Fatalf("ParseContentRange(%q) = %+v, %d: inconsistent", s, r, size)
		}
		formatted := r.ContentRange(size)
		r2, size2, err := ParseContentRange(formatted)
		if err != nil || r2 != r || size2 != size {
			t.Fatalf("ParseContentRange(%q) = %+v, %d; %q parses to %+v, %d, %v", s, r, size, formatted, r2, size2, err)
		}
	})
}
