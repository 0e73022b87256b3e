package snapshot

import (
	"bytes"
	"testing"

	"github.com/strata-cdn/strata/internal/flv"
)

// hevcHeader is a legacy (CodecID 12) HEVC sequence header tag body
// carrying p's VPS, SPS and PPS in an HEVCDecoderConfigurationRecord
// (ISO/IEC 14496-15 §8.3.3.1) with 4-byte lengths.
func hevcHeader(p Params) []byte {
	rec := make([]byte, 23)
	rec[0] = 1
	rec[21] = 0xfc | 3 // lengthSizeMinusOne
	rec[22] = byte(len(p.Sets))
	for _, s := range p.Sets {
		rec = append(rec, s[0]>>1&0x3f, 0, 1, byte(len(s)>>8), byte(len(s)))
		rec = append(rec, s...)
	}
	return append([]byte{0x1c, 0, 0, 0, 0}, rec...)
}

// FuzzKeyframe feeds a sequence header tag body and a keyframe payload
// through ParseParams and Keyframe: no panic, and a frame that is made
// starts with every parameter set and holds a picture.
func FuzzKeyframe(f *testing.F) {
	f.Add([]byte{0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, 2, 0x67, 0x42, 1, 0, 2, 0x68, 0xce},
		[]byte{0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x65, 0x88, 0x84})
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		v, err := flv.ParseVideo(header)
		if err != nil || v.PacketType != flv.VideoSequenceHeader {
			return
		}
		p, err := ParseParams(v)
		if err != nil {
			return
		}
		fr, err := Keyframe(p, payload)
		if err != nil {
			return
		}
		if !bytes.HasPrefix(fr.Data, ab(p.Sets...)) {
			t.Fatalf("frame does not start with the parameter sets")
		}
		if max := len(ab(p.Sets...)) + 4*len(payload); len(fr.Data) > max {
			t.Fatalf("frame of %d bytes from a %d-byte payload", len(fr.Data), len(payload))
		}
		rest := fr.Data[len(ab(p.Sets...)):]
		pictures := 0
		for _, n := range bytes.Split(rest, []byte{0, 0, 0, 1}) {
			if len(n) > 0 && kind(p.Codec, n) == naluPicture {
				pictures++
			}
		}
		if pictures == 0 {
			t.Fatalf("frame without a picture: % x", rest)
		}
	})
}

// TestHEVCHeaderRoundTrip: the header the fuzz corpus uses parses back to
// the parameter sets it was made of.
func TestHEVCHeaderRoundTrip(t *testing.T) {
	p, _ := hevcKeyframe(t)
	v, err := flv.ParseVideo(hevcHeader(p))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseParams(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Codec != flv.VideoH265 || got.LengthSize != 4 || !bytes.Equal(bytes.Join(got.Sets, nil), bytes.Join(p.Sets, nil)) {
		t.Errorf("params = %v, %d, %d sets; want H.265, 4, the VPS, SPS and PPS", got.Codec, got.LengthSize, len(got.Sets))
	}
}
