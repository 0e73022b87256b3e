package objstore

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"testing"
)

// TestFileRanges assembles ranges of a three-part object from the pieces
// FileRanges names, read through the files' offsets as sendfile reads
// them, and compares them with the object's bytes.
func TestFileRanges(t *testing.T) {
	s, _ := newTestStore(t, Options{MinPartSize: 1})
	mustBucket(t, s, "bkt1")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	parts := [][]byte{randBytes(rng, 1000), randBytes(rng, 1), randBytes(rng, 2500)}
	whole := bytes.Join(parts, nil)
	id, err := s.CreateMultipartUpload(ctx, "bkt1", "mp", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var done []CompletePart
	for i, p := range parts {
		done = append(done, CompletePart{PartNumber: i + 1, ETag: uploadPart(t, s, "mp", id, i+1, p).ETag})
	}
	if _, err := s.CompleteMultipartUpload(ctx, "bkt1", "mp", id, done); err != nil {
		t.Fatal(err)
	}
	o, err := s.OpenObject(ctx, "bkt1", "mp")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()

	size := int64(len(whole))
	tests := []struct {
		off, n     int64
		wantPieces int
	}{
		{0, -1, 3},
		{0, size, 3},
		{0, 1000, 1},
		{999, 2, 2},    // last byte of part 1, the 1-byte part 2
		{1000, 1, 1},   // exactly part 2
		{1000, 2, 2},   // part 2 and the first byte of part 3
		{500, 3000, 3}, // across all three, to the end
		{3000, 100, 1},
		{size - 1, -1, 1},
		{size, -1, 0},
		{10, 0, 0},
		{3400, 1000, 1}, // past the end: cut at the end
	}
	for _, tt := range tests {
		rs := o.FileRanges(tt.off, tt.n)
		if len(rs) != tt.wantPieces {
			t.Errorf("FileRanges(%d, %d) has %d pieces, want %d", tt.off, tt.n, len(rs), tt.wantPieces)
		}
		var got []byte
		for _, r := range rs {
			if _, err := r.File.Seek(r.Off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(io.LimitReader(r.File, r.Len))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, b...)
		}
		end := size
		if tt.n >= 0 {
			end = min(tt.off+tt.n, size)
		}
		if want := whole[tt.off:end]; !bytes.Equal(got, want) {
			t.Errorf("FileRanges(%d, %d) hold %d bytes that differ from the object's %d", tt.off, tt.n, len(got), len(want))
		}
	}
}
