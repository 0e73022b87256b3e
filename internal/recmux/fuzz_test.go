package recmux

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/strata-cdn/strata/internal/flv"
)

// fuzzTags decodes a fuzz input as tags: type, 24-bit timestamp, 16-bit
// length, body; repeated.
func fuzzTags(b []byte) []flv.Tag {
	var tags []flv.Tag
	for len(b) >= 6 {
		typ := flv.TagAudio
		if b[0]&1 == 1 {
			typ = flv.TagVideo
		}
		ts := uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		n := int(binary.BigEndian.Uint16(b[4:6]))
		b = b[6:]
		n = min(n, len(b))
		tags = append(tags, flv.Tag{Type: typ, Timestamp: ts, Body: b[:n]})
		b = b[n:]
	}
	return tags
}

// encodeTags is fuzzTags' inverse, for seeds.
func encodeTags(tags []flv.Tag) []byte {
	var b []byte
	for _, t := range tags {
		typ := byte(0)
		if t.Type == flv.TagVideo {
			typ = 1
		}
		n := min(len(t.Body), 0xffff)
		b = append(b, typ, byte(t.Timestamp>>16), byte(t.Timestamp>>8), byte(t.Timestamp), byte(n>>8), byte(n))
		b = append(b, t.Body[:n]...)
	}
	return b
}

// FuzzMuxer feeds arbitrary tags to a Muxer: it must not panic, and every
// file it makes must be an MP4 that mediacommon's reader accepts.
func FuzzMuxer(f *testing.F) {
	tags := readTags(f, "av-1ch.flv")
	f.Add(encodeTags(tags[:min(len(tags), 5)]))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &collector{}
		m := New(c, Options{MaxDuration: 500 * 1e6, FragmentDuration: 100 * 1e6, MaxFragmentBytes: 4096})
		for _, tg := range fuzzTags(b) {
			if err := m.WriteTag(tg); err != nil {
				t.Fatalf("WriteTag: %v", err)
			}
		}
		if err := m.Close("end"); err != nil {
			t.Fatalf("Close: %v", err)
		}
		for _, fl := range c.files {
			if len(fl.frags) == 0 {
				continue
			}
			h, err := Header(fl.sum.Tracks, fl.frags)
			if err != nil {
				t.Fatalf("Header: %v", err)
			}
			var init fmp4.Init
			if err := init.Unmarshal(bytes.NewReader(h)); err != nil {
				t.Fatalf("init does not parse: %v", err)
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(fl.data.Bytes()); err != nil {
				t.Fatalf("fragments do not parse: %v", err)
			}
		}
	})
}
