package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Prefetch defaults and bounds.
const (
	// DefaultPrefetchConcurrency is the concurrency of a request with none.
	DefaultPrefetchConcurrency = 4
	// MaxPrefetchConcurrency bounds the URLs one task fetches at a time.
	MaxPrefetchConcurrency = 64
	// DefaultPrefetchTimeout bounds one attempt of a request with none.
	DefaultPrefetchTimeout = 30 * time.Second
	// DefaultPrefetchRetries is the retries of a request with none.
	DefaultPrefetchRetries = 2
	// maxPrefetchRetries bounds Retries.
	maxPrefetchRetries = 10
)

// PrefetchRequest asks the edge to fetch URLs into its cache.
type PrefetchRequest struct {
	// URLs are absolute http or https URLs of domains this edge serves.
	URLs []string `json:"urls"`
	// Concurrency is how many URLs are fetched at a time; if zero,
	// DefaultPrefetchConcurrency. At most MaxPrefetchConcurrency.
	Concurrency int `json:"concurrency,omitempty"`
	// Timeout bounds each attempt of each URL (the response and its whole
	// body); if zero, DefaultPrefetchTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Retries is how many times a URL is tried again after a timeout, a
	// cut body or a 5xx answer, waiting RetryBackoff, then twice as long,
	// and so on. Nil means DefaultPrefetchRetries; 0 means no retry.
	Retries *int `json:"retries,omitempty"`
	// Header fields sent with every request (for example Accept-Encoding,
	// to fill a variant of a URL that varies on it).
	Header map[string]string `json:"header,omitempty"`
}

// Prefetch starts a prefetch task and returns its first status (its ID).
// Each URL is fetched through the Handler itself, in process, exactly as a
// client request would be, so the cache fills as it would for that client;
// an item is ok once the response was read whole and its fill committed.
func (t *Tasks) Prefetch(req PrefetchRequest) (TaskStatus, error) {
	if len(req.URLs) == 0 {
		return TaskStatus{}, fmt.Errorf("%w: no urls", ErrInvalidTask)
	}
	if len(req.URLs) > MaxTaskURLs {
		return TaskStatus{}, fmt.Errorf("%w: %d URLs; at most %d per task", ErrInvalidTask, len(req.URLs), MaxTaskURLs)
	}
	conc := req.Concurrency
	switch {
	case conc < 0 || conc > MaxPrefetchConcurrency:
		return TaskStatus{}, fmt.Errorf("%w: concurrency %d: want 1 to %d", ErrInvalidTask, conc, MaxPrefetchConcurrency)
	case conc == 0:
		conc = DefaultPrefetchConcurrency
	}
	timeout := time.Duration(req.Timeout)
	switch {
	case timeout < 0:
		return TaskStatus{}, fmt.Errorf("%w: negative timeout", ErrInvalidTask)
	case timeout == 0:
		timeout = DefaultPrefetchTimeout
	}
	retries := DefaultPrefetchRetries
	if req.Retries != nil {
		retries = *req.Retries
	}
	if retries < 0 || retries > maxPrefetchRetries {
		return TaskStatus{}, fmt.Errorf("%w: retries %d: want 0 to %d", ErrInvalidTask, retries, maxPrefetchRetries)
	}
	hdr := make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		if !isToken(k) {
			return TaskStatus{}, fmt.Errorf("%w: header field name %q", ErrInvalidTask, k)
		}
		hdr.Set(k, v)
	}
	if hdr.Get("User-Agent") == "" {
		hdr.Set("User-Agent", "strata-prefetch")
	}
	urls := make([]*url.URL, len(req.URLs))
	for i, s := range req.URLs {
		_, u, err := t.h.taskURL(s)
		if err != nil {
			return TaskStatus{}, err
		}
		urls[i] = u
	}
	return t.start(KindPrefetch, "", req.URLs, func(ctx context.Context, tk *task) {
		sem := make(chan struct{}, conc)
		var wg sync.WaitGroup
		for i, u := range urls {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				t.prefetchURL(ctx, tk, i, u, hdr, timeout, retries)
			}()
		}
		wg.Wait()
	})
}

// prefetchURL fetches item i, retrying transient failures.
func (t *Tasks) prefetchURL(ctx context.Context, tk *task, i int, u *url.URL, hdr http.Header, timeout time.Duration, retries int) {
	start := time.Now()
	tk.update(i, func(it *TaskItem) { it.State = ItemRunning })
	var err error
	for attempt := 1; ; attempt++ {
		tk.update(i, func(it *TaskItem) { it.Attempts = attempt })
		var res prefetchResult
		res, err = t.fetchOnce(ctx, u, hdr, timeout)
		tk.update(i, func(it *TaskItem) {
			it.Status, it.XCache, it.Bytes = res.status, res.xcache, res.bytes
		})
		if err == nil || !res.retry || attempt > retries || ctx.Err() != nil {
			break
		}
		wait := t.opts.RetryBackoff << (attempt - 1)
		tk.update(i, func(it *TaskItem) { it.Error = err.Error() + fmt.Sprintf(" (retrying in %v)", wait) })
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
		}
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("canceled: the node is shutting down (last attempt: %w)", err)
	}
	tk.itemDone(i, time.Since(start), err)
}

// prefetchResult is the outcome of one attempt.
type prefetchResult struct {
	status int
	xcache string
	bytes  int64
	retry  bool // the failure may pass: try again
}

// fetchOnce makes one request for u through the Handler and waits for the
// fills it started to commit.
func (t *Tasks) fetchOnce(ctx context.Context, u *url.URL, hdr http.Header, timeout time.Duration) (prefetchResult, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	if target.Path == "" {
		target.Path = "/"
	}
	req := (&http.Request{
		Method:     http.MethodGet,
		URL:        target,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     hdr.Clone(),
		Host:       u.Host,
		RemoteAddr: "127.0.0.1:0",
		RequestURI: target.RequestURI(),
	}).WithContext(actx)
	w := &prefetchWriter{header: make(http.Header)}
	cut := t.serve(w, req)
	res := prefetchResult{status: w.status, xcache: w.header.Get("X-Cache"), bytes: w.bytes}
	timedOut := func() error {
		if errors.Is(actx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			res.retry = true
			return fmt.Errorf("timed out after %v (%d bytes received)", timeout, w.bytes)
		}
		return nil
	}
	switch {
	case w.status == 0:
		if err := timedOut(); err != nil {
			return res, fmt.Errorf("no response: %w", err)
		}
		res.retry = true
		return res, errors.New("no response from the edge")
	case cut:
		if err := timedOut(); err != nil {
			return res, fmt.Errorf("body cut: %w", err)
		}
		res.retry = true
		return res, fmt.Errorf("body cut after %d bytes (origin failed or the object changed meanwhile)", w.bytes)
	case w.status >= 500:
		res.retry = true
		return res, fmt.Errorf("edge answered %d: %s", w.status, w.snippet())
	case w.status >= 300:
		return res, fmt.Errorf("edge answered %d: %s", w.status, w.snippet())
	}
	if err := timedOut(); err != nil {
		return res, fmt.Errorf("body: %w", err)
	}
	// The client's last byte can precede the fill's commit: wait for it,
	// so that "ok" means "in the cache".
	if t.h.Cache != nil {
		d := t.h.domainFor(u.Host)
		if _, err := t.h.waitInflight(actx, primaryKey(d, u)+"#"); err != nil {
			if terr := timedOut(); terr != nil {
				return res, fmt.Errorf("storing in the cache: %w", terr)
			}
			return res, fmt.Errorf("storing in the cache: %w", err)
		}
	}
	return res, nil
}

// serve runs the Handler on req and reports whether the response was cut
// (the Handler aborts a response whose body fails midway).
func (t *Tasks) serve(w http.ResponseWriter, req *http.Request) (cut bool) {
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				t.log.Error("edge: prefetch request panicked", "url", req.Host+req.RequestURI, "panic", v)
			}
			cut = true
		}
	}()
	t.h.ServeHTTP(w, req)
	return false
}

// prefetchWriter is the ResponseWriter of a prefetch: it keeps the header,
// the status, the body length and the start of an error body.
type prefetchWriter struct {
	header http.Header
	status int
	bytes  int64
	head   []byte // the first bytes of the body of an error response
}

func (w *prefetchWriter) Header() http.Header { return w.header }

func (w *prefetchWriter) WriteHeader(code int) {
	if w.status != 0 || code < 200 {
		return // 1xx responses are interim
	}
	w.status = code
}

func (w *prefetchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 300 && len(w.head) < 512 {
		w.head = append(w.head, p[:min(len(p), 512-len(w.head))]...)
	}
	w.bytes += int64(len(p))
	return len(p), nil
}

// Flush is a no-op: nothing is sent anywhere.
func (w *prefetchWriter) Flush() {}

// snippet returns the start of the error body on one line.
func (w *prefetchWriter) snippet() string {
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(w.head), string(utf8.RuneError))), " ")
	if s == "" {
		return http.StatusText(w.status)
	}
	return s
}
