package edge

import (
	"net/http"
	"strconv"
	"time"

	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/httphdr"
)

// A cache hit sends the stored header with a few fields of its own. What
// it needs from the stored header (the header as sent, the validators and
// their dates) depends only on the stored version, so it is derived once
// per version and kept with the entry (cachestore.Entry.Memo): a hit then
// parses no date and copies no header map of its own.

// storedView is what serving one stored response needs from its header.
// It is shared by every hit on that version and never modified.
type storedView struct {
	// head is the stored header as a whole 200 from the cache sends it
	// before the fields of the exchange (Age, Via, X-Cache, X-Request-Id)
	// and the domain's edits: prepareHead applied, Content-Length the
	// stored size. Its value slices have no spare capacity, so an edit
	// that appends to one (Header.Add) copies it first.
	head http.Header
	// fields are the validators of the stored header, parsed.
	fields storedFields
}

// storedViewOf returns e's view, deriving and keeping it on first use.
func storedViewOf(e *cachestore.Entry) *storedView {
	if v, ok := e.Memo().(*storedView); ok {
		return v
	}
	head := e.Meta.Header.Clone()
	if head == nil {
		head = http.Header{}
	}
	head["Content-Length"] = []string{strconv.FormatInt(e.Size, 10)}
	prepareHead(head, "HIT")
	v := &storedView{head: head, fields: parseStoredFields(e.Meta.Header)}
	e.SetMemo(v)
	return v
}

// storedFields are the validator fields of a response header, parsed.
type storedFields struct {
	etag           string    // the ETag value as stored (first field line)
	lastModified   time.Time // valid when lmOK
	lmOK           bool
	lmAbsent       bool // no Last-Modified value at all
	date           time.Time
	dateOK         bool
	strongModified bool // Last-Modified is a strong validator (see below)
}

// parseStoredFields parses the validators of hdr. Last-Modified is strong
// when it is at least one second before Date (RFC 9110 §8.8.2.2), so that
// two changes within its one-second resolution cannot share it.
func parseStoredFields(hdr http.Header) storedFields {
	f := storedFields{etag: hdr.Get("Etag")}
	lm := hdr.Get("Last-Modified")
	f.lmAbsent = lm == ""
	if t, err := httphdr.ParseHTTPDate(lm); err == nil {
		f.lastModified, f.lmOK = t, true
	}
	if t, err := httphdr.ParseHTTPDate(hdr.Get("Date")); err == nil {
		f.date, f.dateOK = t, true
	}
	f.strongModified = f.lmOK && f.dateOK && !f.date.Before(f.lastModified.Add(time.Second))
	return f
}

// validators returns the representation's validators for the conditional
// fields of this request. Last-Modified counts for If-Range only when it is
// strong (storedFields.strongModified; the caller drops it otherwise).
//
// Without Last-Modified, If-Modified-Since alone is evaluated against Date,
// as RFC 9111 §4.3.2 tells a cache to ("the Date field value, or if that is
// absent, the time the response was received"); If-Unmodified-Since is then
// not, since a representation without a modification date ignores it (RFC
// 9110 §13.1.4).
func (x *exchange) validators(f storedFields) httphdr.Validators {
	v := httphdr.Validators{ETag: f.etag, Now: x.h.now()}
	if f.lmOK {
		v.LastModified = f.lastModified
	} else if f.lmAbsent && x.r.Header.Get("If-Unmodified-Since") == "" && f.dateOK {
		v.LastModified = f.date
	}
	return v
}
