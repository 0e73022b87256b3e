package checksum

import (
	"hash/crc64"
	"math/rand/v2"
	"testing"
)

func TestCheckValues(t *testing.T) {
	data := []byte("123456789")
	tests := []struct {
		name string
		tab  *crc64.Table
		want uint64
	}{
		{"NVME", NVME, 0xae8b14860a799888},
		{"ECMA", ECMA, 0x995dc9bbdf1939fa},
	}
	for _, tt := range tests {
		if got := crc64.Checksum(data, tt.tab); got != tt.want {
			t.Errorf("%s Checksum = %#x, want %#x", tt.name, got, tt.want)
		}
	}
	h := NewNVME()
	h.Write(data)
	if got := h.Sum64(); got != 0xae8b14860a799888 {
		t.Errorf("NewNVME = %#x, want 0xae8b14860a799888", got)
	}
	h = NewECMA()
	h.Write(data)
	if got := h.Sum64(); got != 0x995dc9bbdf1939fa {
		t.Errorf("NewECMA = %#x, want 0x995dc9bbdf1939fa", got)
	}
}

func TestFormat(t *testing.T) {
	// Values a real S3 sends for "123456789" and OSS's decimal form.
	if got, want := NVMEBase64(0xae8b14860a799888), "rosUhgp5mIg="; got != want {
		t.Errorf("NVMEBase64 = %q, want %q", got, want)
	}
	if got, want := ECMADecimal(0x995dc9bbdf1939fa), "11051210869376104954"; got != want {
		t.Errorf("ECMADecimal = %q, want %q", got, want)
	}
	if got, ok := ParseNVMEBase64("rosUhgp5mIg="); !ok || got != 0xae8b14860a799888 {
		t.Errorf("ParseNVMEBase64 = %#x, %v; want 0xae8b14860a799888, true", got, ok)
	}
	for _, bad := range []string{"", "rosUhgp5mI==", "rosUhgp5mIgA", "!!!!!!!!!!!="} {
		if _, ok := ParseNVMEBase64(bad); ok {
			t.Errorf("ParseNVMEBase64(%q) ok, want failure", bad)
		}
	}
}

func TestCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 20000)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	tabs := map[string]*crc64.Table{"NVME": NVME, "ECMA": ECMA, "ISO": crc64.MakeTable(crc64.ISO)}
	for name, tab := range tabs {
		for i := 0; i < 200; i++ {
			n := rng.IntN(len(buf) + 1)
			split := rng.IntN(n + 1)
			if i < 3 {
				split = []int{0, n, n / 2}[i] // len1 = 0, len2 = 0, middle
			}
			a, b := buf[:split], buf[split:n]
			got := Combine(tab, crc64.Checksum(a, tab), crc64.Checksum(b, tab), int64(len(b)))
			if want := crc64.Checksum(buf[:n], tab); got != want {
				t.Fatalf("%s: Combine(len1=%d, len2=%d) = %#x, want %#x", name, len(a), len(b), got, want)
			}
		}
	}
}

// TestCombineMany combines many pieces in order, as a multipart upload does.
func TestCombineMany(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all []byte
	var crc uint64
	for i := 0; i < 50; i++ {
		p := make([]byte, rng.IntN(3000))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		all = append(all, p...)
		if i == 0 {
			crc = crc64.Checksum(p, NVME)
			continue
		}
		crc = Combine(NVME, crc, crc64.Checksum(p, NVME), int64(len(p)))
	}
	if want := crc64.Checksum(all, NVME); crc != want {
		t.Errorf("combined = %#x, want %#x", crc, want)
	}
}

// TestCombineZeros checks huge lengths against a direct CRC of zero bytes
// computed by squaring: crc(zeros(2n)) = Combine(crc(zeros(n)), crc(zeros(n)), n).
func TestCombineZeros(t *testing.T) {
	z := make([]byte, 1<<16)
	c := crc64.Checksum(z, NVME)
	direct := crc64.Checksum(append(z, z...), NVME)
	if got := Combine(NVME, c, c, int64(len(z))); got != direct {
		t.Errorf("Combine of zero runs = %#x, want %#x", got, direct)
	}
	// Lengths with high bits set must not panic or loop.
	_ = Combine(NVME, 1, 2, 1<<62+12345)
	_ = Combine(ECMA, 1, 2, 1<<63-1)
}

func FuzzCombine(f *testing.F) {
	f.Add([]byte("123456789"), 4, true)
	f.Add([]byte{}, 0, false)
	f.Add([]byte("hello, world"), 12, true)
	f.Fuzz(func(t *testing.T, data []byte, split int, nvme bool) {
		tab := ECMA
		if nvme {
			tab = NVME
		}
		if split < 0 {
			split = -split
		}
		if len(data) > 0 {
			split %= len(data) + 1
		} else {
			split = 0
		}
		a, b := data[:split], data[split:]
		got := Combine(tab, crc64.Checksum(a, tab), crc64.Checksum(b, tab), int64(len(b)))
		if want := crc64.Checksum(data, tab); got != want {
			t.Fatalf("Combine(len1=%d, len2=%d) = %#x, want %#x", len(a), len(b), got, want)
		}
	})
}

func FuzzParseNVMEBase64(f *testing.F) {
	f.Add("rosUhgp5mIg=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		crc, ok := ParseNVMEBase64(s)
		if !ok {
			return
		}
		if back := NVMEBase64(crc); back != s {
			// Non-canonical padding bits decode too; the round trip must
			// still yield the same value.
			if again, ok := ParseNVMEBase64(back); !ok || again != crc {
				t.Fatalf("round trip of %q: %q -> %#x", s, back, again)
			}
		}
	})
}
