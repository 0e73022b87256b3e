package cachestore

import (
	"strconv"
	"testing"
)

// BenchmarkGetMemory measures a hit on a hot memory entry: Get, read the
// body, Close.
func BenchmarkGetMemory(b *testing.B) {
	s := openStore(b, Options{})
	body := pattern("bench", 16<<10)
	put(b, s, "https://b.test/hot", sampleMeta(), body)
	p := make([]byte, len(body))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		e, err := s.Get("https://b.test/hot")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.ReadAt(p, 0); err != nil {
			b.Fatal(err)
		}
		e.Close()
	}
}

// BenchmarkGetMemoryParallel is BenchmarkGetMemory from every CPU, which
// measures contention on the store's mutex.
func BenchmarkGetMemoryParallel(b *testing.B) {
	s := openStore(b, Options{})
	body := pattern("bench", 16<<10)
	put(b, s, "https://b.test/hot", sampleMeta(), body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		p := make([]byte, len(body))
		for pb.Next() {
			e, err := s.Get("https://b.test/hot")
			if err != nil {
				b.Fatal(err)
			}
			e.ReadAt(p, 0)
			e.Close()
		}
	})
}

// BenchmarkGetDisk measures a hit on a disk entry kept out of memory: open
// the file, check header, metadata and block table, read and verify the
// body, Close.
func BenchmarkGetDisk(b *testing.B) {
	for _, size := range []int{16 << 10, 1 << 20} {
		b.Run(byteSize(size), func(b *testing.B) {
			s := openStore(b, Options{Dir: b.TempDir(), MemoryEntryMax: -1})
			body := pattern("bench", size)
			put(b, s, "https://b.test/disk", sampleMeta(), body)
			p := make([]byte, 32<<10) // an io.Copy-sized buffer
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				e, err := s.Get("https://b.test/disk")
				if err != nil {
					b.Fatal(err)
				}
				for off := int64(0); off < e.Size; off += int64(len(p)) {
					if _, err := e.ReadAt(p, off); err != nil && off+int64(len(p)) < e.Size {
						b.Fatal(err)
					}
				}
				e.Close()
			}
		})
	}
}

// BenchmarkPut measures committing a 16 KiB entry to both tiers.
func BenchmarkPut(b *testing.B) {
	s := openStore(b, Options{Dir: b.TempDir(), DiskBytes: 64 << 20})
	body := pattern("bench", 16<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		put(b, s, "https://b.test/put/"+byteSize(i%1000), sampleMeta(), body)
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "KiB"
	}
	return strconv.Itoa(n)
}
