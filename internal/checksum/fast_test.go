package checksum

import (
	"fmt"
	"hash"
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

// TestFastMatchesTables checks the vector implementations against
// hash/crc64's tables for every length up to a few blocks, every alignment
// of the start, lengths past the 1 KiB where the 512-bit code takes over,
// and data written in uneven pieces.
func TestFastMatchesTables(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 70000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	impls := []struct {
		name string
		tab  *crc64.Table
		new  func() hash.Hash64
		sum  func([]byte) uint64
	}{
		{"NVME", NVME, NewNVME, ChecksumNVME},
		{"ECMA", ECMA, NewECMA, ChecksumECMA},
	}
	lengths := []int{}
	for n := 0; n <= 1200; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 2047, 2048, 4096, 4097, 65536, 65536+77, 69000)
	for _, im := range impls {
		for _, n := range lengths {
			for _, off := range []int{0, 1, 7, 8, 15} {
				if off+n > len(buf) {
					continue
				}
				p := buf[off : off+n]
				want := crc64.Checksum(p, im.tab)
				if got := im.sum(p); got != want {
					t.Fatalf("%s checksum(len %d, offset %d) = %#x, want %#x", im.name, n, off, got, want)
				}
			}
		}
		// Streaming in pieces of random sizes gives the same CRC.
		for i := 0; i < 50; i++ {
			h := im.new()
			p := buf[:rng.IntN(len(buf))]
			for rest := p; len(rest) > 0; {
				k := min(len(rest), rng.IntN(5000))
				h.Write(rest[:k])
				rest = rest[k:]
			}
			if got, want := h.Sum64(), crc64.Checksum(p, im.tab); got != want {
				t.Fatalf("%s streamed %d bytes = %#x, want %#x", im.name, len(p), got, want)
			}
			ref := crc64.New(im.tab)
			ref.Write(p)
			if got, want := h.Sum([]byte("x")), ref.Sum([]byte("x")); string(got) != string(want) {
				t.Fatalf("%s Sum = %x, want %x", im.name, got, want)
			}
		}
	}
}

// TestECMASmallVectors runs the ECMA vector code with the 512-bit variant
// switched off, so that the 128-bit one is covered on CPUs with AVX-512.
func TestECMASmallVectors(t *testing.T) {
	if !hasCLMUL {
		t.Skip("no carry-less multiplication on this CPU")
	}
	saved := hasVPCLMUL
	hasVPCLMUL = false
	defer func() { hasVPCLMUL = saved }()
	rng := rand.New(rand.NewPCG(7, 8))
	buf := make([]byte, 20000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	for _, n := range []int{256, 257, 1023, 1024, 1025, 4096, 19999} {
		for _, off := range []int{0, 3} {
			p := buf[off : off+n-off]
			if got, want := ChecksumECMA(p), crc64.Checksum(p, ECMA); got != want {
				t.Fatalf("ECMA(len %d, offset %d) = %#x, want %#x", len(p), off, got, want)
			}
		}
	}
}

func BenchmarkCRC64(b *testing.B) {
	for _, size := range []int{4 << 10, 1 << 20} {
		p := make([]byte, size)
		for _, bm := range []struct {
			name string
			f    func([]byte) uint64
		}{
			{"NVME", ChecksumNVME},
			{"ECMA", ChecksumECMA},
			{"ECMA-tables", func(p []byte) uint64 { return crc64.Checksum(p, ECMA) }},
		} {
			b.Run(fmt.Sprintf("%s/%d", bm.name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				for b.Loop() {
					bm.f(p)
				}
			})
		}
	}
}

// FuzzFastCRC compares the vector implementations with hash/crc64's
// tables on arbitrary data, split at an arbitrary point.
func FuzzFastCRC(f *testing.F) {
	f.Add([]byte("123456789"), 3)
	f.Add(make([]byte, 3000), 1029)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		if split < 0 {
			split = -split
		}
		split %= len(data) + 1
		for _, im := range []struct {
			name string
			tab  *crc64.Table
			new  func() hash.Hash64
		}{{"NVME", NVME, NewNVME}, {"ECMA", ECMA, NewECMA}} {
			h := im.new()
			h.Write(data[:split])
			h.Write(data[split:])
			if got, want := h.Sum64(), crc64.Checksum(data, im.tab); got != want {
				t.Fatalf("%s(%d bytes split at %d) = %#x, want %#x", im.name, len(data), split, got, want)
			}
		}
	})
}
