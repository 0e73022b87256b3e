package cachepolicy

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestValidationHeaders(t *testing.T) {
	lm := "Fri, 01 Mar 2024 10:00:00 GMT"
	tests := []struct {
		name   string
		stored []http.Header
		want   http.Header
	}{
		// §4.3.1: the entity tag (MUST) and Last-Modified (SHOULD).
		{"both", []http.Header{hdr("ETag", `"abc"`, "Last-Modified", lm)},
			hdr("If-None-Match", `"abc"`, "If-Modified-Since", lm)},
		{"weak tag", []http.Header{hdr("ETag", `W/"abc"`)}, hdr("If-None-Match", `W/"abc"`)},
		{"last-modified only", []http.Header{hdr("Last-Modified", lm)}, hdr("If-Modified-Since", lm)},
		// The obsolete date format is sent verbatim: origins compare textually.
		{"obsolete date verbatim", []http.Header{hdr("Last-Modified", "Friday, 01-Mar-24 10:00:00 GMT")},
			hdr("If-Modified-Since", "Friday, 01-Mar-24 10:00:00 GMT")},
		{"bad last-modified", []http.Header{hdr("Last-Modified", "yesterday")}, hdr()},
		{"bad etag", []http.Header{hdr("ETag", `"ab`)}, hdr()},
		{"nothing", []http.Header{hdr("Content-Type", "text/plain")}, hdr()},
		{"none stored", nil, hdr()},
		// Several stored variants: all tags, no If-Modified-Since.
		{"variants", []http.Header{hdr("ETag", `"a"`, "Last-Modified", lm), hdr("ETag", `W/"b"`), hdr("ETag", `"a"`), hdr()},
			hdr("If-None-Match", `"a", W/"b"`)},
	}
	for _, tt := range tests {
		got := ValidationHeaders(tt.stored...)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: ValidationHeaders mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestValidationHeadersUnquotedETag_A1(t *testing.T) {
	// A1: the origin's ETag was not quoted; the revalidation must still
	// carry a valid (quoted) If-None-Match.
	got := ValidationHeaders(hdr("ETag", "5a62f1c3e4b0a9d7", "Last-Modified", "Fri, 01 Mar 2024 10:00:00 GMT"))
	if want := `"5a62f1c3e4b0a9d7"`; got.Get("If-None-Match") != want {
		t.Errorf("If-None-Match = %q, want %q", got.Get("If-None-Match"), want)
	}
}

func TestMergeNotModified(t *testing.T) {
	stored := hdr("Content-Type", "video/mp4", "Content-Length", "1000", "ETag", `"v1"`,
		"Cache-Control", "max-age=60", "Date", date(0), "Content-Md5", "AAAA",
		"X-Amz-Checksum-Crc64nvme", "old=", "Content-Encoding", "gzip", "X-Kept", "1",
		"Content-Range", "bytes 0-999/5000")
	nm := hdr("Cache-Control", "max-age=600", "Date", date(hour), "ETag", `"v1"`,
		"Content-Length", "0", "Content-Md5", "BBBB", "X-Amz-Checksum-Crc64nvme", "new=",
		"Content-Encoding", "br", "Content-Range", "bytes 0-0/1", "X-New", "a", "X-New", "b",
		"Connection", "close, X-Conn", "X-Conn", "1", "Keep-Alive", "timeout=5",
		"Content-Type", "video/webm")
	got := MergeNotModified(stored, nm)
	want := hdr("Content-Type", "video/webm", "Content-Length", "1000", "ETag", `"v1"`,
		"Cache-Control", "max-age=600", "Date", date(hour), "Content-Md5", "AAAA",
		"X-Amz-Checksum-Crc64nvme", "old=", "Content-Encoding", "gzip", "X-Kept", "1",
		"Content-Range", "bytes 0-999/5000", "X-New", "a", "X-New", "b")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergeNotModified mismatch (-want +got):\n%s", diff)
	}
	if stored.Get("Cache-Control") != "max-age=60" {
		t.Errorf("MergeNotModified modified the stored header")
	}
	// The stored response, updated, is fresh again from the validation time.
	e := UpdateEntry(entry("Cache-Control", "max-age=60", "Date", date(0)),
		hdr("Date", date(hour)), at(hour), at(hour))
	if d := (Policy{}).Decide(e, nil, at(hour+30*sec)); d.Action != Fresh || d.Age != 30*sec {
		t.Errorf("after UpdateEntry: Decide = %v age %v, want Fresh age 30s", d.Action, d.Age)
	}
}

func TestSelectForUpdate(t *testing.T) {
	lm1, lm2 := date(-2*hour), date(-hour)
	stored := []Entry{
		{Header: hdr("ETag", `"a"`, "Last-Modified", lm1), ResponseTime: at(1)},
		{Header: hdr("ETag", `"b"`, "Last-Modified", lm2), ResponseTime: at(2)},
		{Header: hdr("ETag", `"a"`, "Last-Modified", lm1), ResponseTime: at(3)},
		{Header: hdr("ETag", `W/"w"`, "Last-Modified", lm2), ResponseTime: at(4)},
		{Header: hdr("ETag", `W/"w"`), ResponseTime: at(5)},
		{Header: hdr("ETag", `W/"w"`), ResponseTime: at(0)},
	}
	tests := []struct {
		name   string
		nm     http.Header
		stored []Entry
		want   []int
	}{
		// §4.3.4: a strong validator selects every match.
		{"strong", hdr("ETag", `"a"`), stored, []int{0, 2}},
		{"strong wins over last-modified", hdr("ETag", `"b"`, "Last-Modified", lm1), stored, []int{1}},
		{"strong no match", hdr("ETag", `"zzz"`), stored, nil},
		// A strong 304 tag does not match a weak stored one.
		{"strong vs weak stored", hdr("ETag", `"w"`), stored, nil},
		// A weak validator selects the most recent match.
		{"weak", hdr("ETag", `W/"w"`), stored, []int{4}},
		{"weak matches strong stored", hdr("ETag", `W/"b"`), stored, []int{1}},
		{"last-modified", hdr("Last-Modified", lm2), stored, []int{3}},
		{"last-modified no match", hdr("Last-Modified", date(0)), stored, nil},
		// No validator: only a lone validator-less stored response.
		{"none lone", hdr(), []Entry{{Header: hdr()}}, []int{0}},
		{"none lone with tag", hdr(), []Entry{{Header: hdr("ETag", `"a"`)}}, nil},
		{"none several", hdr(), []Entry{{Header: hdr()}, {Header: hdr()}}, nil},
		{"empty", hdr("ETag", `"a"`), nil, nil},
	}
	for _, tt := range tests {
		got := SelectForUpdate(tt.nm, tt.stored)
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: SelectForUpdate mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSelectForUpdateUnquotedETag_A1(t *testing.T) {
	// A1: the stored response carries the origin's bare ETag; the 304 to
	// the revalidation carries it quoted (or bare again). Both select it.
	stored := []Entry{{Header: hdr("ETag", "5a62f1c3e4b0a9d7")}, {Header: hdr("ETag", `"other"`)}}
	for _, tag := range []string{`"5a62f1c3e4b0a9d7"`, "5a62f1c3e4b0a9d7"} {
		if got := SelectForUpdate(hdr("ETag", tag), stored); !cmp.Equal(got, []int{0}) {
			t.Errorf("304 ETag %s: SelectForUpdate = %v, want [0]", tag, got)
		}
	}
}

// TestUpdateValidated: a 304 answering the conditional request made for one
// stored response validates it (RFC 9111 §4.3.3) even without validators or
// with another ETag (the http-tests cc-resp-no-cache-revalidate,
// conditional-etag-strong-generate and 304-etag-update-response-ETag
// scenarios); the stored ETag is kept, other fields are updated, and the
// stored Age no longer counts.
func TestUpdateValidated(t *testing.T) {
	tests := []struct {
		name   string
		stored http.Header
		nm     http.Header
		want   http.Header
	}{
		{"no validators in 304",
			hdr("ETag", `"abcd"`, "Cache-Control", "no-cache", "X-A", "1", "Age", "100"),
			hdr("X-A", "2", "Date", date(hour)),
			hdr("ETag", `"abcd"`, "Cache-Control", "no-cache", "X-A", "2", "Date", date(hour))},
		{"other etag in 304",
			hdr("ETag", `"abcdef"`, "Cache-Control", "max-age=2", "Test", "A"),
			hdr("ETag", `"ghijkl"`, "Cache-Control", "max-age=2", "Test", "B"),
			hdr("ETag", `"abcdef"`, "Cache-Control", "max-age=2", "Test", "B")},
		{"matching etag",
			hdr("ETag", `"x"`, "Test", "A"),
			hdr("ETag", `"x"`, "Test", "B", "Age", "5"),
			hdr("ETag", `"x"`, "Test", "B", "Age", "5")},
		{"last-modified only, 304 bare",
			hdr("Last-Modified", date(-day), "Test", "A"),
			hdr("Test", "B"),
			hdr("Last-Modified", date(-day), "Test", "B")},
		{"stored without etag adopts the 304's",
			hdr("Last-Modified", date(-day)),
			hdr("ETag", `"new"`),
			hdr("Last-Modified", date(-day), "ETag", `"new"`)},
	}
	for _, tt := range tests {
		e := Entry{Status: 200, Header: tt.stored, RequestTime: t0, ResponseTime: t0}
		got := UpdateValidated(e, tt.nm, at(hour), at(hour+sec))
		if diff := cmp.Diff(tt.want, got.Header); diff != "" {
			t.Errorf("%s: header mismatch (-want +got):\n%s", tt.name, diff)
		}
		if !got.RequestTime.Equal(at(hour)) || !got.ResponseTime.Equal(at(hour+sec)) {
			t.Errorf("%s: times %v %v, want the validation exchange's", tt.name, got.RequestTime, got.ResponseTime)
		}
		if tt.stored.Get("X-A") == "1" && tt.stored.Get("Age") != "100" {
			t.Errorf("%s: the stored header was modified", tt.name)
		}
	}
}
