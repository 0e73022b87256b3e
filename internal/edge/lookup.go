package edge

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
)

// Cache keys. A URL's primary key is the domain host, the escaped path and
// the query ("www.example.test/a/b.js?v=1"); the keys stored under it all
// start with primary+"#", which no other URL's keys do (a raw "#" cannot
// occur in a path or query):
//
//	primary#vary           the URL's Vary record (the origin's Vary value)
//	primary#v=VK           the response for variant key VK (cachepolicy.VaryKey,
//	                       which escapes "#"); VK is empty when nothing varies
//	primary#v=VK#meta      the object-level headers of an object cached in slices
//	primary#v=VK#slice=N   slice N of that object
//	primary#v=VK#part      a partial response (206) to a suffix range request
//	                       for an object of unknown size (partial.go)
//
// Invalidating a URL deletes the prefix primary+"#".

// primaryKey returns the cache key of a URL of domain d, before the variant.
func primaryKey(d *Domain, u *url.URL) string {
	return strings.ToLower(d.Host) + u.EscapedPath() + "?" + u.RawQuery
}

func variantKey(primary, vk string) string { return primary + "#v=" + vk }
func varyRecordKey(primary string) string  { return primary + "#vary" }
func metaKey(obj string) string            { return obj + "#meta" }
func slicesPrefix(obj string) string       { return obj + "#" }
func sliceKey(obj string, n int64) string {
	return obj + "#slice=" + strconv.FormatInt(n, 10)
}

// variant returns the object key of this request and, when it may be a new
// variant of a URL that varies, the miss reason naming the fields
// ("vary-cookie"). ok is false when the URL's Vary is "*".
func (x *exchange) variant() (obj, reason string, ok bool) {
	e, err := x.h.Cache.GetShared(varyRecordKey(x.primary)) // only read
	if err != nil {
		return variantKey(x.primary, ""), "", true
	}
	vary := strings.Join(e.Meta.Header.Values("Vary"), ",")
	e.Close()
	vk, ok := cachepolicy.VaryKey(vary, x.r.Header, x.vary)
	if !ok {
		return "", "vary-star", false
	}
	return variantKey(x.primary, vk), varyReason(vary, x.vary), true
}

// varyReason names the fields a response varies on, as a miss reason:
// "vary-cookie", "vary-accept-encoding-cookie"; empty when none count.
func varyReason(vary string, opts cachepolicy.VaryOptions) string {
	fields, _ := cachepolicy.VaryFields(vary)
	var kept []string
	for _, f := range fields {
		ignored := false
		for _, g := range opts.Ignore {
			if strings.EqualFold(f, g) {
				ignored = true
				break
			}
		}
		if !ignored {
			kept = append(kept, f)
		}
	}
	if len(kept) == 0 {
		return ""
	}
	return "vary-" + strings.Join(kept, "-")
}

// recordVary keeps the URL's Vary record in step with the origin's latest
// response: written when it varies, removed when it no longer does.
func (h *Handler) recordVary(primary, vary string) {
	key := varyRecordKey(primary)
	if strings.TrimSpace(vary) == "" {
		if err := h.Cache.Delete(key); err != nil {
			h.log.Warn("edge: cannot drop vary record", "key", key, "err", err)
		}
		return
	}
	if e, err := h.Cache.Get(key); err == nil {
		same := strings.Join(e.Meta.Header.Values("Vary"), ",") == vary
		e.Close()
		if same {
			return
		}
	}
	w, err := h.Cache.NewWriter(key, cachestore.Meta{Status: http.StatusOK, Header: http.Header{"Vary": {vary}}})
	if err == nil {
		err = w.Commit()
	}
	if err != nil {
		h.log.Warn("edge: cannot store vary record", "key", key, "err", err)
	}
}

// getEntry opens a stored entry; a miss or a store error is nil.
func (h *Handler) getEntry(key string) *cachestore.Entry {
	e, err := h.Cache.Get(key)
	if err != nil {
		if !errors.Is(err, cachestore.ErrNotFound) {
			h.log.Warn("edge: cache read failed", "key", key, "err", err)
		}
		return nil
	}
	return e
}

// getStored opens a stored entry to serve it, like getEntry, but with its
// metadata shared with the store (cachestore.Store.GetShared): the caller
// must not modify e.Meta's Header or Extra. serveEntry, revalidate and
// serve only read them; a revalidation merges a 304 into a copy
// (cachepolicy.MergeNotModified).
func (h *Handler) getStored(key string) *cachestore.Entry {
	e, err := h.Cache.GetShared(key)
	if err != nil {
		if !errors.Is(err, cachestore.ErrNotFound) {
			h.log.Warn("edge: cache read failed", "key", key, "err", err)
		}
		return nil
	}
	return e
}

// policyEntry is the view of a stored entry the freshness rules need.
func policyEntry(m cachestore.Meta) cachepolicy.Entry {
	return cachepolicy.Entry{Status: m.Status, Header: m.Header, RequestTime: m.RequestTime, ResponseTime: m.ResponseTime}
}
