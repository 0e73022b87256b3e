package vod

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// discard is a Sink that drops what it is given.
type discard struct{ n int }

func (d *discard) Put(_ context.Context, _ string, data []byte, _ string) error {
	d.n += len(data)
	return nil
}

// FuzzReadMovie feeds arbitrary bytes as an MP4 file: reading the index,
// analysing it and packaging it must never panic, and a packaged result
// must cover the input (the packager's own check).
func FuzzReadMovie(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x00\x00\x08moov"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &Packager{Target: 2 * time.Second, MaxSamples: 1 << 16}
		_, err := p.Package(context.Background(), bytesSource{bytes.NewReader(b)}, &discard{}, &Encryption{Key: make([]byte, 16), KeyURI: "k"})
		if err != nil {
			return
		}
		rep, err := p.Analyze(context.Background(), bytesSource{bytes.NewReader(b)})
		if err != nil || rep.Segmenting == nil {
			t.Fatalf("packaged, but analysis gives %+v, %v", rep, err)
		}
	})
}
