package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/httphdr"
)

// Errors of slice fetching.
var (
	// errObjectChanged: a slice or the origin's answer belongs to another
	// version of the object than the slices already stored; they are all
	// dropped and the object is fetched again, never mixed (A1).
	errObjectChanged = errors.New("the object changed at the origin while it was fetched in slices")
	// errBadSlice: the origin's answer to a slice request is not the
	// slice asked for (wrong Content-Range, short or long body).
	errBadSlice = errors.New("the origin answered a slice request with something else")
	errClosed   = errors.New("edge: handler closed")
)

// sliceObject is an object fetched in slices: its whole-object header (from
// a HEAD or a 200, so with Content-MD5 and the CRC64 headers, C07), its size
// and the validator every slice must carry.
type sliceObject struct {
	key       string
	header    http.Header
	size      int64
	validator string
	slice     int64
	xcache    string
	age       string
}

// count returns the number of slices and lenOf the length of slice n.
func (o *sliceObject) count() int64 { return (o.size + o.slice - 1) / o.slice }
func (o *sliceObject) lenOf(n int64) int64 {
	return min(o.slice, o.size-n*o.slice)
}

// validatorOf returns what identifies one version of an object for its
// slices: the strong ETag, read leniently (A1: bare tags are tags), else
// Last-Modified with the length; "" when there is neither.
func validatorOf(hdr http.Header, size int64) string {
	if tag, ok := httphdr.ParseETag(hdr.Get("Etag")); ok && !tag.Weak {
		return "etag:" + tag.Value
	}
	if lm, err := httphdr.ParseHTTPDate(hdr.Get("Last-Modified")); err == nil {
		return "lm:" + strconv.FormatInt(lm.Unix(), 10) + "/" + strconv.FormatInt(size, 10)
	}
	return ""
}

// metaExtra encodes what a metadata entry keeps besides the header.
func metaExtra(size int64, validator string) []byte {
	return []byte(strconv.FormatInt(size, 10) + "\n" + validator)
}

func parseMetaExtra(b []byte) (size int64, validator string, ok bool) {
	s, v, found := strings.Cut(string(b), "\n")
	n, err := strconv.ParseInt(s, 10, 64)
	return n, v, found && err == nil && n > 0 && v != ""
}

// sliceOutcome says how serving in slices went.
type sliceOutcome int

const (
	sliceServe       sliceOutcome = iota // the object can be served in slices
	sliceDone                            // the request was answered
	sliceRetry                           // look the cache up again
	sliceFallback                        // fetch the whole object instead
	slicePassThrough                     // not cacheable: forward the request
)

// serveSliced serves a GET from slices of the object.
func (x *exchange) serveSliced(obj, varyMiss string) bool {
	so, out := x.sliceObject(obj, varyMiss)
	switch out {
	case sliceDone:
		return true
	case sliceRetry:
		return false
	case sliceFallback:
		return x.serveMiss(obj, varyMiss)
	case slicePassThrough:
		x.passThrough(missReason(so.xcache))
		return true
	}
	rd := &sliceReader{x: x, obj: so, spec: x.fillSpec(), cur: -1}
	err := x.serve(representation{
		status: http.StatusOK, header: so.header, size: so.size, body: rd, xcache: so.xcache, age: so.age,
		prime: func(first int64) (io.ReaderAt, error) {
			if first >= so.size {
				return nil, nil
			}
			return nil, rd.load(first / so.slice)
		},
	})
	switch {
	case err == nil:
		return true
	case errors.Is(err, errObjectChanged):
		return false
	}
	x.originError(err, so.xcache)
	return true
}

// serveSlicedHead answers a HEAD from an object's stored metadata when it is
// fresh.
func (x *exchange) serveSlicedHead(obj string) bool {
	e := x.h.getEntry(metaKey(obj))
	if e == nil {
		return false
	}
	defer e.Close()
	size, _, ok := parseMetaExtra(e.Meta.Extra)
	if !ok {
		return false
	}
	d := x.decide(obj, e.Meta)
	if d.Action != cachepolicy.Fresh {
		return false
	}
	_ = x.serve(representation{status: http.StatusOK, header: e.Meta.Header, size: size, xcache: "HIT", age: cachepolicy.FormatAge(d.Age)})
	return true
}

// sliceObject finds the object's stored metadata, or learns it from the
// origin with a HEAD, deciding freshness as for a whole response.
func (x *exchange) sliceObject(obj, varyMiss string) (*sliceObject, sliceOutcome) {
	h := x.h
	if e := h.getEntry(metaKey(obj)); e != nil {
		meta := e.Meta
		e.Close()
		size, val, ok := parseMetaExtra(meta.Extra)
		if ok {
			so := &sliceObject{key: obj, header: meta.Header, size: size, validator: val, slice: x.dom.sliceSize()}
			d := x.decide(obj, meta)
			so.age = cachepolicy.FormatAge(d.Age)
			switch d.Action {
			case cachepolicy.Fresh:
				so.xcache = "HIT"
				return so, sliceServe
			case cachepolicy.StaleServe:
				so.xcache = "STALE reason=" + string(d.Reason)
				return so, sliceServe
			case cachepolicy.StaleServeAndRevalidate:
				spec := x.fillSpec()
				h.goBackground(func() {
					_, _ = h.headObject(context.Background(), spec, obj)
				})
				so.xcache = "STALE reason=" + string(d.Reason)
				return so, sliceServe
			case cachepolicy.GatewayTimeout:
				x.fail(http.StatusGatewayTimeout, "MISS reason=only-if-cached", "the request is only-if-cached and the stored response needs the origin")
				return nil, sliceDone
			}
			// MustRevalidate: a HEAD tells whether the slices still hold.
			nso, err := h.headObject(x.ctx(), x.fillSpec(), obj)
			switch {
			case err != nil && d.StaleOnError && !errors.Is(err, errVaryChanged):
				so.xcache = "STALE reason=origin-error"
				return so, sliceServe
			case err != nil:
				return x.sliceError(err, missReason(string(d.Reason)))
			case nso.fallback != sliceServe:
				return &sliceObject{xcache: nso.reason}, nso.fallback
			}
			so = nso.obj
			so.age = "0"
			if so.validator == val {
				so.xcache = "REVALIDATED"
			} else {
				so.xcache = missReason(string(d.Reason))
			}
			return so, sliceServe
		}
		h.dropObject(obj)
	}
	res, err := h.headObject(x.ctx(), x.fillSpec(), obj)
	if err != nil {
		return x.sliceError(err, missReason(varyMiss))
	}
	if res.fallback != sliceServe {
		return &sliceObject{xcache: res.reason}, res.fallback
	}
	so := res.obj
	so.xcache = missReason(varyMiss)
	return so, sliceServe
}

// sliceError answers a failed metadata fetch.
func (x *exchange) sliceError(err error, xcache string) (*sliceObject, sliceOutcome) {
	if errors.Is(err, errVaryChanged) {
		return nil, sliceRetry
	}
	if x.ctx().Err() != nil {
		return nil, sliceDone
	}
	x.originError(err, xcache)
	return nil, sliceDone
}

// errVaryChanged: the origin's Vary puts this request in another variant
// than the one looked up; look again.
var errVaryChanged = errors.New("the response varies: look the variant up again")

// headResult is the outcome of headObject.
type headResult struct {
	obj      *sliceObject
	fallback sliceOutcome // sliceServe, or why slices cannot be used
	reason   string       // the miss reason when not sliceServe
}

// headObject asks the origin for the object's headers with a HEAD (one per
// object at a time) and stores them as the object's metadata, dropping the
// slices of an older version. A 206 lacks the whole-object headers
// (Content-MD5, checksums), which a response built from slices must carry
// (C07); a HEAD has them.
func (h *Handler) headObject(ctx context.Context, spec fillSpec, obj string) (*headResult, error) {
	v, err := h.doFlight(ctx, metaKey(obj), func(*flight) (any, error) {
		return h.fetchHead(spec, obj)
	})
	if err != nil {
		return nil, err
	}
	return v.(*headResult), nil
}

func (h *Handler) fetchHead(spec fillSpec, obj string) (*headResult, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hd := spec.header.Clone()
	spec.dom.originAcceptEncoding(hd, true) // the identity body's length
	req := newOriginRequest(ctx, spec.dom, http.MethodHead, spec.url, hd, nil, 0)
	reqTime := h.now()
	resp, err := h.roundTripTimeout(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	respTime := h.now()
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		return &headResult{fallback: sliceFallback, reason: "not-cached"}, nil
	}
	if ok, reason := spec.policy.Storable(&http.Request{Method: http.MethodGet, Header: spec.client}, resp); !ok {
		return &headResult{fallback: slicePassThrough, reason: string(reason)}, nil
	}
	vary := strings.Join(resp.Header.Values("Vary"), ",")
	vk, ok := cachepolicy.VaryKey(vary, spec.client, spec.vary)
	if !ok {
		return &headResult{fallback: slicePassThrough, reason: string(cachepolicy.ReasonVaryStar)}, nil
	}
	h.recordVary(spec.primary, vary)
	if variantKey(spec.primary, vk) != obj {
		return nil, errVaryChanged
	}
	size := resp.ContentLength
	val := validatorOf(resp.Header, size)
	if val == "" {
		// Nothing tells two versions apart: slices could mix them.
		return &headResult{fallback: sliceFallback, reason: "not-cached"}, nil
	}
	hdr := responseHeader(resp)
	hdr.Del("Set-Cookie")
	if old := h.getEntry(metaKey(obj)); old != nil {
		_, oldVal, _ := parseMetaExtra(old.Meta.Extra)
		old.Close()
		if oldVal != val {
			h.dropObject(obj)
		}
	}
	w, err := h.Cache.NewWriter(metaKey(obj), cachestore.Meta{
		Status: http.StatusOK, Header: hdr, RequestTime: reqTime, ResponseTime: respTime, Extra: metaExtra(size, val),
	})
	if err == nil {
		err = w.Commit()
	}
	if err != nil {
		h.log.Warn("edge: cannot store object metadata", "key", obj, "err", err)
	}
	so := &sliceObject{key: obj, header: hdr, size: size, validator: val, slice: spec.dom.sliceSize()}
	return &headResult{obj: so, fallback: sliceServe}, nil
}

// sliceReader reads an object through its slices, fetching each from the
// cache or the origin as it is needed. It holds one slice at a time.
type sliceReader struct {
	x    *exchange
	obj  *sliceObject
	spec fillSpec
	cur  int64
	buf  []byte
}

// load makes slice n current.
func (r *sliceReader) load(n int64) error {
	if n == r.cur {
		return nil
	}
	b, err := r.x.h.slice(r.x.ctx(), r.spec, r.obj, n)
	if err != nil {
		return err
	}
	r.cur, r.buf = n, b
	return nil
}

func (r *sliceReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		o := off + int64(n)
		if o >= r.obj.size {
			return n, io.EOF
		}
		idx := o / r.obj.slice
		if err := r.load(idx); err != nil {
			return n, err
		}
		n += copy(p[n:], r.buf[o-idx*r.obj.slice:])
	}
	return n, nil
}

// slice returns slice n of the object, validated: from the cache, or from
// the origin (one fetch per slice at a time, completing into the cache even
// if the client leaves).
func (h *Handler) slice(ctx context.Context, spec fillSpec, o *sliceObject, n int64) ([]byte, error) {
	if b := h.cachedSlice(o, n); b != nil {
		return b, nil
	}
	v, err := h.doFlight(ctx, sliceKey(o.key, n), func(fl *flight) (any, error) {
		return h.fetchSlice(spec, o, n, fl)
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// cachedSlice returns a stored slice of o, or nil. A stored slice that is
// not of o's version or not of the right length is dropped.
func (h *Handler) cachedSlice(o *sliceObject, n int64) []byte {
	key := sliceKey(o.key, n)
	e := h.getEntry(key)
	if e == nil {
		return nil
	}
	defer e.Close()
	if e.Size != o.lenOf(n) || string(e.Meta.Extra) != o.validator {
		_ = h.Cache.Delete(key)
		return nil
	}
	b := make([]byte, e.Size)
	if _, err := e.ReadAt(b, 0); err != nil {
		h.log.Warn("edge: stored slice unreadable", "key", key, "err", err)
		return nil
	}
	return b
}

// storeSlice caches a validated slice.
func (h *Handler) storeSlice(o *sliceObject, n int64, b []byte, hdr http.Header) {
	key := sliceKey(o.key, n)
	meta := cachestore.Meta{Status: http.StatusPartialContent, Header: http.Header{
		"Content-Range": {httphdr.ByteRange{Start: n * o.slice, Length: int64(len(b))}.ContentRange(o.size)},
	}, Extra: []byte(o.validator)}
	for _, f := range []string{"Etag", "Last-Modified"} {
		if v := hdr.Get(f); v != "" {
			meta.Header.Set(f, v)
		}
	}
	w, err := h.Cache.NewWriter(key, meta)
	if err == nil {
		if _, err = w.Write(b); err == nil {
			err = w.Commit()
		} else {
			w.Abort()
		}
	}
	if err != nil {
		h.log.Warn("edge: cannot cache slice", "key", key, "err", err)
	}
}

// fetchSlice fetches slice n from the origin and validates it before it is
// stored or served (A1): status 206, Content-Range exactly the slice asked
// for and of the same complete length, body length exact, and the same
// validator as the object's other slices. An origin that answers 200 sends
// the whole object, which is then cut into slices (C08).
func (h *Handler) fetchSlice(spec fillSpec, o *sliceObject, n int64, fl *flight) ([]byte, error) {
	if b := h.cachedSlice(o, n); b != nil {
		return b, nil // stored by a fetch that finished meanwhile
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start, length := n*o.slice, o.lenOf(n)
	hdr := spec.header.Clone()
	spec.dom.originAcceptEncoding(hdr, true)
	hdr.Set("Range", "bytes="+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(start+length-1, 10))
	req := newOriginRequest(ctx, spec.dom, http.MethodGet, spec.url, hdr, nil, 0)
	resp, err := h.roundTripTimeout(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
	case http.StatusOK:
		h.markNoRange(spec.dom)
		return h.carve(o, n, fl, resp)
	case http.StatusNotFound, http.StatusGone, http.StatusRequestedRangeNotSatisfiable, http.StatusPreconditionFailed:
		h.dropObject(o.key)
		return nil, fmt.Errorf("slice %d of %s: origin answered %d: %w", n, o.key, resp.StatusCode, errObjectChanged)
	default:
		return nil, fmt.Errorf("slice %d of %s: origin answered %s", n, o.key, resp.Status)
	}
	r, total, err := httphdr.ParseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return nil, h.rejectSlice(o, n, fmt.Errorf("Content-Range %q: %w", resp.Header.Get("Content-Range"), errBadSlice))
	}
	if total != o.size || validatorOf(resp.Header, total) != o.validator {
		h.dropObject(o.key)
		return nil, h.rejectSlice(o, n, fmt.Errorf("validator %q, length %d, stored %q, %d: %w",
			validatorOf(resp.Header, total), total, o.validator, o.size, errObjectChanged))
	}
	if r.Start != start || r.Length != length {
		return nil, h.rejectSlice(o, n, fmt.Errorf("Content-Range %q for bytes %d-%d: %w", resp.Header.Get("Content-Range"), start, start+length-1, errBadSlice))
	}
	if resp.ContentLength >= 0 && resp.ContentLength != length {
		return nil, h.rejectSlice(o, n, fmt.Errorf("Content-Length %d for a %d-byte slice: %w", resp.ContentLength, length, errBadSlice))
	}
	b := make([]byte, length)
	if _, err := io.ReadFull(resp.Body, b); err != nil {
		return nil, h.rejectSlice(o, n, fmt.Errorf("body: %v: %w", err, errBadSlice))
	}
	var extra [1]byte
	if m, _ := resp.Body.Read(extra[:]); m > 0 {
		return nil, h.rejectSlice(o, n, fmt.Errorf("body longer than %d bytes: %w", length, errBadSlice))
	}
	h.storeSlice(o, n, b, resp.Header)
	return b, nil
}

// rejectSlice logs a slice that is not stored.
func (h *Handler) rejectSlice(o *sliceObject, n int64, err error) error {
	h.log.Warn("edge: slice rejected", "key", o.key, "slice", n, "err", err)
	return fmt.Errorf("slice %d of %s: %w", n, o.key, err)
}

// carve uses an origin's 200 answer to a slice request (C08): the body is
// the whole object, so every slice is cut from it, validated by its length,
// and stored; slice n's waiters get it as soon as it has passed, and the
// other slices' requests wait for this body instead of asking the origin.
// It stops early when nobody waits and the rest exceeds MaxBackgroundFill.
func (h *Handler) carve(o *sliceObject, n int64, fl *flight, resp *http.Response) ([]byte, error) {
	if resp.ContentLength >= 0 && resp.ContentLength != o.size || validatorOf(resp.Header, o.size) != o.validator {
		h.dropObject(o.key)
		return nil, fmt.Errorf("slice %d of %s: the origin's 200 is another version: %w", n, o.key, errObjectChanged)
	}
	// Take over the other slices' fetches: those in flight elsewhere stay.
	owned := map[int64]*flight{n: fl}
	for k := int64(0); k < o.count(); k++ {
		if k == n {
			continue
		}
		if f, created := h.registerFlight(sliceKey(o.key, k)); created {
			owned[k] = f
		}
	}
	failRest := func(err error) {
		for k, f := range owned {
			h.completeFlightOnce(sliceKey(o.key, k), f, nil, err)
		}
	}
	limit := h.maxBackgroundFill()
	var result []byte
	for k := int64(0); k < o.count() && len(owned) > 0; k++ {
		b := make([]byte, o.lenOf(k))
		if _, err := io.ReadFull(resp.Body, b); err != nil {
			err = fmt.Errorf("slice %d of %s: the origin's whole body ended early: %v: %w", k, o.key, err, errBadSlice)
			failRest(err)
			return nil, err
		}
		if f := owned[k]; f != nil {
			h.storeSlice(o, k, b, resp.Header)
			h.completeFlight(sliceKey(o.key, k), f, b, nil)
			delete(owned, k)
			if k == n {
				result = b
			}
		}
		rest := o.size - (k+1)*o.slice
		h.mu.Lock()
		waiting := 0
		for _, f := range owned {
			waiting += f.waiters
		}
		h.mu.Unlock()
		if waiting == 0 && rest > limit {
			failRest(errAbandoned)
			break
		}
	}
	return result, nil
}
