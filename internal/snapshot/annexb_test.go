package snapshot

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/flv"
)

// lp prefixes each NAL unit with its length in size bytes.
func lp(size int, nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		l := len(n)
		for i := size - 1; i >= 0; i-- {
			out = append(out, byte(l>>(8*i)))
		}
		out = append(out, n...)
	}
	return out
}

// ab joins NAL units as an Annex-B byte stream.
func ab(nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(append(out, 0, 0, 0, 1), n...)
	}
	return out
}

func TestKeyframeAnnexB_C35(t *testing.T) {
	var (
		sps  = []byte{0x67, 0x42, 0xc0, 0x0d}
		pps  = []byte{0x68, 0xce, 0x3c, 0x80}
		aud  = []byte{0x09, 0xf0}
		sei  = []byte{0x06, 0x05, 0x01, 0x80}
		idr  = []byte{0x65, 0x88, 0x84, 0x00}
		idr2 = []byte{0x65, 0x00, 0x11}
		sps2 = []byte{0x67, 0x64, 0x00, 0x1f}
		// H.265: the type is bits 1-6 of the first header byte.
		vps  = []byte{0x40, 0x01, 0x0c}
		hsps = []byte{0x42, 0x01, 0x01}
		hpps = []byte{0x44, 0x01, 0xc1}
		haud = []byte{0x46, 0x01, 0x50}
		irap = []byte{0x26, 0x01, 0xaf} // IDR_W_RADL (19)
	)
	avc := Params{Codec: flv.VideoH264, LengthSize: 4, Sets: [][]byte{sps, pps}}
	hevc := Params{Codec: flv.VideoH265, LengthSize: 4, Sets: [][]byte{vps, hsps, hpps}}
	tests := []struct {
		name    string
		p       Params
		payload []byte
		want    []byte
		err     error
	}{
		{"h264 sets first, AUD dropped, SEI kept", avc, lp(4, aud, sei, idr), ab(sps, pps, sei, idr), nil},
		{"h264 two slices", avc, lp(4, idr, idr2), ab(sps, pps, idr, idr2), nil},
		{"h264 in-band SPS kept after the header's", avc, lp(4, sps2, idr), ab(sps, pps, sps2, idr), nil},
		{"h264 2-byte lengths", Params{Codec: flv.VideoH264, LengthSize: 2, Sets: avc.Sets}, lp(2, idr), ab(sps, pps, idr), nil},
		{"h265 VPS SPS PPS first", hevc, lp(4, haud, irap), ab(vps, hsps, hpps, irap), nil},
		{"h264 no picture", avc, lp(4, aud, sei), nil, ErrNoPicture},
		{"h264 empty", avc, nil, nil, ErrNoPicture},
		{"av1", Params{Codec: flv.VideoAV1, LengthSize: 4}, lp(4, idr), nil, ErrCodec},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Keyframe(tt.p, tt.payload)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, f.Data); diff != "" {
				t.Errorf("Annex-B (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Keyframe(avc, []byte{0, 0, 0, 9, 0x65}); err == nil {
		t.Error("a NAL unit overrunning the payload was accepted")
	}
}

// tagsOf reads an FLV file of testdata.
func tagsOf(t testing.TB, name string) []flv.Tag {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := flv.ReadTags(b)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// firstKeyframe returns the sequence header's Params and the first
// keyframe's payload of real ffmpeg output.
func firstKeyframe(t testing.TB) (Params, []byte) {
	t.Helper()
	var p *Params
	for _, tg := range tagsOf(t, "h264.flv") {
		if tg.Type != flv.TagVideo {
			continue
		}
		v, err := flv.ParseVideo(tg.Body)
		if err != nil {
			t.Fatal(err)
		}
		if v.PacketType == flv.VideoSequenceHeader {
			pp, err := ParseParams(v)
			if err != nil {
				t.Fatal(err)
			}
			p = &pp
		}
		if v.PacketType == flv.VideoNALU && v.KeyFrame && p != nil {
			return *p, v.Payload
		}
	}
	t.Fatal("testdata/h264.flv has no sequence header and keyframe")
	return Params{}, nil
}

// TestKeyframeOfRealStream assembles the first keyframe of ffmpeg's FLV
// output: the SPS and PPS of the sequence header, then the frame's units.
func TestKeyframeOfRealStream_C35(t *testing.T) {
	p, payload := firstKeyframe(t)
	if p.Codec != flv.VideoH264 || p.LengthSize != 4 || len(p.Sets) != 2 || p.Sets[0][0]&0x1f != 7 || p.Sets[1][0]&0x1f != 8 {
		t.Fatalf("params = codec %v, length size %d, %d sets; want H.264, 4, SPS and PPS", p.Codec, p.LengthSize, len(p.Sets))
	}
	f, err := Keyframe(p, payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(f.Data, ab(p.Sets...)) || f.Format() != "h264" {
		t.Errorf("frame (%s) does not start with the SPS and PPS", f.Format())
	}
	if !bytes.Contains(f.Data, []byte{0, 0, 0, 1, 0x65}) {
		t.Error("frame has no IDR slice after a start code")
	}
}

func TestParseParamsErrors(t *testing.T) {
	tests := []struct {
		name string
		v    flv.Video
	}{
		{"short avc record", flv.Video{Codec: flv.VideoH264, Payload: []byte{1, 2}}},
		{"avc without PPS", flv.Video{Codec: flv.VideoH264, Payload: []byte{1, 0x42, 0, 0x0d, 0xff, 0xe1, 0, 1, 0x67, 0}}},
		{"short hevc record", flv.Video{Codec: flv.VideoH265, Payload: []byte{1}}},
		{"vp6", flv.Video{Codec: flv.VideoVP6}},
	}
	for _, tt := range tests {
		if p, err := ParseParams(tt.v); err == nil {
			t.Errorf("%s: ParseParams = %+v, want an error", tt.name, p)
		}
	}
}
