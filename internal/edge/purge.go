package edge

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PurgeMode says what a purge does to the entries it matches.
type PurgeMode string

// Purge modes.
const (
	// PurgeDelete removes the entries: the next request is a miss.
	PurgeDelete PurgeMode = "delete"
	// PurgeStale marks the entries stale: the next request revalidates
	// with the origin (a conditional request; a 304 keeps the body), and
	// the entry may still stand in if the origin fails, as stale-if-error
	// allows (RFC 5861 §4).
	PurgeStale PurgeMode = "stale"
)

// PurgeRequest selects what to purge: exactly one of URLs, Prefix and
// Domain.
type PurgeRequest struct {
	// URLs are absolute http or https URLs; each purges every variant of
	// the URL (and, for an object cached in slices, its slices).
	URLs []string `json:"urls,omitempty"`
	// Prefix is an absolute URL whose host picks the domain; every cached
	// URL of the domain whose path (and query) starts with the prefix's is
	// purged.
	Prefix string `json:"prefix,omitempty"`
	// Domain is a host name; every cached URL of the domain serving it is
	// purged.
	Domain string `json:"domain,omitempty"`
	// Mode is PurgeDelete (the default when empty) or PurgeStale.
	Mode PurgeMode `json:"mode,omitempty"`
}

// purgeTarget is one item of a purge: a URL's primary key, or a key prefix.
type purgeTarget struct {
	label   string // what the item shows: the URL, prefix or domain
	primary string // a URL's primary key, or ""
	prefix  string // a key prefix, when primary is ""
}

// keyPrefix is the prefix of every cache key the target covers.
func (p purgeTarget) keyPrefix() string {
	if p.primary != "" {
		return p.primary + "#"
	}
	return p.prefix
}

// Purge starts a purge task and returns its first status (its ID).
func (t *Tasks) Purge(req PurgeRequest) (TaskStatus, error) {
	targets, err := t.h.purgeTargets(req)
	if err != nil {
		return TaskStatus{}, err
	}
	mode := req.Mode
	if mode == "" {
		mode = PurgeDelete
	}
	labels := make([]string, len(targets))
	for i, p := range targets {
		labels[i] = p.label
	}
	return t.start(KindPurge, mode, labels, func(ctx context.Context, tk *task) {
		t.runPurge(ctx, tk, mode, targets)
	})
}

// purgeTargets validates a purge request and maps it to cache keys.
func (h *Handler) purgeTargets(req PurgeRequest) ([]purgeTarget, error) {
	switch req.Mode {
	case "", PurgeDelete, PurgeStale:
	default:
		return nil, fmt.Errorf("%w: mode %q: want %q or %q", ErrInvalidTask, req.Mode, PurgeDelete, PurgeStale)
	}
	n := 0
	for _, set := range []bool{len(req.URLs) > 0, req.Prefix != "", req.Domain != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, fmt.Errorf("%w: give exactly one of urls, prefix and domain", ErrInvalidTask)
	}
	switch {
	case req.Prefix != "":
		d, u, err := h.taskURL(req.Prefix)
		if err != nil {
			return nil, err
		}
		p := strings.ToLower(d.Host) + u.EscapedPath()
		if u.RawQuery != "" || u.ForceQuery {
			p += "?" + u.RawQuery
		}
		return []purgeTarget{{label: req.Prefix, prefix: p}}, nil
	case req.Domain != "":
		d := h.domainFor(req.Domain)
		if d == nil {
			return nil, fmt.Errorf("%w: domain %q: no domain of this edge serves it", ErrInvalidTask, req.Domain)
		}
		return []purgeTarget{{label: req.Domain, prefix: strings.ToLower(d.Host) + "/"}}, nil
	}
	if len(req.URLs) > MaxTaskURLs {
		return nil, fmt.Errorf("%w: %d URLs; at most %d per task", ErrInvalidTask, len(req.URLs), MaxTaskURLs)
	}
	out := make([]purgeTarget, 0, len(req.URLs))
	for _, s := range req.URLs {
		d, u, err := h.taskURL(s)
		if err != nil {
			return nil, err
		}
		out = append(out, purgeTarget{label: s, primary: primaryKey(d, u)})
	}
	return out, nil
}

// taskURL parses an absolute http(s) URL of a task and finds its domain.
func (h *Handler) taskURL(s string) (*Domain, *url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidTask, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("%w: %q is not an absolute http or https URL", ErrInvalidTask, s)
	}
	d := h.domainFor(u.Host)
	if d == nil {
		return nil, nil, fmt.Errorf("%w: %q: no domain of this edge serves host %q", ErrInvalidTask, s, u.Hostname())
	}
	if u.Path == "" {
		// "http://host" and "http://host?q" are requests for "/".
		u.Path, u.RawPath = "/", ""
	}
	return d, u, nil
}

// runPurge purges each target in turn.
func (t *Tasks) runPurge(ctx context.Context, tk *task, mode PurgeMode, targets []purgeTarget) {
	h := t.h
	for i, p := range targets {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		tk.update(i, func(it *TaskItem) { it.State, it.Attempts = ItemRunning, 1 })
		var err error
		if mode == PurgeStale {
			h.markStale(p)
		} else {
			var n int
			n, err = h.purgeDelete(ctx, p.keyPrefix())
			tk.update(i, func(it *TaskItem) { it.Entries = n })
		}
		tk.itemDone(i, time.Since(start), err)
	}
	if mode == PurgeStale && t.opts.MarksPath != "" {
		t.saveMu.Lock()
		err := saveMarks(t.opts.MarksPath, h.marks.snapshot())
		t.saveMu.Unlock()
		if err != nil {
			t.log.Error("edge: stale marks not persisted; a restart forgets them", "err", err)
			tk.mu.Lock()
			tk.st.Error = "the stale marks are in effect but could not be saved, so a restart would forget them: " + err.Error()
			tk.mu.Unlock()
		}
	}
}

// markStale marks a target stale as of now; marks pushed out by it are
// turned into deletions.
func (h *Handler) markStale(p purgeTarget) {
	// Received no later than now: a fetch in flight, committed after this,
	// is covered too.
	now := h.now()
	var evicted []string
	if p.primary != "" {
		evicted = h.marks.markURL(p.primary, now)
	} else {
		evicted = h.marks.markPrefix(p.prefix, now)
	}
	for _, e := range evicted {
		h.deletePrefix(e)
	}
}

// purgeDelete deletes every entry under prefix. A fetch in flight for one
// of them would store its response (received before the purge) after the
// deletion, so the purge waits for such fetches and deletes again.
func (h *Handler) purgeDelete(ctx context.Context, prefix string) (int, error) {
	if h.Cache == nil {
		return 0, nil
	}
	n, err := h.Cache.DeletePrefix(prefix)
	if err != nil {
		return n, fmt.Errorf("delete from the cache: %w", err)
	}
	waited, err := h.waitInflight(ctx, prefix)
	if err != nil {
		return n, fmt.Errorf("waiting for fetches in flight: %w", err)
	}
	if waited {
		m, err := h.Cache.DeletePrefix(prefix)
		n += m
		if err != nil {
			return n, fmt.Errorf("delete from the cache: %w", err)
		}
	}
	return n, nil
}

// deletePrefix deletes the entries under prefix, logging a failure.
func (h *Handler) deletePrefix(prefix string) {
	if h.Cache == nil {
		return
	}
	if _, err := h.Cache.DeletePrefix(prefix); err != nil {
		h.log.Warn("edge: purge failed", "prefix", prefix, "err", err)
	}
}

// waitInflight waits for the whole-object fills and the slice and metadata
// fetches in flight under a key prefix to end (each has then committed
// what it stores) and reports whether there were any.
func (h *Handler) waitInflight(ctx context.Context, prefix string) (bool, error) {
	var fills []*fill
	var fls []*flight
	h.mu.Lock()
	for k, f := range h.fills {
		if strings.HasPrefix(k, prefix) {
			fills = append(fills, f)
		}
	}
	for k, fl := range h.flights {
		if strings.HasPrefix(k, prefix) {
			fls = append(fls, fl)
		}
	}
	h.mu.Unlock()
	for _, fl := range fls {
		select {
		case <-fl.done:
		case <-ctx.Done():
			return true, ctx.Err()
		}
	}
	for _, f := range fills {
		if err := f.waitDone(ctx); err != nil {
			return true, err
		}
	}
	return len(fills)+len(fls) > 0, nil
}

// waitDone waits until the fill has finished: committed into the cache (or
// failed) and unlisted.
func (f *fill) waitDone(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		// Bounded by the fill, whose origin reads time out.
		f.mu.Lock()
		for !f.done {
			f.cond.Wait()
		}
		f.mu.Unlock()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
