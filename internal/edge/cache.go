package edge

import (
	"errors"
	"net/http"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
)

// maxAttempts bounds how often one request looks the cache up again (after
// a corrupt entry, a changed object or a new variant) before it is simply
// forwarded.
const maxAttempts = 3

// serveCacheable serves a GET or HEAD through the cache.
func (x *exchange) serveCacheable() {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		if x.tryServe() {
			return
		}
	}
	x.passThrough("MISS reason=unstable-object")
}

// tryServe makes one attempt; false means look again.
func (x *exchange) tryServe() bool {
	obj, varyMiss, ok := x.variant()
	if !ok {
		x.passThrough(missReason(string(cachepolicy.ReasonVaryStar)))
		return true
	}
	if e := x.h.getStored(obj); e != nil {
		return x.serveEntry(obj, e)
	}
	if x.r.Method == http.MethodHead {
		if x.dom.Range != RangeOff && x.serveSlicedHead(obj) {
			return true
		}
		// A HEAD is not worth a whole-object fetch: forward it.
		x.passThrough(missReason(varyMiss))
		return true
	}
	if x.wantsSlices() && (!x.h.originIgnoresRange(x.dom) || x.h.hasEntry(metaKey(obj))) {
		// An origin that ignores Range (C08) gets whole-object fetches,
		// but an object already held in slices is still served from them.
		if x.serveUnsizedRange(obj, varyMiss) {
			return true // size unknown: see partial.go
		}
		return x.serveSliced(obj, varyMiss)
	}
	return x.serveMiss(obj, varyMiss)
}

// wantsSlices reports whether the domain fetches this request in slices.
func (x *exchange) wantsSlices() bool {
	switch x.dom.Range {
	case RangeForce:
		return true
	case RangeOn:
		return len(x.r.Header.Values("Range")) > 0
	}
	return false
}

// fillSpec describes a whole-object fetch for this request.
func (x *exchange) fillSpec() fillSpec {
	u := *x.r.URL
	return fillSpec{
		dom:     x.dom,
		url:     &u,
		header:  x.originHeader(false),
		client:  x.r.Header.Clone(),
		policy:  x.policy,
		vary:    x.vary,
		primary: x.primary,
	}
}

// serveEntry serves a stored whole response after deciding, per RFC 9111
// §4, whether it may be used as it is.
func (x *exchange) serveEntry(obj string, e *cachestore.Entry) bool {
	defer e.Close()
	d := x.decide(obj, e.Meta)
	var xc string
	switch d.Action {
	case cachepolicy.Fresh:
		xc = "HIT"
	case cachepolicy.StaleServe:
		xc = "STALE reason=" + string(d.Reason)
	case cachepolicy.StaleServeAndRevalidate:
		// RFC 5861 §3: serve it now, revalidate in the background; the
		// fill map keeps it to one revalidation per entry.
		spec := x.fillSpec()
		meta := e.Meta
		spec.validate = &meta
		x.h.acquireFill(obj, spec, false)
		xc = "STALE reason=" + string(d.Reason)
	case cachepolicy.GatewayTimeout:
		x.fail(http.StatusGatewayTimeout, "MISS reason=only-if-cached", "the request is only-if-cached and the stored response needs the origin")
		return true
	default: // MustRevalidate
		return x.revalidate(obj, e, d)
	}
	return x.serveStored(e, xc, cachepolicy.FormatAge(d.Age))
}

// serveStored serves a stored entry; false when it turned out corrupt (the
// store has dropped it) before anything was sent.
func (x *exchange) serveStored(e *cachestore.Entry, xcache, age string) bool {
	// The store verifies a small disk entry whole in Get and a large one
	// block by block as it is read: a corrupt small entry is a miss, a
	// corrupt large one cuts the response (the client sees a truncated
	// body, never a wrong one) and the next request is a miss.
	rep := representation{status: e.Meta.Status, header: e.Meta.Header, size: e.Size, body: e, xcache: xcache, age: age}
	if x.dom.Transform != nil {
		// Only a transformation looks for variants stored beside it.
		rep.stored = &storedRef{key: e.Key, identity: storedIdentity(e.Meta, e.Size)}
	} else {
		rep.view = storedViewOf(e)
	}
	if err := x.serve(rep); err != nil {
		x.h.log.Warn("edge: stored entry unusable, fetching again", "key", e.Key, "err", err)
		if !errors.Is(err, cachestore.ErrCorrupt) {
			_ = x.h.Cache.Delete(e.Key)
		}
		return false
	}
	return true
}

// staleEntry is a stored response that may stand in when validating it
// fails (stale-if-error, RFC 5861 §4).
type staleEntry struct {
	e *cachestore.Entry
	d cachepolicy.Decision
}

// revalidate validates a stored response with the origin (RFC 9111 §4.3).
func (x *exchange) revalidate(obj string, e *cachestore.Entry, d cachepolicy.Decision) bool {
	spec := x.fillSpec()
	meta := e.Meta
	spec.validate = &meta
	f, leader, _ := x.h.acquireFill(obj, spec, true)
	if f == nil {
		x.passThrough(missReason(string(d.Reason)))
		return true
	}
	return x.serveFill(f, leader, string(d.Reason), &staleEntry{e, d})
}

// serveMiss fetches the whole object, sharing the fetch with concurrent
// misses.
func (x *exchange) serveMiss(obj, reason string) bool {
	f, leader, e := x.h.acquireFill(obj, x.fillSpec(), true)
	if e != nil {
		return x.serveEntry(obj, e)
	}
	if f == nil {
		x.passThrough(missReason(reason))
		return true
	}
	return x.serveFill(f, leader, reason, nil)
}

// serveFill serves a request from a fill it joined.
func (x *exchange) serveFill(f *fill, leader bool, reason string, stale *staleEntry) bool {
	released := false
	release := func() {
		if !released {
			released = true
			f.release()
		}
	}
	defer release()
	stop := f.watch(x.ctx())
	defer stop()
	select {
	case <-f.ready:
	case <-x.ctx().Done():
		return true
	}
	now := x.h.now()
	if f.notModified {
		e := x.h.getStored(f.key)
		if e == nil {
			return false
		}
		defer e.Close()
		return x.serveStored(e, "REVALIDATED", cachepolicy.FormatAge(cachepolicy.CurrentAge(policyEntry(e.Meta), now)))
	}
	if f.err != nil || f.revalErr {
		if stale != nil && stale.d.StaleOnError {
			return x.serveStored(stale.e, "STALE reason=origin-error", cachepolicy.FormatAge(cachepolicy.CurrentAge(policyEntry(stale.e.Meta), now)))
		}
		if f.err != nil {
			x.originError(f.err, missReason(reason))
			return true
		}
	}
	xc := missReason(reason)
	hdr := f.header
	switch {
	case !f.shared && !leader:
		// Not stored: it answered the leader's request only.
		release()
		x.passThrough(missReason(f.reason))
		return true
	case !f.shared:
		xc = missReason(f.reason)
		err := x.serve(representation{status: f.status, header: hdr, size: f.size, body: &streamReader{r: f.stream}, xcache: xc, sequential: true})
		if err != nil {
			x.originError(err, xc)
		}
		return true
	case !leader:
		if vk, ok := cachepolicy.VaryKey(f.vary, x.r.Header, x.vary); !ok || vk != f.varyKey {
			return false // another variant: look it up again
		}
		hdr = f.stored
		xc += " collapsed"
	}
	err := x.serve(representation{status: f.status, header: hdr, size: f.size, body: fillReader{f, x.ctx()}, xcache: xc})
	if err != nil {
		x.originError(err, xc)
	}
	return true
}

// hasEntry reports whether key is stored.
func (h *Handler) hasEntry(key string) bool {
	e := h.getEntry(key)
	if e != nil {
		e.Close()
	}
	return e != nil
}

// dropObject deletes an object's metadata and slices.
func (h *Handler) dropObject(obj string) {
	if _, err := h.Cache.DeletePrefix(slicesPrefix(obj)); err != nil {
		h.log.Warn("edge: cannot drop slices", "key", obj, "err", err)
	}
}

// originIgnoresRange reports whether d's origin recently answered a range
// request with 200 (C08).
func (h *Handler) originIgnoresRange(d *Domain) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	until, ok := h.noRange[d.Origin.Host]
	if ok && h.now().After(until) {
		delete(h.noRange, d.Origin.Host)
		return false
	}
	return ok
}

// markNoRange remembers that d's origin ignores Range.
func (h *Handler) markNoRange(d *Domain) {
	mem := h.NoRangeMemory
	if mem <= 0 {
		mem = DefaultNoRangeMemory
	}
	h.mu.Lock()
	h.noRange[d.Origin.Host] = h.now().Add(mem)
	h.mu.Unlock()
	h.log.Warn("edge: origin answered a range request with 200; fetching whole objects from it", "origin", d.Origin.Host, "for", mem)
}
