package logs

import (
	"cmp"
	"slices"
)

// counter counts keys in bounded memory. It holds at most cap keys; when
// full, it keeps the half with the largest counts and forgets the rest
// (lossy counting). A key added after a prune may have been seen before:
// its count is then a lower bound, short by at most its err, which is the
// largest count ever forgotten. Amortised cost per add: O(1).
type counter[T any] struct {
	cap    int
	m      map[string]*centry[T]
	floor  int64 // largest count (plus its err) forgotten so far
	pruned bool  // some key was forgotten
}

// centry is one counted key and its payload.
type centry[T any] struct {
	key string
	n   int64 // count since the key was last (re)admitted
	err int64 // how much n may fall short of the true count
	v   T
}

func newCounter[T any](capacity int) *counter[T] {
	return &counter[T]{cap: max(capacity, 2), m: make(map[string]*centry[T], capacity)}
}

// add adds w to key's count and returns its entry, for the caller to update
// the payload.
func (c *counter[T]) add(key string, w int64) *centry[T] {
	e := c.m[key]
	if e == nil {
		if len(c.m) >= c.cap {
			c.prune()
		}
		e = &centry[T]{key: key, err: c.floor}
		c.m[key] = e
	}
	e.n += w
	return e
}

// get returns key's entry, or nil when it is not counted now.
func (c *counter[T]) get(key string) *centry[T] { return c.m[key] }

// prune forgets the half of the keys with the smallest counts.
func (c *counter[T]) prune() {
	all := c.sorted()
	keep := c.cap / 2
	for _, e := range all[keep:] {
		c.floor = max(c.floor, e.n+e.err)
		delete(c.m, e.key)
	}
	c.pruned = true
}

// sorted returns the entries by count, largest first, ties by key.
func (c *counter[T]) sorted() []*centry[T] {
	all := make([]*centry[T], 0, len(c.m))
	for _, e := range c.m {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *centry[T]) int {
		if a.n != b.n {
			return cmp.Compare(b.n, a.n)
		}
		return cmp.Compare(a.key, b.key)
	})
	return all
}

// top returns the n largest entries.
func (c *counter[T]) top(n int) []*centry[T] {
	all := c.sorted()
	if len(all) > n {
		all = all[:n]
	}
	return all
}
