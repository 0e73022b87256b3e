package cachestore

// record is the index's entry for one key: its copy in memory, on disk, or
// both. A record with neither is removed from the index. Store.mu guards
// every field.
type record struct {
	key  string
	mem  *memItem
	disk *diskItem
}

// memItem is a body held in memory. body and meta are immutable once
// installed (UpdateMeta installs a new meta value), so an Entry may share
// them without copying the body; the garbage collector keeps a body alive
// while an Entry still reads it.
type memItem struct {
	node
	meta Meta
	body []byte
	memo memo // what readers derived from meta (shared.go)
}

// diskItem is an entry file. Its name includes gen, so no two files ever
// share a name.
type diskItem struct {
	node
	gen  uint64
	name string // path relative to the disk tier's directory
	// verified is the file's blocks checked in this process, shared by
	// the Entries opened on it; created by the first Get.
	verified *blockSet
}

// memCost is what a memory item is charged against MemoryBytes.
func memCost(key string, meta Meta, body []byte) int64 {
	return int64(len(key)+len(body)) + metaCost(meta) + 64
}

// install makes rec the key's record, replacing (and returning the files of)
// any older one, and admits its items into their tiers, evicting to make
// room. It returns the files to remove once mu is released. Called with mu
// held.
func (s *Store) install(rec *record) []string {
	var files []string
	if old := s.index[rec.key]; old != nil {
		files = s.dropRecord(old, files)
	}
	h := keyHash(rec.key)
	if d := rec.disk; d != nil {
		d.rec, d.hash = rec, h
		if d.size > s.dsk.capacity {
			files = append(files, d.name)
			rec.disk = nil
		} else {
			files = append(files, s.evictDisk(d.size)...)
			s.dsk.insert(&d.node)
		}
	}
	if m := rec.mem; m != nil {
		m.rec, m.hash = rec, h
		if m.size > s.mem.capacity {
			rec.mem = nil
		} else {
			files = append(files, s.evictMem(m.size)...)
			s.mem.insert(&m.node)
		}
	}
	if rec.mem != nil || rec.disk != nil {
		s.index[rec.key] = rec
	}
	s.syncGauges()
	return files
}

// promote adds a memory copy to rec, whose disk copy is generation gen, if
// rec is still current and has none. Called with mu held.
func (s *Store) promote(key string, gen uint64, meta Meta, body []byte) []string {
	rec := s.index[key]
	if rec == nil || rec.mem != nil || rec.disk == nil || rec.disk.gen != gen || s.closed {
		return nil
	}
	m := &memItem{meta: meta, body: body}
	m.size, m.rec, m.hash = memCost(key, meta, body), rec, rec.disk.hash
	if m.size > s.mem.capacity {
		return nil
	}
	files := s.evictMem(m.size)
	if s.index[key] != rec || rec.disk == nil {
		return files // evicting memory never drops a disk copy, but be sure
	}
	rec.mem = m
	s.mem.insert(&m.node)
	s.counters.promotions.Add(1)
	s.syncGauges()
	return files
}

// setMemMeta replaces the memory copy's metadata. Called with mu held.
func (s *Store) setMemMeta(rec *record, meta Meta) {
	m := rec.mem
	if m == nil {
		return
	}
	nm := &memItem{meta: meta, body: m.body}
	nm.node = node{size: memCost(rec.key, meta, m.body), hash: m.hash, rec: rec}
	s.mem.remove(&m.node)
	rec.mem = nil
	if nm.size <= s.mem.capacity {
		s.evictMem(nm.size) // memory evictions never yield files
		if s.index[rec.key] == rec {
			rec.mem = nm
			s.mem.insert(&nm.node)
			nm.freq = m.freq
		}
	}
	if rec.mem == nil && rec.disk == nil {
		delete(s.index, rec.key)
	}
	s.syncGauges()
}

// dropRecord removes rec from both tiers and the index and appends its file
// to files. Called with mu held.
func (s *Store) dropRecord(rec *record, files []string) []string {
	if m := rec.mem; m != nil {
		s.mem.remove(&m.node)
		rec.mem = nil
	}
	if d := rec.disk; d != nil {
		s.dsk.remove(&d.node)
		files = append(files, d.name)
		rec.disk = nil
	}
	if s.index[rec.key] == rec {
		delete(s.index, rec.key)
	}
	s.syncGauges()
	return files
}

// evictMem evicts memory items until need more bytes fit. A record keeps its
// disk copy. Called with mu held; it returns no files (the result type keeps
// call sites uniform).
func (s *Store) evictMem(need int64) []string {
	for s.mem.bytes()+need > s.mem.capacity {
		n := s.mem.evict()
		if n == nil {
			break
		}
		rec := n.rec
		rec.mem = nil
		if rec.disk == nil && s.index[rec.key] == rec {
			delete(s.index, rec.key)
		}
		s.counters.evictions.Add(1)
		s.log.Debug("cachestore: evicted from memory", "key", rec.key, "bytes", n.size)
	}
	s.syncGauges()
	return nil
}

// evictDisk evicts disk items until need more bytes fit. A record keeps its
// memory copy: an entry hot enough to be in memory goes on being served from
// there. Called with mu held; returns the files to remove.
func (s *Store) evictDisk(need int64) []string {
	var files []string
	for s.dsk.bytes()+need > s.dsk.capacity {
		n := s.dsk.evict()
		if n == nil {
			break
		}
		rec := n.rec
		files = append(files, rec.disk.name)
		rec.disk = nil
		if rec.mem == nil && s.index[rec.key] == rec {
			delete(s.index, rec.key)
		}
		s.counters.evictions.Add(1)
		s.log.Debug("cachestore: evicted from disk", "key", rec.key, "bytes", n.size)
	}
	s.syncGauges()
	return files
}

// syncGauges publishes the tiers' sizes for Stats. Called with mu held.
func (s *Store) syncGauges() {
	s.counters.memEntries.Store(int64(s.mem.count()))
	s.counters.memBytes.Store(s.mem.bytes())
	s.counters.diskEntries.Store(int64(s.dsk.count()))
	s.counters.diskBytes.Store(s.dsk.bytes())
}
