package cachepolicy

import (
	"net/http"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// ValidationHeaders returns the conditional fields a cache adds to the
// request it forwards to validate stored responses with the given headers
// (RFC 9111 §4.3.1):
//
//   - If-None-Match lists the entity tags of all of them (MUST when they
//     have tags). Tags are read leniently, so an origin's bare ETag 5a62
//     goes out as the valid "5a62" (case A1); unparseable ones are left
//     out; repeats are sent once.
//   - If-Modified-Since carries the Last-Modified value (SHOULD) when
//     exactly one response is validated and its Last-Modified is a valid
//     HTTP-date. The value is sent as the origin wrote it, since some
//     origins compare it to their own textually.
//
// The result is empty when there is nothing to validate with; the caller
// then refetches unconditionally.
func ValidationHeaders(stored ...http.Header) http.Header {
	out := http.Header{}
	var tags []string
	for _, h := range stored {
		t, ok := etagOf(h)
		if !ok {
			continue
		}
		if s := t.String(); !contains(tags, s) {
			tags = append(tags, s)
		}
	}
	if len(tags) > 0 {
		out.Set("If-None-Match", strings.Join(tags, ", "))
	}
	if len(stored) == 1 {
		if _, ok := singleDate(stored[0], "Last-Modified"); ok {
			out.Set("If-Modified-Since", trimOWS(stored[0].Get("Last-Modified")))
		}
	}
	return out
}

// notUpdated lists the fields a 304 never changes in a stored response.
// RFC 9111 §3.2 excludes Content-Length outright, lets a cache ignore
// fields the implementation processes itself (Content-Range), and lets it
// keep fields needed for the stored response's integrity: the stored bytes
// are the ones received, so their coding and checksums stay those they
// arrived with (a mismatched checksum would fail every later check).
// Hop-by-hop fields are excluded as well (§3.1).
var notUpdated = []string{
	"Content-Length",
	"Content-Range",
	"Content-Encoding",
	"Content-Md5",
	"Content-Digest",
	"Repr-Digest",
	"X-Oss-Hash-Crc64ecma",
}

// notUpdatedPrefix covers the S3 checksum fields (x-amz-checksum-crc32,
// -crc32c, -crc64nvme, -sha1, -sha256, -type), kept for the same reason.
const notUpdatedPrefix = "X-Amz-Checksum-"

// MergeNotModified returns the header of a stored response updated by a 304
// received when validating it (RFC 9111 §3.2, §4.3.4): every field of the
// 304 replaces the stored field of that name, except hop-by-hop fields
// (including those the 304's Connection names) and the framing and
// integrity fields listed above. Neither argument is modified.
func MergeNotModified(stored, notModified http.Header) http.Header {
	out := stored.Clone()
	if out == nil {
		out = http.Header{}
	}
	skip := HopByHopFields(notModified)
	for name, vals := range notModified {
		cn := http.CanonicalHeaderKey(name)
		if contains(skip, cn) || contains(notUpdated, cn) || strings.HasPrefix(cn, notUpdatedPrefix) {
			continue
		}
		out[cn] = append([]string(nil), vals...)
	}
	return out
}

// UpdateEntry returns e freshened by a 304: its header merged
// (MergeNotModified) and its request and response times replaced by those
// of the validation exchange, from which its age now counts (§4.2.3). The
// stored Age is dropped unless the 304 brings one: it was the age of the
// response when first received, and the 304 restarts the count (an age
// the 304 does not state is that of the exchange, age_value 0).
func UpdateEntry(e Entry, notModified http.Header, requestTime, responseTime time.Time) Entry {
	e.Header = MergeNotModified(e.Header, notModified)
	if len(notModified.Values("Age")) == 0 {
		e.Header.Del("Age")
	}
	e.RequestTime, e.ResponseTime = requestTime, responseTime
	return e
}

// UpdateValidated returns e freshened by a 304 that answered a conditional
// request the cache sent to validate e alone (ValidationHeaders(e.Header)).
// RFC 9111 §4.3.3: the cache "uses the 304 to update the stored response it
// used to validate". When the 304's validators select e (SelectForUpdate)
// this is UpdateEntry. When they do not (the 304 carries no ETag or
// Last-Modified, or another ETag than the one asked about), the 304 still
// answers the question asked about e, so e is updated all the same, but
// keeps its own ETag, which describes the stored body; the other fields are
// merged as MergeNotModified does.
func UpdateValidated(e Entry, notModified http.Header, requestTime, responseTime time.Time) Entry {
	if len(SelectForUpdate(notModified, []Entry{e})) > 0 {
		return UpdateEntry(e, notModified, requestTime, responseTime)
	}
	etag := e.Header.Values("Etag")
	up := UpdateEntry(e, notModified, requestTime, responseTime)
	if len(etag) > 0 {
		up.Header.Del("Etag")
		up.Header["Etag"] = append([]string(nil), etag...)
	}
	return up
}

// SelectForUpdate returns the indexes of the stored responses (all for one
// request's primary key) that a 304 with the header notModified updates
// (RFC 9111 §4.3.4):
//
//   - if the 304 has a strong validator (a strong entity tag), every
//     stored response with the same strong tag, and none if no tag matches;
//   - else, if it has a weak tag or Last-Modified, the most recently
//     received stored response with that validator;
//   - else, with no validator, the only stored response if there is exactly
//     one and it has no validator either.
//
// Tags on both sides are read leniently, so a stored bare ETag 5a62 matches
// a 304's "5a62" (case A1). An empty result means the 304 updates nothing:
// the caller must refetch without conditions.
func SelectForUpdate(notModified http.Header, stored []Entry) []int {
	tag, hasTag := etagOf(notModified)
	if hasTag && !tag.Weak {
		var out []int
		for i, e := range stored {
			if t, ok := etagOf(e.Header); ok && httphdr.StrongCompare(t, tag) {
				out = append(out, i)
			}
		}
		return out
	}
	lm, hasLM := singleDate(notModified, "Last-Modified")
	if hasTag || hasLM {
		best := -1
		for i, e := range stored {
			var match bool
			if hasTag {
				t, ok := etagOf(e.Header)
				match = ok && httphdr.WeakCompare(t, tag)
			} else {
				l, ok := singleDate(e.Header, "Last-Modified")
				match = ok && l.Equal(lm)
			}
			if match && (best < 0 || e.ResponseTime.After(stored[best].ResponseTime)) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		return []int{best}
	}
	if len(stored) == 1 {
		if _, ok := etagOf(stored[0].Header); !ok {
			if _, ok := singleDate(stored[0].Header, "Last-Modified"); !ok {
				return []int{0}
			}
		}
	}
	return nil
}

// etagOf parses the ETag field of h leniently (httphdr.ParseETag).
func etagOf(h http.Header) (httphdr.ETag, bool) {
	vs := h.Values("Etag")
	if len(vs) != 1 {
		return httphdr.ETag{}, false
	}
	return httphdr.ParseETag(vs[0])
}
