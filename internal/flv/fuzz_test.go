package flv

import (
	"bytes"
	"testing"
)

func FuzzParseTags(f *testing.F) {
	f.Add([]byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 3, 0x67, 0x64, 0x1f, 1, 0, 2, 0x68, 0xef})
	f.Add([]byte{0xaf, 0, 0x12, 0x10})
	f.Add([]byte{0x93, 'h', 'v', 'c', '1', 0, 0, 0, 1, 0x26})
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := ParseVideo(b); err == nil && v.PacketType == VideoSequenceHeader {
			if c, err := ParseAVCConfig(v.Payload); err == nil && len(c.SPS) == 0 {
				t.Fatal("AVC config without SPS accepted")
			}
			_, _ = ParseHEVCConfig(v.Payload)
		} else if err == nil {
			_, _ = SplitNALUs(v.Payload, 4)
		}
		_, _ = ParseAudio(b)
		_, _ = ParseScript(b)
	})
}

func FuzzReader(f *testing.F) {
	f.Add(AppendTag(Header(true, false), Tag{Type: TagAudio, Timestamp: 5, Body: []byte{0xaf, 1, 2}}))
	f.Add([]byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := &Reader{R: bytes.NewReader(b)}
		for range 64 {
			tag, err := r.Tag()
			if err != nil {
				return
			}
			if len(tag.Body) > MaxTagSize {
				t.Fatalf("tag of %d bytes", len(tag.Body))
			}
		}
	})
}
