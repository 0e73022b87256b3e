package flv

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Case C32: the header's TypeFlags declare exactly the tracks given.
func TestHeaderFlags_C32(t *testing.T) {
	cases := []struct {
		audio, video bool
		flags        byte
	}{{true, true, 0x05}, {true, false, 0x04}, {false, true, 0x01}}
	for _, tc := range cases {
		h := Header(tc.audio, tc.video)
		if len(h) != HeaderSize || string(h[:3]) != "FLV" || h[4] != tc.flags {
			t.Errorf("Header(%v, %v) = % x; want 13 bytes with flags %#x", tc.audio, tc.video, h, tc.flags)
		}
		got, err := ParseHeader(h)
		if err != nil || got.HasAudio != tc.audio || got.HasVideo != tc.video {
			t.Errorf("ParseHeader(Header(%v, %v)) = %+v, %v", tc.audio, tc.video, got, err)
		}
	}
}

func TestTagRoundTrip(t *testing.T) {
	tags := []Tag{
		{Type: TagScript, Timestamp: 0, Body: []byte{2, 0, 1, 'x'}},
		{Type: TagVideo, Timestamp: 40, Body: []byte{0x17, 1, 0, 0, 0}},
		{Type: TagAudio, Timestamp: 0x01234567, Body: []byte{0xaf, 1, 9}},
	}
	buf := Header(true, true)
	for _, tg := range tags {
		buf = AppendTag(buf, tg)
	}
	r := &Reader{R: bytes.NewReader(buf)}
	var got []Tag
	for {
		tg, err := r.Tag()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tg)
	}
	if diff := cmp.Diff(tags, got); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
}

func TestParseAudio(t *testing.T) {
	cases := []struct {
		body []byte
		want Audio
	}{
		{[]byte{0xaf, 0, 0x12, 0x10}, Audio{Format: SoundAAC, Rate: 3, Bits16: true, Stereo: true, AACPacketType: AACSequenceHeader, Payload: []byte{0x12, 0x10}}},
		{[]byte{0x72, 0xd5}, Audio{Format: SoundG711ALaw, Bits16: true, Payload: []byte{0xd5}}},
		{[]byte{0x2f, 0xff, 0xfb}, Audio{Format: SoundMP3, Rate: 3, Bits16: true, Stereo: true, Payload: []byte{0xff, 0xfb}}},
	}
	for _, tc := range cases {
		got, err := ParseAudio(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseAudio(% x) (-want +got):\n%s", tc.body, diff)
		}
	}
	if _, err := ParseAudio([]byte{0xaf}); !errors.Is(err, ErrShortTag) {
		t.Errorf("ParseAudio(short AAC) = %v, want ErrShortTag", err)
	}
}

func TestParseVideo(t *testing.T) {
	cases := []struct {
		body []byte
		want Video
	}{
		{[]byte{0x17, 0, 0, 0, 0, 1}, Video{KeyFrame: true, Codec: VideoH264, PacketType: VideoSequenceHeader, Payload: []byte{1}}},
		{[]byte{0x27, 1, 0xff, 0xff, 0xd8, 9}, Video{Codec: VideoH264, PacketType: VideoNALU, CompositionTime: -40, Payload: []byte{9}}},
		{[]byte{0x1c, 1, 0, 0, 40, 9}, Video{KeyFrame: true, Codec: VideoH265, PacketType: VideoNALU, CompositionTime: 40, Payload: []byte{9}}},
		// Enhanced RTMP: IsExHeader | key frame, CodedFramesX, "hvc1".
		{[]byte{0x93, 'h', 'v', 'c', '1', 9}, Video{KeyFrame: true, Codec: VideoH265, Enhanced: true, PacketType: VideoNALU, Payload: []byte{9}}},
		{[]byte{0x90, 'h', 'v', 'c', '1', 1}, Video{KeyFrame: true, Codec: VideoH265, Enhanced: true, PacketType: VideoSequenceHeader, Payload: []byte{1}}},
	}
	for _, tc := range cases {
		got, err := ParseVideo(tc.body)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseVideo(% x) (-want +got):\n%s", tc.body, diff)
		}
	}
}

func TestParseAVCConfig(t *testing.T) {
	rec := []byte{1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 3, 0x67, 0x64, 0x1f, 1, 0, 2, 0x68, 0xef}
	got, err := ParseAVCConfig(rec)
	want := AVCConfig{LengthSize: 4, SPS: [][]byte{{0x67, 0x64, 0x1f}}, PPS: [][]byte{{0x68, 0xef}}}
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("ParseAVCConfig = %+v, %v; want %+v", got, err, want)
	}
	if _, err := ParseAVCConfig(rec[:9]); err == nil {
		t.Error("ParseAVCConfig(truncated) succeeded")
	}
}

func TestSplitNALUs(t *testing.T) {
	got, err := SplitNALUs([]byte{0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x06}, 4)
	if err != nil || !cmp.Equal([][]byte{{0x65, 1}, {0x06}}, got) {
		t.Errorf("SplitNALUs = %x, %v", got, err)
	}
	if _, err := SplitNALUs([]byte{0, 0, 0, 9, 1}, 4); err == nil {
		t.Error("SplitNALUs(overrun) succeeded")
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	b, err := Metadata([]Field{{"hasAudio", false}, {"hasVideo", true}, {"width", 320.0}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript(b)
	want := Script{Name: "onMetaData", Fields: map[string]any{"hasAudio": false, "hasVideo": true, "width": 320.0}}
	if err != nil || !cmp.Equal(want, s) {
		t.Errorf("ParseScript(Metadata(...)) = %+v, %v; want %+v", s, err, want)
	}
}
