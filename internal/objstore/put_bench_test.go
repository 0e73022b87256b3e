package objstore

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkPutObject measures durable PUTs from 8 writers per CPU at once
// (so that their catalog commits group), with the data kept in the catalog
// (inline) or in data files, as bench/s3.sh's PUT rows do through the
// API:
//
//	go test -run '^$' -bench PutObject -benchtime 2000x ./internal/objstore/
func BenchmarkPutObject(b *testing.B) {
	for _, tc := range []struct {
		name      string
		size      int
		inlineMax int64
	}{
		{"4KiB/inline", 4 << 10, 0},
		{"4KiB/file", 4 << 10, -1},
		{"1MiB/file", 1 << 20, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, _ := newTestStore(b, Options{InlineMax: tc.inlineMax})
			mustBucket(b, s, "bench")
			data := bytes.Repeat([]byte("x"), tc.size)
			var n atomic.Int64
			b.SetBytes(int64(tc.size))
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					key := fmt.Sprintf("k%d", n.Add(1))
					if _, err := s.PutObject(context.Background(), "bench", key, bytes.NewReader(data), PutOptions{Size: int64(len(data))}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
