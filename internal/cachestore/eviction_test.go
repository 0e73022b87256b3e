package cachestore

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestS3FIFO drives the policy directly: one-hit entries leave from the
// small queue, hit entries move to the main queue, and a key evicted from
// the small queue comes back straight into the main one.
func TestS3FIFO(t *testing.T) {
	p := &s3fifo{capacity: 100}
	nodes := make([]*node, 10)
	for i := range nodes {
		nodes[i] = &node{size: 10, hash: uint64(i)}
		p.insert(nodes[i])
	}
	if got, want := p.bytes(), int64(100); got != want {
		t.Fatalf("bytes = %d, want %d", got, want)
	}
	p.hit(nodes[0])
	p.hit(nodes[1])
	// The oldest two were hit: they move to main; node 2 is the first
	// victim and is remembered by the ghost queue.
	if v := p.evict(); v != nodes[2] {
		t.Fatalf("first victim = %+v, want node 2", v)
	}
	if nodes[0].q != inMain || nodes[1].q != inMain {
		t.Errorf("hit nodes in queues %d, %d; want main (%d)", nodes[0].q, nodes[1].q, inMain)
	}
	back := &node{size: 10, hash: 2}
	p.insert(back)
	if back.q != inMain {
		t.Errorf("re-admitted ghost key in queue %d, want main", back.q)
	}
	fresh := &node{size: 10, hash: 99}
	p.insert(fresh)
	if fresh.q != inSmall {
		t.Errorf("new key in queue %d, want small", fresh.q)
	}
	// Draining evicts everything exactly once.
	seen := map[*node]bool{}
	for v := p.evict(); v != nil; v = p.evict() {
		if seen[v] {
			t.Fatalf("node %d evicted twice", v.hash)
		}
		seen[v] = true
	}
	if p.bytes() != 0 || p.count() != 0 {
		t.Errorf("after draining: %d bytes, %d entries", p.bytes(), p.count())
	}
}

// TestGhostBounded checks that the ghost queue forgets the oldest hashes.
func TestGhostBounded(t *testing.T) {
	var g ghost
	for i := range uint64(1000) {
		g.add(i, 20)
	}
	if len(g.live) > 20 {
		t.Errorf("ghost remembers %d hashes, want at most 20", len(g.live))
	}
	if !g.take(999) || g.take(999) {
		t.Error("newest hash: want taken exactly once")
	}
	if g.take(0) {
		t.Error("oldest hash still remembered")
	}
}

// TestScanResistance is the point of the policy: a hot set that has been hit
// survives a one-pass scan of many cold keys ten times the tier's size,
// while entries of the same age that were never hit are flushed by it.
func TestScanResistance(t *testing.T) {
	const entry = 1024
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"memory", Options{MemoryBytes: 100 * (entry + 200)}},
		{"disk", Options{Dir: t.TempDir(), MemoryEntryMax: -1, DiskBytes: 100 * (entry + 200)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			hot := make([]string, 20)
			cold := make([]string, 20)
			for i := range hot {
				hot[i] = fmt.Sprintf("https://h.test/hot/%d", i)
				cold[i] = fmt.Sprintf("https://h.test/unhit/%d", i)
				put(t, s, hot[i], Meta{Status: 200}, pattern(hot[i], entry))
				put(t, s, cold[i], Meta{Status: 200}, pattern(cold[i], entry))
			}
			for _, k := range hot {
				mustGet(t, s, k)
			}
			// A crawler: 1000 keys, each requested (stored) once.
			for i := range 1000 {
				k := fmt.Sprintf("https://h.test/crawl/%d", i)
				put(t, s, k, Meta{Status: 200}, pattern(k, entry))
			}
			if s.Stats().Evictions < 900 {
				t.Fatalf("only %d evictions: the scan did not fill the tier", s.Stats().Evictions)
			}
			for _, k := range hot {
				if _, _, err := get(s, k); err != nil {
					t.Errorf("hot %q lost to the scan: %v", k, err)
				}
			}
			for _, k := range cold {
				if _, _, err := get(s, k); err == nil {
					t.Errorf("never-hit %q survived the scan; the policy does not separate hot from cold", k)
				}
			}
		})
	}
}

// TestBoundsUnderLoad writes many entries of varied sizes and checks after
// every commit that neither tier exceeds its bound (nor does the directory).
func TestBoundsUnderLoad(t *testing.T) {
	dir := t.TempDir()
	const memCap, diskCap = 64 << 10, 256 << 10
	s := openStore(t, Options{Dir: dir, MemoryBytes: memCap, DiskBytes: diskCap, MemoryEntryMax: 16 << 10})
	rng := rand.New(rand.NewPCG(1, 2))
	var keys []string
	for i := range 400 {
		k := fmt.Sprintf("k/%d", i)
		keys = append(keys, k)
		put(t, s, k, Meta{Status: 200}, pattern(k, 1+rng.IntN(20<<10)))
		if rng.IntN(2) == 0 { // hits promote disk entries back to memory
			get(s, keys[rng.IntN(len(keys))])
		}
		st := s.Stats()
		if st.MemoryBytes > memCap || st.DiskBytes > diskCap {
			t.Fatalf("after %d puts: memory %d / %d, disk %d / %d", i+1, st.MemoryBytes, memCap, st.DiskBytes, diskCap)
		}
	}
	st := s.Stats()
	if st.Evictions == 0 || st.Promotions == 0 || st.MemoryEntries == 0 || st.DiskEntries == 0 {
		t.Errorf("stats %+v: want evictions, promotions and entries in both tiers", st)
	}
	var onDisk int64
	files := entryFiles(t, dir)
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		onDisk += fi.Size()
	}
	if onDisk != st.DiskBytes || int64(len(files)) != st.DiskEntries {
		t.Errorf("directory holds %d files, %d bytes; stats say %d, %d", len(files), onDisk, st.DiskEntries, st.DiskBytes)
	}
}

// TestEntryLargerThanTier checks that an entry larger than a tier is not
// admitted to it (and evicts nothing).
func TestEntryLargerThanTier(t *testing.T) {
	s := openStore(t, Options{MemoryBytes: 10 << 10, MaxEntrySize: 1 << 20})
	put(t, s, "small", Meta{}, make([]byte, 100))
	put(t, s, "huge", Meta{}, make([]byte, 20<<10))
	if _, err := s.Get("huge"); !isMiss(err) {
		t.Errorf("Get(huge) = %v, want ErrNotFound", err)
	}
	mustGet(t, s, "small")
}
