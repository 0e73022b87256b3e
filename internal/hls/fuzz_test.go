package hls

import (
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/flv"
)

// FuzzMuxer feeds arbitrary tags: the muxer must never panic, and every
// segment it completes must be whole TS packets.
func FuzzMuxer(f *testing.F) {
	seed := func(tags ...flv.Tag) []byte {
		var b []byte
		for _, t := range tags {
			b = append(b, t.Type&1, byte(t.Timestamp>>8), byte(t.Timestamp), byte(len(t.Body)))
			b = append(b, t.Body...)
		}
		return b
	}
	f.Add(seed(avcSeq(0x1e), avcFrame(0, true), avcFrame(2500, true), avcFrame(5000, true)))
	f.Add(seed(aacSeq(0x12, 0x10), aacFrame(0), aacFrame(1500), aacFrame(3000)))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := New(Options{Stream: "f/z", Session: "z", HasVideo: len(b) > 0 && b[0]&2 != 0, TargetDuration: time.Second, PlaylistSize: 2})
		for len(b) >= 4 {
			typ := flv.TagAudio
			if b[0]&1 == 1 {
				typ = flv.TagVideo
			}
			ts := uint32(b[1])<<8 | uint32(b[2])
			n := min(int(b[3]), len(b)-4)
			_ = m.WriteTag(flv.Tag{Type: typ, Timestamp: ts * 10, Body: b[4 : 4+n]}, t0)
			b = b[4+n:]
		}
		m.End(t0)
		for _, s := range m.segments {
			if len(s.Data)%188 != 0 {
				t.Fatalf("segment %s is %d bytes, not whole TS packets", s.Name, len(s.Data))
			}
		}
		_, _ = m.Playlist("z")
	})
}

// FuzzParseMediaPlaylist: parsing never panics, and what parses survives a
// round trip through Marshal with the same segments.
func FuzzParseMediaPlaylist(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseMediaPlaylist(b)
		if err != nil {
			return
		}
		back, err := ParseMediaPlaylist(p.Marshal())
		if err != nil {
			t.Fatalf("marshalled playlist does not parse: %v\n%s", err, p.Marshal())
		}
		if len(back.Segments) != len(p.Segments) || back.Duration() != p.Duration() || back.Ended != p.Ended {
			t.Fatalf("round trip: %+v, want %+v", back, p)
		}
	})
}
