package cachestore

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeHeader feeds arbitrary bytes to the entry header decoder. It
// must never panic; whatever it accepts must re-encode to the same bytes,
// describe lengths within its bounds, and be rejected if any byte of the
// header or key is changed.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(encodeHeader(entryHeader{KeyLen: 1, MetaLen: 10, BodyLen: 100, Gen: 1, BlockSize: blockSize}, "k"))
	f.Add(encodeHeader(entryHeader{KeyLen: 0, BlockSize: blockSize}, ""))
	f.Add([]byte("SCE1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, key, err := decodeHeader(b)
		if errors.Is(err, errShortHeader) {
			if len(b) >= headerSize+int(h.KeyLen) {
				t.Fatalf("short-header error with %d bytes for key length %d", len(b), h.KeyLen)
			}
			return
		}
		if err != nil {
			return
		}
		if h.KeyLen > maxKeyLen || h.MetaLen > maxMetaLen || h.BodyLen > maxBodyLen || h.BlockSize != blockSize {
			t.Fatalf("accepted out-of-bounds header %+v", h)
		}
		if int(h.KeyLen) != len(key) {
			t.Fatalf("key length %d, header says %d", len(key), h.KeyLen)
		}
		if h.fileSize() < headerSize {
			t.Fatalf("file size %d overflows", h.fileSize())
		}
		enc := encodeHeader(h, key)
		if !bytes.Equal(enc, b[:len(enc)]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", enc, b[:len(enc)])
		}
		h2, key2, err := decodeHeader(enc)
		if err != nil || key2 != key || h2 != h {
			t.Fatalf("round trip: %+v %q %v", h2, key2, err)
		}
		// A single flipped bit anywhere in header or key is caught.
		for i := range enc {
			bad := bytes.Clone(enc)
			bad[i] ^= 0x10
			if _, _, err := decodeHeader(bad); err == nil {
				t.Fatalf("flipping byte %d went unnoticed", i)
			}
		}
	})
}

// TestHeaderRoundTrip checks encodeHeader against decodeHeader for fields
// at their bounds.
func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range []entryHeader{
		{BlockSize: blockSize},
		{KeyLen: 5, MetaLen: maxMetaLen, BodyLen: maxBodyLen, Gen: 1<<64 - 1, BlockSize: blockSize, MetaCRC: 1, TableCRC: 2},
	} {
		key := string(pattern("k", int(h.KeyLen)))
		gotH, gotKey, err := decodeHeader(encodeHeader(h, key))
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", h, err)
		}
		if d := cmp.Diff(h, gotH); d != "" || gotKey != key {
			t.Errorf("round trip (-want +got):\n%s key %q, want %q", d, gotKey, key)
		}
	}
}
