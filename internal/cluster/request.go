package cluster

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"time"
)

// Bounds of a request, the same as a node's (docs/admin-api.md), checked
// here so that a bad request is refused at once rather than by every node.
const (
	// MaxURLs bounds the URLs of one task.
	MaxURLs = 10000
	// maxConcurrency bounds a prefetch's concurrency.
	maxConcurrency = 64
	// maxRetries bounds a prefetch's retries.
	maxRetries = 10
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("1.5s"); it also reads a number of seconds.
type Duration time.Duration

// MarshalJSON writes d as a string like "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string ("30s") or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration: want a string like \"30s\" or a number of seconds, got %s", b)
		}
		if secs != secs || math.Abs(secs) > float64(math.MaxInt64/int64(time.Second)) {
			return fmt.Errorf("duration: %s seconds is out of range", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// PurgeRequest is the body of POST /cluster/purge: a node's purge request
// (POST /edge/purge) plus the target and a deadline per node.
type PurgeRequest struct {
	Target
	// URLs, Prefix, Domain and Mode are sent to every targeted node as
	// they are (exactly one of URLs, Prefix and Domain).
	URLs   []string `json:"urls,omitempty"`
	Prefix string   `json:"prefix,omitempty"`
	Domain string   `json:"domain,omitempty"`
	Mode   string   `json:"mode,omitempty"`
	// NodeTimeout bounds each node's part; if zero, the coordinator's.
	NodeTimeout Duration `json:"node_timeout,omitempty"`
}

// PrefetchRequest is the body of POST /cluster/prefetch: a node's prefetch
// request (POST /edge/prefetch) plus the target, the order of the tiers
// and a deadline per node.
type PrefetchRequest struct {
	Target
	// Order is OrderTiers (the default when empty) or OrderParallel.
	Order Order `json:"order,omitempty"`
	// URLs, Concurrency, Timeout, Retries and Header are sent to every
	// targeted node as they are.
	URLs        []string          `json:"urls"`
	Concurrency int               `json:"concurrency,omitempty"`
	Timeout     Duration          `json:"timeout,omitempty"`
	Retries     *int              `json:"retries,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
	// NodeTimeout bounds each node's part; if zero, the coordinator's.
	NodeTimeout Duration `json:"node_timeout,omitempty"`
}

// edgePurge is the body of POST /edge/purge.
type edgePurge struct {
	URLs   []string `json:"urls,omitempty"`
	Prefix string   `json:"prefix,omitempty"`
	Domain string   `json:"domain,omitempty"`
	Mode   string   `json:"mode,omitempty"`
}

// edgePrefetch is the body of POST /edge/prefetch.
type edgePrefetch struct {
	URLs        []string          `json:"urls"`
	Concurrency int               `json:"concurrency,omitempty"`
	Timeout     Duration          `json:"timeout,omitempty"`
	Retries     *int              `json:"retries,omitempty"`
	Header      map[string]string `json:"header,omitempty"`
}

// check validates a purge request and returns the body sent to the nodes
// and how many items each node's task has.
func (r PurgeRequest) check() (edgePurge, int, error) {
	switch r.Mode {
	case "", "delete", "stale":
	default:
		return edgePurge{}, 0, fmt.Errorf("%w: mode %q: want delete or stale", ErrInvalid, r.Mode)
	}
	n := 0
	for _, set := range []bool{len(r.URLs) > 0, r.Prefix != "", r.Domain != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return edgePurge{}, 0, fmt.Errorf("%w: give exactly one of urls, prefix and domain", ErrInvalid)
	}
	if r.NodeTimeout < 0 {
		return edgePurge{}, 0, fmt.Errorf("%w: negative node_timeout", ErrInvalid)
	}
	if r.Prefix != "" {
		if err := checkURL(r.Prefix); err != nil {
			return edgePurge{}, 0, err
		}
	}
	if err := checkURLs(r.URLs); err != nil {
		return edgePurge{}, 0, err
	}
	items := max(len(r.URLs), 1)
	return edgePurge{URLs: r.URLs, Prefix: r.Prefix, Domain: r.Domain, Mode: r.Mode}, items, nil
}

// check validates a prefetch request and returns the body sent to the
// nodes.
func (r PrefetchRequest) check() (edgePrefetch, error) {
	if len(r.URLs) == 0 {
		return edgePrefetch{}, fmt.Errorf("%w: no urls", ErrInvalid)
	}
	switch r.Order {
	case "", OrderTiers, OrderParallel:
	default:
		return edgePrefetch{}, fmt.Errorf("%w: order %q: want %s or %s", ErrInvalid, r.Order, OrderTiers, OrderParallel)
	}
	if r.Concurrency < 0 || r.Concurrency > maxConcurrency {
		return edgePrefetch{}, fmt.Errorf("%w: concurrency %d: want 1 to %d", ErrInvalid, r.Concurrency, maxConcurrency)
	}
	if r.Timeout < 0 || r.NodeTimeout < 0 {
		return edgePrefetch{}, fmt.Errorf("%w: negative timeout", ErrInvalid)
	}
	if r.Retries != nil && (*r.Retries < 0 || *r.Retries > maxRetries) {
		return edgePrefetch{}, fmt.Errorf("%w: retries %d: want 0 to %d", ErrInvalid, *r.Retries, maxRetries)
	}
	if err := checkURLs(r.URLs); err != nil {
		return edgePrefetch{}, err
	}
	return edgePrefetch{URLs: r.URLs, Concurrency: r.Concurrency, Timeout: r.Timeout, Retries: r.Retries, Header: r.Header}, nil
}

// checkURLs checks the URLs of a task.
func checkURLs(urls []string) error {
	if len(urls) > MaxURLs {
		return fmt.Errorf("%w: %d URLs; at most %d per task", ErrInvalid, len(urls), MaxURLs)
	}
	for _, s := range urls {
		if err := checkURL(s); err != nil {
			return err
		}
	}
	return nil
}

// checkURL checks that s is an absolute http or https URL; whether a node
// serves its host is the node's to say.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: %q is not an absolute http or https URL", ErrInvalid, s)
	}
	return nil
}
