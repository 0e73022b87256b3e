package httphdr

import (
	"net/http"
	"testing"
	"time"
)

// hdr builds a header from name/value pairs; a name may repeat.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var (
	// lastMod has sub-second precision, as a store's mtime does.
	lastMod    = time.Date(2024, time.March, 1, 12, 0, 0, 500_000_000, time.UTC)
	atLastMod  = "Fri, 01 Mar 2024 12:00:00 GMT"
	beforeLM   = "Fri, 01 Mar 2024 11:59:59 GMT"
	afterLM    = "Fri, 01 Mar 2024 12:00:01 GMT"
	current    = Validators{ETag: `"v1"`, LastModified: lastMod}
	weakCur    = Validators{ETag: `W/"v1"`, LastModified: lastMod}
	noValidity = Validators{}
	absent     = Validators{Absent: true}
)

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		method string
		h      http.Header
		v      Validators
		want   Outcome
	}{
		{"no preconditions", "GET", hdr(), current, Proceed},

		// RFC 9110 §13.1.1 If-Match: strong comparison; "*" needs a
		// current representation; false → 412 (§13.2.2 step 1).
		{"If-Match match", "GET", hdr("If-Match", `"v1"`), current, Proceed},
		{"If-Match in list", "PUT", hdr("If-Match", `"v0", "v1"`), current, Proceed},
		{"If-Match mismatch", "GET", hdr("If-Match", `"v2"`), current, PreconditionFailed},
		{"If-Match weak tag never matches", "GET", hdr("If-Match", `W/"v1"`), current, PreconditionFailed},
		{"If-Match current weak never matches", "GET", hdr("If-Match", `"v1"`), weakCur, PreconditionFailed},
		{"If-Match star exists", "PUT", hdr("If-Match", `*`), current, Proceed},
		{"If-Match star without validators exists", "PUT", hdr("If-Match", `*`), noValidity, Proceed},
		{"If-Match star absent", "PUT", hdr("If-Match", `*`), absent, PreconditionFailed},
		{"If-Match tag absent", "PUT", hdr("If-Match", `"v1"`), absent, PreconditionFailed},
		{"If-Match no current ETag", "GET", hdr("If-Match", `"v1"`), noValidity, PreconditionFailed},
		{"If-Match unparseable fails", "PUT", hdr("If-Match", `"v1" junk`), current, PreconditionFailed},
		{"If-Match several lines combine", "GET", hdr("If-Match", `"v0"`, "If-Match", `"v1"`), current, Proceed},
		{"If-Match empty is absent", "GET", hdr("If-Match", ` `), current, Proceed},
		{"If-Match bare current A1", "GET", hdr("If-Match", `"v1"`), Validators{ETag: `v1`}, Proceed},
		{"If-Match bare request A1", "GET", hdr("If-Match", `v1`), current, Proceed},

		// RFC 9110 §13.1.4 If-Unmodified-Since (§13.2.2 step 2).
		{"IUS at Last-Modified (sub-second truncated)", "PUT", hdr("If-Unmodified-Since", atLastMod), current, Proceed},
		{"IUS after Last-Modified", "PUT", hdr("If-Unmodified-Since", afterLM), current, Proceed},
		{"IUS before Last-Modified", "PUT", hdr("If-Unmodified-Since", beforeLM), current, PreconditionFailed},
		{"IUS before Last-Modified GET", "GET", hdr("If-Unmodified-Since", beforeLM), current, PreconditionFailed},
		{"IUS ignored with If-Match", "PUT", hdr("If-Match", `"v1"`, "If-Unmodified-Since", beforeLM), current, Proceed},
		{"IUS invalid date ignored", "PUT", hdr("If-Unmodified-Since", "yesterday"), current, Proceed},
		{"IUS list of dates ignored", "PUT", hdr("If-Unmodified-Since", beforeLM, "If-Unmodified-Since", beforeLM), current, Proceed},
		{"IUS without Last-Modified ignored", "PUT", hdr("If-Unmodified-Since", beforeLM), Validators{ETag: `"v1"`}, Proceed},
		{"IUS obsolete format", "PUT", hdr("If-Unmodified-Since", "Friday, 01-Mar-24 11:59:59 GMT"), current, PreconditionFailed},

		// RFC 9110 §13.1.2 If-None-Match: weak comparison; false → 304 for
		// GET/HEAD, 412 otherwise (§13.2.2 step 3).
		{"INM match GET", "GET", hdr("If-None-Match", `"v1"`), current, NotModified},
		{"INM match HEAD", "HEAD", hdr("If-None-Match", `"v1"`), current, NotModified},
		{"INM match PUT", "PUT", hdr("If-None-Match", `"v1"`), current, PreconditionFailed},
		{"INM match DELETE", "DELETE", hdr("If-None-Match", `"v1"`), current, PreconditionFailed},
		{"INM weak request tag matches weakly", "GET", hdr("If-None-Match", `W/"v1"`), current, NotModified},
		{"INM weak current tag matches weakly", "GET", hdr("If-None-Match", `"v1"`), weakCur, NotModified},
		{"INM in list", "GET", hdr("If-None-Match", `"a", W/"v1"`), current, NotModified},
		{"INM mismatch", "GET", hdr("If-None-Match", `"v2"`), current, Proceed},
		{"INM star exists GET", "GET", hdr("If-None-Match", `*`), current, NotModified},
		{"INM star exists PUT (create-only)", "PUT", hdr("If-None-Match", `*`), current, PreconditionFailed},
		{"INM star absent PUT", "PUT", hdr("If-None-Match", `*`), absent, Proceed},
		{"INM no current ETag", "GET", hdr("If-None-Match", `"v1"`), noValidity, Proceed},
		{"INM unparseable ignored", "GET", hdr("If-None-Match", `"v1" "v2"`), current, Proceed},
		{"INM bare A1", "GET", hdr("If-None-Match", `v1`), Validators{ETag: `v1`}, NotModified},
		{"lowercase method is not GET", "get", hdr("If-None-Match", `"v1"`), current, PreconditionFailed},

		// RFC 9110 §13.1.3 If-Modified-Since (§13.2.2 step 4).
		{"IMS at Last-Modified (sub-second truncated)", "GET", hdr("If-Modified-Since", atLastMod), current, NotModified},
		{"IMS after Last-Modified", "GET", hdr("If-Modified-Since", afterLM), current, NotModified},
		{"IMS before Last-Modified", "GET", hdr("If-Modified-Since", beforeLM), current, Proceed},
		{"IMS HEAD", "HEAD", hdr("If-Modified-Since", atLastMod), current, NotModified},
		{"IMS ignored for PUT", "PUT", hdr("If-Modified-Since", atLastMod), current, Proceed},
		{"IMS ignored for POST", "POST", hdr("If-Modified-Since", afterLM), current, Proceed},
		{"IMS invalid date ignored", "GET", hdr("If-Modified-Since", "not a date"), current, Proceed},
		{"IMS list of dates ignored", "GET", hdr("If-Modified-Since", afterLM, "If-Modified-Since", afterLM), current, Proceed},
		{"IMS without Last-Modified ignored", "GET", hdr("If-Modified-Since", afterLM), Validators{ETag: `"v1"`}, Proceed},
		{"IMS ignored with If-None-Match mismatch", "GET", hdr("If-None-Match", `"v2"`, "If-Modified-Since", afterLM), current, Proceed},
		{"IMS ignored with unparseable If-None-Match", "GET", hdr("If-None-Match", `"v2" x`, "If-Modified-Since", afterLM), current, Proceed},
		{"IMS used with empty If-None-Match", "GET", hdr("If-None-Match", ``, "If-Modified-Since", afterLM), current, NotModified},
		{"IMS in the future ignored", "GET", hdr("If-Modified-Since", "Sat, 01 Jan 2050 00:00:00 GMT"),
			Validators{ETag: `"v1"`, LastModified: lastMod, Now: lastMod.Add(time.Hour)}, Proceed},
		{"IMS in the future without Now", "GET", hdr("If-Modified-Since", "Sat, 01 Jan 2050 00:00:00 GMT"), current, NotModified},
		{"IMS equal to Now", "GET", hdr("If-Modified-Since", afterLM),
			Validators{LastModified: lastMod, Now: lastMod.Add(500 * time.Millisecond)}, NotModified},

		// RFC 9110 §13.2.2: the order of evaluation.
		{"If-Match failure wins over If-None-Match", "GET", hdr("If-Match", `"v2"`, "If-None-Match", `"v1"`), current, PreconditionFailed},
		{"If-Match pass then If-None-Match 304", "GET", hdr("If-Match", `"v1"`, "If-None-Match", `"v1"`), current, NotModified},
		{"IUS failure wins over IMS", "GET", hdr("If-Unmodified-Since", beforeLM, "If-Modified-Since", afterLM), current, PreconditionFailed},
		{"IUS pass then IMS 304", "GET", hdr("If-Unmodified-Since", afterLM, "If-Modified-Since", afterLM), current, NotModified},
		{"If-Match pass then IMS 304", "GET", hdr("If-Match", `"v1"`, "If-Modified-Since", atLastMod), current, NotModified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.method, tt.h, tt.v); got != tt.want {
				t.Errorf("Evaluate(%s, %v, %+v) = %v, want %v", tt.method, tt.h, tt.v, got, tt.want)
			}
		})
	}
}

func TestIfRangeMatches(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		v    Validators
		want bool
	}{
		{"absent holds", hdr(), current, true},
		{"empty holds", hdr("If-Range", ""), current, true},
		// RFC 9110 §13.1.5: strong comparison for an entity-tag.
		{"strong tag equal", hdr("If-Range", `"v1"`), current, true},
		{"strong tag differs", hdr("If-Range", `"v2"`), current, false},
		{"weak tag never", hdr("If-Range", `W/"v1"`), current, false},
		{"weak current never", hdr("If-Range", `"v1"`), weakCur, false},
		{"no current ETag", hdr("If-Range", `"v1"`), Validators{LastModified: lastMod}, false},
		{"absent representation", hdr("If-Range", `"v1"`), absent, false},
		// RFC 9110 §13.1.5: an HTTP-date must equal Last-Modified exactly.
		{"date equal", hdr("If-Range", atLastMod), current, true},
		{"date equal RFC 850", hdr("If-Range", "Friday, 01-Mar-24 12:00:00 GMT"), current, true},
		{"date later", hdr("If-Range", afterLM), current, false},
		{"date earlier", hdr("If-Range", beforeLM), current, false},
		{"date without Last-Modified", hdr("If-Range", atLastMod), Validators{ETag: `"v1"`}, false},
		// Unparseable values and lists do not hold.
		{"garbage", hdr("If-Range", `"v1`), current, false},
		{"two tags", hdr("If-Range", `"v1", "v1"`), current, false},
		{"two lines", hdr("If-Range", `"v1"`, "If-Range", `"v1"`), current, false},
		{"star is not a tag match", hdr("If-Range", `*`), current, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IfRangeMatches(tt.h, tt.v); got != tt.want {
				t.Errorf("IfRangeMatches(%v, %+v) = %v, want %v", tt.h, tt.v, got, tt.want)
			}
		})
	}
}

// A1: the origin sent an unquoted ETag, a browser resumed a download with
// If-Range carrying it back. It must be compared as an entity tag (not as a
// date, as the broken intermediary did), so the range is served.
func TestIfRangeUnquotedETag_A1(t *testing.T) {
	bare := Validators{ETag: `5e8c1a2b-1f4`, LastModified: lastMod}
	tests := []struct {
		name string
		h    http.Header
		v    Validators
		want bool
	}{
		{"bare echoed against bare current", hdr("If-Range", `5e8c1a2b-1f4`), bare, true},
		{"quoted echoed against bare current", hdr("If-Range", `"5e8c1a2b-1f4"`), bare, true},
		{"bare echoed against quoted current", hdr("If-Range", `5e8c1a2b-1f4`), Validators{ETag: `"5e8c1a2b-1f4"`}, true},
		{"bare changed tag", hdr("If-Range", `5e8c1a2b-1f5`), bare, false},
		{"bare weak", hdr("If-Range", `W/5e8c1a2b-1f4`), bare, false},
		{"bare date-like digits", hdr("If-Range", `1709294400`), Validators{ETag: `1709294400`, LastModified: lastMod}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IfRangeMatches(tt.h, tt.v); got != tt.want {
				t.Errorf("IfRangeMatches(%v, %+v) = %v, want %v", tt.h, tt.v, got, tt.want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Proceed: "Proceed", NotModified: "NotModified", PreconditionFailed: "PreconditionFailed", 7: "Outcome(7)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}
