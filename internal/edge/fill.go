package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
)

// testHookFillWaits, if set (by tests only), is called when a fill starts
// waiting for the fill before it (fill.prev).
var testHookFillWaits func(key string)

// errAbandoned ends a fill whose clients all left when finishing it would
// read more than MaxBackgroundFill (or when it could not be cached).
var errAbandoned = errors.New("fetch abandoned: every client left")

// A fill is one whole-object fetch from the origin, shared by every request
// that misses on the same object key at the same time (request collapsing).
// A goroutine owned by the Handler reads the origin's body into a spool file
// and, when the response is storable, into a cache writer; clients read the
// spool as it grows, each at its own pace. The fetch does not depend on any
// client: it completes into the cache after they hang up (C09) unless more
// than MaxBackgroundFill would remain to be read.
type fill struct {
	h     *Handler
	key   string // the object key it was started for (the collapsing key)
	alias string // the variant key it stores under, when another; guarded by Handler.mu
	// prev is a fill of the same key whose response could not answer the
	// request that started this one: this fill waits for it to be stored
	// and then validates it rather than fetching the object again.
	prev *fill

	ready chan struct{} // closed when the fields below are set

	// Set before ready is closed; read-only afterwards.
	err         error       // the origin could not be asked
	notModified bool        // a validation got 304 and the stored entry was updated
	status      int         // the origin's status
	header      http.Header // the origin's header, hop-by-hop removed
	stored      http.Header // the header as stored and served to followers
	size        int64       // body length, -1 when unknown
	shared      bool        // stored: followers may read the body
	reason      string      // why the response is not stored ("no-store"), if not
	vary        string      // the response's Vary
	reqTime     time.Time   // when the request that got the response was sent
	respTime    time.Time   // when the response header arrived
	varyKey     string      // the leader's variant key under vary
	revalErr    bool        // a validation got an error status (RFC 5861 §4)
	stream      io.Reader   // the body of a response not stored, for the leader alone

	mu       sync.Mutex // guards the fields below; cond signals progress
	cond     sync.Cond
	spool    *os.File
	written  int64 // bytes in the spool
	done     bool  // the body is complete or failed
	bodyErr  error // why it failed
	readers  int   // clients reading the spool
	running  bool  // the fetching goroutine still uses the spool
	idle     int64 // bytes read while no client was reading
	canceled bool  // the fetch was abandoned
}

// fillSpec describes a fetch to start.
type fillSpec struct {
	dom      *Domain
	url      *url.URL    // the client's URL
	header   http.Header // the origin request header (originHeader(false))
	client   http.Header // the client's header, for Storable and VaryKey
	policy   cachepolicy.Policy
	vary     cachepolicy.VaryOptions
	primary  string
	validate *cachestore.Meta // a stored response to revalidate, or nil
}

// acquireFill joins the fill in flight for key, or starts one. When no fill
// is in flight and the object is stored (a fill finished meanwhile), it
// returns the entry instead. The caller joins as a reader when join is set
// and must then call release.
//
// A request joins a fill only while that fill's response may answer it
// (fill.joinable): once the response header has arrived, a response that is
// not stored, or that is not fresh for this request (stale on arrival, or
// the request asks for a fresher one), is not handed to it; it gets a fetch
// of its own, which takes the fill's place in the map and, when the other
// response is being stored, validates it once stored (RFC 9111 §4.3) rather
// than fetching the object unconditionally.
func (h *Handler) acquireFill(key string, spec fillSpec, join bool) (f *fill, leader bool, e *cachestore.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var prev *fill
	if f := h.fills[key]; f != nil {
		if f.joinable(spec, h.now()) {
			if join {
				f.join()
			}
			return f, false, nil
		}
		if f.shared && spec.validate == nil {
			prev = f
		}
	}
	if spec.validate == nil {
		// A fill removes itself only after committing, so under h.mu
		// either it is still listed or its entry is visible: concurrent
		// misses never make a second origin fetch.
		if e, err := h.Cache.Get(key); err == nil {
			return nil, false, e
		}
	}
	if h.closed {
		return nil, false, nil
	}
	f = &fill{h: h, key: key, ready: make(chan struct{}), size: -1, running: true, prev: prev}
	f.cond.L = &f.mu
	if join {
		f.readers = 1
	}
	h.fills[key] = f
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		f.run(spec)
	}()
	return f, true, nil
}

// joinable reports whether a request described by spec may share f's
// response. Before the response header arrives it may: the request came
// before the response, as it would have if it had gone to the origin
// itself. Afterwards only a stored response that RFC 9111 §4 lets this
// request reuse (fresh, or stale within its max-stale) may answer it, or
// the stored entry a 304 just freshened; a response stale on arrival must
// not be reused (§4.2) however it reached the cache.
func (f *fill) joinable(spec fillSpec, now time.Time) bool {
	select {
	case <-f.ready:
	default:
		return true
	}
	switch {
	case f.notModified:
		return true
	case f.err != nil || !f.shared:
		return false
	}
	e := cachepolicy.Entry{Status: f.status, Header: f.stored, RequestTime: f.reqTime, ResponseTime: f.respTime}
	switch spec.policy.Decide(e, spec.client, now).Action {
	case cachepolicy.Fresh, cachepolicy.StaleServe:
		return true
	}
	return false
}

// join registers a reader.
func (f *fill) join() {
	f.mu.Lock()
	f.readers++
	f.mu.Unlock()
}

// release unregisters a reader; the spool is closed with the last one.
func (f *fill) release() {
	f.mu.Lock()
	f.readers--
	f.closeIfUnused()
	f.cond.Broadcast()
	f.mu.Unlock()
}

// closeIfUnused closes the spool when nobody uses it any more; f.mu held.
func (f *fill) closeIfUnused() {
	if f.readers == 0 && !f.running && f.spool != nil {
		f.spool.Close()
		f.spool = nil
	}
}

// unlist removes f from the in-flight fills.
func (f *fill) unlist() {
	f.h.mu.Lock()
	for _, k := range []string{f.key, f.alias} {
		if k != "" && f.h.fills[k] == f {
			delete(f.h.fills, k)
		}
	}
	f.h.mu.Unlock()
}

// listAs lists f under the variant key it stores the response at too: the
// first request for a URL looks up the variant before anyone knows that it
// varies, and the requests after it, which know, must find this fill
// rather than start another fetch.
func (f *fill) listAs(key string) {
	if key == f.key {
		return
	}
	f.h.mu.Lock()
	if f.h.fills[key] == nil {
		f.h.fills[key] = f
		f.alias = key
	}
	f.h.mu.Unlock()
}

// wait returns when f's body is complete or failed (and, when it was
// stored, committed).
func (f *fill) wait() {
	f.mu.Lock()
	for !f.done {
		f.cond.Wait()
	}
	f.mu.Unlock()
}

// finish records the end of the body and wakes the readers.
func (f *fill) finish(err error) {
	f.mu.Lock()
	f.done = true
	f.bodyErr = err
	f.running = false
	f.closeIfUnused()
	f.cond.Broadcast()
	f.mu.Unlock()
}

// run fetches the object; it is the fill's goroutine.
func (f *fill) run(spec fillSpec) {
	h := f.h
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	published := false
	publish := func() {
		if !published {
			published = true
			close(f.ready)
		}
	}
	defer func() {
		publish()
		f.unlist()
		if h.onFillDone != nil {
			h.onFillDone(f.key)
		}
	}()

	if f.prev != nil {
		// The response in flight must be validated before this request
		// may use it: wait until it is stored, then validate the entry.
		if testHookFillWaits != nil {
			testHookFillWaits(f.key)
		}
		f.prev.wait()
		f.prev = nil
		if e, err := h.Cache.Get(f.key); err == nil {
			meta := e.Meta
			e.Close()
			spec.validate = &meta
		}
	}
	resp, reqTime, respTime, err := f.fetch(ctx, spec, spec.validate)
	if err == nil && spec.validate != nil && resp.StatusCode == http.StatusNotModified {
		resp.Body.Close()
		if f.applyNotModified(spec, resp.Header, reqTime, respTime) {
			f.notModified = true
			f.finish(nil)
			return
		}
		// The stored entry could not be updated (it was evicted
		// meanwhile): its body is gone, so ask again without conditions.
		resp, reqTime, respTime, err = f.fetch(ctx, spec, nil)
	}
	if err != nil {
		f.err = err
		f.finish(err)
		return
	}
	defer resp.Body.Close()

	f.status = resp.StatusCode
	f.header = responseHeader(resp)
	f.size = resp.ContentLength
	f.reqTime, f.respTime = reqTime, respTime
	f.vary = strings.Join(resp.Header.Values("Vary"), ",")
	f.revalErr = spec.validate != nil && cachepolicy.IsRevalidationError(resp.StatusCode)
	storable, reason := spec.policy.Storable(&http.Request{Method: http.MethodGet, Header: spec.client}, resp)
	if storable && resp.StatusCode == http.StatusPartialContent {
		storable, reason = false, cachepolicy.Reason("partial-response") // the fill asked for no range
	}
	var storeKey string
	if storable {
		vk, ok := cachepolicy.VaryKey(f.vary, spec.client, spec.vary)
		if ok {
			f.varyKey = vk
			storeKey = variantKey(spec.primary, vk)
		} else {
			storable, reason = false, cachepolicy.ReasonVaryStar
		}
	}
	f.reason = string(reason)
	f.stored = f.header.Clone()
	// A Set-Cookie belongs to the client that caused it; the cache never
	// hands it to anyone else. A response with one is stored only under a
	// cache rule (cachepolicy.Policy.RefuseSetCookie), and then without it.
	f.stored.Del("Set-Cookie")

	if !storable {
		// Nobody else may read a response that is not stored, and it may
		// be endless (a live stream): hand the body to the leader rather
		// than spooling it, and close it when the leader is done.
		f.unlist()
		f.stream = resp.Body
		publish()
		f.mu.Lock()
		for f.readers > 0 {
			f.cond.Wait()
		}
		f.mu.Unlock()
		f.finish(nil)
		return
	}

	spool, err := os.CreateTemp(h.TempDir, "strata-edge-fill-*")
	if err != nil {
		f.err = fmt.Errorf("edge: spool for origin body: %w", err)
		f.finish(f.err)
		return
	}
	os.Remove(spool.Name()) // the descriptor keeps it; nothing to clean up later
	f.mu.Lock()
	f.spool = spool
	f.mu.Unlock()

	f.listAs(storeKey)
	h.recordVary(spec.primary, f.vary)
	w, err := h.Cache.NewWriter(storeKey, cachestore.Meta{
		Status: resp.StatusCode, Header: f.stored, RequestTime: reqTime, ResponseTime: respTime,
	})
	if err != nil {
		h.log.Warn("edge: cannot cache response", "key", storeKey, "err", err)
		w = nil
	}
	f.shared = true
	publish()

	err = f.copyBody(resp.Body, w)
	if w != nil {
		if err == nil {
			if cerr := w.Commit(); cerr != nil {
				h.log.Warn("edge: cannot cache response", "key", storeKey, "err", cerr)
			}
		} else {
			w.Abort()
		}
	}
	// Unlist before waking readers and only after Commit: a request that
	// finds no fill then finds the entry.
	f.unlist()
	f.finish(err)
}

// fetch sends the fill's request, conditional when validate is set.
func (f *fill) fetch(ctx context.Context, spec fillSpec, validate *cachestore.Meta) (*http.Response, time.Time, time.Time, error) {
	h := f.h
	hdr := spec.header.Clone()
	if validate != nil {
		for k, v := range cachepolicy.ValidationHeaders(validate.Header) {
			hdr[k] = v
		}
	}
	req := newOriginRequest(ctx, spec.dom, http.MethodGet, spec.url, hdr, nil, 0)
	reqTime := h.now()
	resp, err := h.roundTripTimeout(req)
	return resp, reqTime, h.now(), err
}

// roundTripTimeout sends req, giving up when no response header arrives
// within OriginTimeout, or when a read of the body waits longer than that
// for the origin (a stalled origin never holds a fetch, or Close, forever).
func (h *Handler) roundTripTimeout(req *http.Request) (*http.Response, error) {
	d := h.originTimeout()
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(d, func() {
		cancel(fmt.Errorf("no response header from the origin within %v: %w", d, context.DeadlineExceeded))
	})
	resp, err := h.rt.RoundTrip(req.WithContext(ctx))
	timer.Stop()
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && req.Context().Err() == nil {
			err = cause
		}
		cancel(nil)
		return nil, err
	}
	idle := time.AfterFunc(time.Hour, func() {
		cancel(fmt.Errorf("the origin sent nothing for %v: %w", d, context.DeadlineExceeded))
	})
	idle.Stop()
	resp.Body = &idleBody{ReadCloser: resp.Body, ctx: ctx, timer: idle, d: d, cancel: cancel}
	return resp, nil
}

// idleBody bounds each read of an origin body: the timer runs only while a
// Read waits for the origin, so a slow client does not count.
type idleBody struct {
	io.ReadCloser
	ctx    context.Context
	timer  *time.Timer
	d      time.Duration
	cancel context.CancelCauseFunc
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.timer.Reset(b.d)
	n, err := b.ReadCloser.Read(p)
	b.timer.Stop()
	if err != nil && err != io.EOF {
		if cause := context.Cause(b.ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			err = cause
		}
	}
	return n, err
}

func (b *idleBody) Close() error {
	b.timer.Stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// applyNotModified freshens the stored entry with a 304 and reports whether
// it could. The fill's conditional request was made from that one entry
// (cachepolicy.ValidationHeaders), so the 304 validates it even when it
// carries no validator or another ETag (RFC 9111 §4.3.3; see
// cachepolicy.UpdateValidated). The 304's Set-Cookie is not stored, as no
// stored response carries one.
func (f *fill) applyNotModified(spec fillSpec, hdr http.Header, reqTime, respTime time.Time) bool {
	stored := policyEntry(*spec.validate)
	up := cachepolicy.UpdateValidated(stored, hdr, reqTime, respTime)
	up.Header.Del("Set-Cookie")
	meta := cachestore.Meta{Status: up.Status, Header: up.Header, RequestTime: up.RequestTime, ResponseTime: up.ResponseTime, Extra: spec.validate.Extra}
	if err := f.h.Cache.UpdateMeta(f.key, meta); err != nil {
		f.h.log.Warn("edge: cannot update cached headers after 304", "key", f.key, "err", err)
		return false
	}
	return true
}

// copyBody reads the origin's body into the spool and the cache writer w
// (nil: not cached), stopping early when every client left and finishing
// would cost more than MaxBackgroundFill.
func (f *fill) copyBody(body io.Reader, w *cachestore.Writer) error {
	h := f.h
	limit := h.maxBackgroundFill()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := f.spool.Write(buf[:n]); err != nil {
				return fmt.Errorf("edge: spool write: %w", err)
			}
			if w != nil {
				if _, err := w.Write(buf[:n]); err != nil {
					if !errors.Is(err, cachestore.ErrTooLarge) {
						h.log.Warn("edge: cache write failed", "key", f.key, "err", err)
					}
					w.Abort()
					w = nil
				}
			}
			f.mu.Lock()
			f.written += int64(n)
			if f.readers == 0 {
				f.idle += int64(n)
			}
			// With no client left, finish only what is cacheable and
			// within the bound: bytes read so far unattended plus those
			// still to come.
			abandon := f.readers == 0 && (w == nil || f.idle > limit || (f.size >= 0 && f.idle+f.size-f.written > limit))
			f.cond.Broadcast()
			f.mu.Unlock()
			if abandon {
				f.mu.Lock()
				f.canceled = true
				f.mu.Unlock()
				return errAbandoned
			}
		}
		if rerr == io.EOF {
			if f.size >= 0 && f.written != f.size {
				return fmt.Errorf("edge: origin body ended after %d of %d bytes: %w", f.written, f.size, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("edge: origin body: %w", rerr)
		}
	}
}

// fillReader reads a fill's body for one client, waiting for bytes that
// have not arrived yet. It satisfies io.ReaderAt: a short read comes with
// an error.
type fillReader struct {
	f   *fill
	ctx context.Context
}

func (r fillReader) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.f.readAt(r.ctx, p[n:], off+int64(n))
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// readAt reads what has arrived at off, waiting until something has.
func (f *fill) readAt(ctx context.Context, p []byte, off int64) (int, error) {
	f.mu.Lock()
	for f.written <= off && !f.done && ctx.Err() == nil {
		f.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		f.mu.Unlock()
		return 0, err
	}
	avail := f.written - off
	if avail <= 0 {
		err := f.bodyErr
		f.mu.Unlock()
		if err == nil {
			err = io.EOF
		}
		return 0, err
	}
	spool := f.spool
	f.mu.Unlock()
	if int64(len(p)) > avail {
		p = p[:avail]
	}
	return spool.ReadAt(p, off)
}

// watch wakes the fill's waiting readers when ctx ends; call stop after.
func (f *fill) watch(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		f.mu.Lock()
		f.cond.Broadcast()
		f.mu.Unlock()
	})
}
