package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/httphdr"
)

// Range requests for an object whose size the edge does not know.
//
// Slices are aligned to the object's start, so a suffix range
// ("bytes=-500": the last 500 bytes, as readers of ZIP, MP4 and Parquet
// footers ask) cannot be placed on them before the size is known, and
// learning it costs the origin a HEAD. Such a request is forwarded with the
// client's Range instead, one origin request for one client request: the
// origin's 206 goes to the client with its Content-Range (RFC 9110
// §15.3.7) and, when storable, small and consistent, is stored as a partial
// response (RFC 9111 §3.3) under partialKey, from which later ranges it
// covers are served. Ranges that name their first byte still go through
// slices (and the HEAD that gives the whole-object headers, C07).

// maxPartialBytes bounds a stored partial response: it is read into memory
// before it is stored and served.
const maxPartialBytes = 8 << 20

// partialKey is the cache key of the partial response stored for an object
// (see lookup.go; dropObject removes it with the slices).
func partialKey(obj string) string { return obj + "#part" }

// serveUnsizedRange serves a GET with Range for obj when the edge holds
// neither the object nor its slice metadata: from a stored partial
// response that covers the range, or, for a suffix range, by forwarding the
// request. It reports false when the request is for the slices.
func (x *exchange) serveUnsizedRange(obj, varyMiss string) bool {
	rng := strings.Join(x.r.Header.Values("Range"), ",")
	if x.r.Method != http.MethodGet || rng == "" || x.dom.Range == RangeOff ||
		len(x.r.Header.Values("If-Range")) > 0 || x.h.hasEntry(metaKey(obj)) {
		return false
	}
	if x.servePartialEntry(obj, rng) {
		return true
	}
	if !isSuffixRange(rng) {
		return false
	}
	x.forwardRange(obj, rng, varyMiss)
	return true
}

// isSuffixRange reports whether a Range value asks for a suffix
// ("bytes=-N") in any of its range-specs.
func isSuffixRange(rng string) bool {
	unit, set, ok := strings.Cut(rng, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return false
	}
	for spec := range strings.SplitSeq(set, ",") {
		if strings.HasPrefix(strings.TrimSpace(spec), "-") {
			return true
		}
	}
	return false
}

// servePartialEntry answers from the stored partial response of obj when it
// may be reused (RFC 9111 §4) and holds the one range asked for (§3.3: an
// incomplete response answers only a range wholly within it).
func (x *exchange) servePartialEntry(obj, rng string) bool {
	e := x.h.getEntry(partialKey(obj))
	if e == nil {
		return false
	}
	defer e.Close()
	have, total, err := httphdr.ParseContentRange(e.Meta.Header.Get("Content-Range"))
	if err != nil || total < 0 || e.Meta.Status != http.StatusPartialContent || e.Size != have.Length {
		_ = x.h.Cache.Delete(e.Key)
		return false
	}
	d := x.decide(obj, e.Meta)
	if d.Action != cachepolicy.Fresh && d.Action != cachepolicy.StaleServe {
		return false
	}
	ranges, err := httphdr.ParseRange(rng, total)
	if err != nil || len(ranges) != 1 {
		return false
	}
	want := ranges[0]
	if want.Start < have.Start || want.Start+want.Length > have.Start+have.Length {
		return false
	}
	hdr := e.Meta.Header.Clone()
	hdr.Set("Content-Range", want.ContentRange(total))
	xc := "HIT"
	if d.Action == cachepolicy.StaleServe {
		xc = "STALE reason=" + string(d.Reason)
	}
	err = x.serve(representation{
		status: http.StatusPartialContent, header: hdr, size: want.Length,
		body:   io.NewSectionReader(e, want.Start-have.Start, want.Length),
		xcache: xc, age: cachepolicy.FormatAge(d.Age),
	})
	return err == nil
}

// forwardRange sends the client's range request to the origin and passes
// the answer on: a 206 with its Content-Range, stored when it may be
// (storePartial); a 200 (the origin ignores Range, C08) with the client's
// range cut from it as it streams by; anything else as it is.
func (x *exchange) forwardRange(obj, rng, varyMiss string) {
	spec := x.fillSpec()
	hdr := spec.header.Clone()
	x.dom.originAcceptEncoding(hdr, true)
	hdr.Set("Range", rng)
	req := newOriginRequest(x.ctx(), x.dom, http.MethodGet, x.r.URL, hdr, nil, 0)
	reqTime := x.h.now()
	resp, err := x.h.roundTripTimeout(req)
	xc := missReason(varyMiss)
	if err != nil {
		if x.ctx().Err() == nil {
			x.originError(err, xc)
		}
		return
	}
	defer resp.Body.Close()
	respTime := x.h.now()
	rh := responseHeader(resp)
	switch resp.StatusCode {
	case http.StatusPartialContent:
		body, reason, ok, err := x.storePartial(obj, spec, resp, rh, reqTime, respTime)
		if err != nil {
			if x.ctx().Err() == nil {
				x.originError(err, xc)
			}
			return
		}
		if ok {
			_ = x.serve(representation{status: resp.StatusCode, header: rh, size: int64(len(body)), body: bytes.NewReader(body), xcache: xc})
			return
		}
		if reason != "" {
			xc = missReason(reason)
		}
	case http.StatusOK:
		x.h.markNoRange(x.dom)
		_ = x.serve(representation{status: http.StatusOK, header: rh, size: resp.ContentLength,
			body: &streamReader{r: resp.Body}, xcache: missReason("partial-not-cached"), sequential: true})
		return
	}
	// Passed on as the origin sent it (serve does not touch a non-200).
	_ = x.serve(representation{status: resp.StatusCode, header: rh, size: resp.ContentLength,
		body: &streamReader{r: resp.Body}, xcache: xc, sequential: true})
}

// storePartial reads a 206 and stores it as obj's partial response, and
// returns its body, when it is storable (RFC 9111 §3), does not vary, is
// at most maxPartialBytes, and is consistent: one range with a known
// complete length and exactly that many bytes of body (RFC 9110 §15.3.7).
// Otherwise it reads nothing and says why not ("" when only the size
// stands in the way). An error means the origin's body broke off.
func (x *exchange) storePartial(obj string, spec fillSpec, resp *http.Response, rh http.Header, reqTime, respTime time.Time) ([]byte, string, bool, error) {
	if ok, reason := spec.policy.Storable(&http.Request{Method: http.MethodGet, Header: spec.client}, resp); !ok {
		return nil, string(reason), false, nil
	}
	if len(resp.Header.Values("Vary")) > 0 {
		return nil, "partial-vary", false, nil
	}
	r, total, err := httphdr.ParseContentRange(resp.Header.Get("Content-Range"))
	if err != nil || total < 0 || r.Length != resp.ContentLength {
		return nil, "partial-inconsistent", false, nil
	}
	if r.Length > maxPartialBytes {
		return nil, "", false, nil
	}
	body := make([]byte, r.Length)
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		return nil, "", false, fmt.Errorf("edge: origin body of a partial response: %w", err)
	}
	hdr := rh.Clone()
	hdr.Del("Set-Cookie") // never stored (edgePolicy)
	hdr.Del("Content-Length")
	w, err := x.h.Cache.NewWriter(partialKey(obj), cachestore.Meta{
		Status: http.StatusPartialContent, Header: hdr, RequestTime: reqTime, ResponseTime: respTime,
	})
	if err == nil {
		if _, err = w.Write(body); err == nil {
			err = w.Commit()
		} else {
			w.Abort()
		}
	}
	if err != nil {
		x.h.log.Warn("edge: cannot cache partial response", "key", obj, "err", err)
	}
	return body, "", true, nil
}
