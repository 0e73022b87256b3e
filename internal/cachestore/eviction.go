package cachestore

// This file implements S3-FIFO (Yang et al., "FIFO queues are all you need
// for cache eviction", SOSP 2023) over byte-sized entries. Every operation is
// O(1) amortised: an entry is moved between queues at most once per hit it
// received (its frequency counter saturates at 3).
//
// The policy is not safe for concurrent use: Store.mu guards it.

const (
	// maxFreq saturates the per-entry hit counter, as in the paper: two bits
	// suffice to separate "hit once" from "hot".
	maxFreq = 3
	// smallShare is the fraction (in percent) of a tier's bytes the
	// probationary small queue may hold before it is the one to evict.
	smallShare = 10
)

// queueID says which queue a node is in.
type queueID uint8

const (
	inNone queueID = iota
	inSmall
	inMain
)

// node is one entry's place in a tier's policy. It is embedded in memItem and
// diskItem; rec points back to the index record that owns it.
type node struct {
	prev, next *node
	q          queueID
	freq       uint8
	size       int64
	hash       uint64 // of the key, remembered by the ghost queue
	rec        *record
}

// fifo is an intrusive doubly linked list: push at the head, pop at the tail.
type fifo struct {
	head, tail *node
	bytes      int64
	n          int
}

func (l *fifo) pushHead(n *node) {
	n.prev, n.next = nil, l.head
	if l.head != nil {
		l.head.prev = n
	} else {
		l.tail = n
	}
	l.head = n
	l.bytes += n.size
	l.n++
}

func (l *fifo) unlink(n *node) {
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		l.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		l.tail = n.prev
	}
	n.prev, n.next = nil, nil
	l.bytes -= n.size
	l.n--
}

// ghost remembers the hashes of keys recently evicted from the small queue,
// so that a key that comes back soon after is admitted straight to the main
// queue. It is a bounded FIFO of hashes; the oldest are forgotten first.
type ghost struct {
	seq   uint64
	live  map[uint64]uint64 // hash → seq of its newest insertion
	ring  []ghostSlot       // FIFO of insertions; stale slots are skipped
	start int               // index of the oldest slot in ring
	count int               // number of slots in use
}

type ghostSlot struct{ hash, seq uint64 }

func (g *ghost) add(h uint64, limit int) {
	if limit < 16 {
		limit = 16
	}
	if g.live == nil {
		g.live = make(map[uint64]uint64)
	}
	if len(g.ring) < limit {
		// Grow to the limit, unrolling the ring so the oldest slot is first.
		grown := make([]ghostSlot, 0, limit)
		for i := 0; i < g.count; i++ {
			grown = append(grown, g.ring[(g.start+i)%len(g.ring)])
		}
		g.ring, g.start = grown[:limit], 0
	}
	for g.count >= limit || g.count == len(g.ring) {
		old := g.ring[g.start]
		if g.live[old.hash] == old.seq {
			delete(g.live, old.hash)
		}
		g.start = (g.start + 1) % len(g.ring)
		g.count--
	}
	g.seq++
	g.ring[(g.start+g.count)%len(g.ring)] = ghostSlot{h, g.seq}
	g.count++
	g.live[h] = g.seq
}

// take reports whether h was in the ghost queue and forgets it.
func (g *ghost) take(h uint64) bool {
	if _, ok := g.live[h]; !ok {
		return false
	}
	delete(g.live, h)
	return true
}

// s3fifo is one tier's eviction policy: a small probationary FIFO, a main
// FIFO with lazy promotion, and a ghost FIFO of recently evicted keys.
type s3fifo struct {
	capacity    int64
	small, main fifo
	ghost       ghost
}

// bytes is the total size of the entries the policy holds.
func (p *s3fifo) bytes() int64 { return p.small.bytes + p.main.bytes }

// count is the number of entries the policy holds.
func (p *s3fifo) count() int { return p.small.n + p.main.n }

// insert admits n: to the main queue if its key was evicted recently (it has
// proven it comes back), else to the small queue. The caller has made room.
func (p *s3fifo) insert(n *node) {
	n.freq = 0
	if p.ghost.take(n.hash) {
		n.q = inMain
		p.main.pushHead(n)
		return
	}
	n.q = inSmall
	p.small.pushHead(n)
}

// hit records an access; it never moves the node (the FIFO property that
// makes hits cheap).
func (p *s3fifo) hit(n *node) {
	if n.freq < maxFreq {
		n.freq++
	}
}

// remove takes n out of the policy (delete, replace, corruption).
func (p *s3fifo) remove(n *node) {
	switch n.q {
	case inSmall:
		p.small.unlink(n)
	case inMain:
		p.main.unlink(n)
	}
	n.q = inNone
}

// resize changes n's accounted size in place.
func (p *s3fifo) resize(n *node, size int64) {
	switch n.q {
	case inSmall:
		p.small.bytes += size - n.size
	case inMain:
		p.main.bytes += size - n.size
	}
	n.size = size
}

// evict chooses and removes one victim, or returns nil if the tier is empty.
//
// The small queue is evicted from while it holds more than its share: an
// entry at its tail that was hit since admission moves to the main queue,
// one that was not (a one-hit wonder: a crawler, a range storm) leaves and
// is remembered in the ghost queue. The main queue is a CLOCK-like FIFO: an
// entry at its tail with hits is reinserted at the head with one hit less.
func (p *s3fifo) evict() *node {
	for {
		if p.small.n > 0 && (p.small.bytes*100 >= p.capacity*smallShare || p.main.n == 0) {
			t := p.small.tail
			p.small.unlink(t)
			if t.freq > 0 {
				t.freq = 0
				t.q = inMain
				p.main.pushHead(t)
				continue
			}
			t.q = inNone
			p.ghost.add(t.hash, p.count()+1)
			return t
		}
		if p.main.n == 0 {
			return nil
		}
		t := p.main.tail
		p.main.unlink(t)
		if t.freq > 0 {
			t.freq--
			p.main.pushHead(t)
			continue
		}
		t.q = inNone
		return t
	}
}
