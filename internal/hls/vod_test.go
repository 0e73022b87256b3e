package hls

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/google/go-cmp/cmp"
)

func TestMediaPlaylistMarshal(t *testing.T) {
	p := &MediaPlaylist{
		TargetDuration: 6 * time.Second, Type: "VOD", Ended: true, Independent: true,
		Key: &Key{Method: "AES-128", URI: "https://keys.example/k?id=1"},
		Segments: []MediaSegment{
			{URI: "segment-00000.ts", Duration: 6*time.Second + 23220*time.Microsecond},
			{URI: "segment-00001.ts", Duration: 7600 * time.Millisecond},
			{URI: "segment-00002.ts", Duration: 1500 * time.Microsecond},
		},
	}
	want := `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-TARGETDURATION:8
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-KEY:METHOD=AES-128,URI="https://keys.example/k?id=1"
#EXTINF:6.023220,
segment-00000.ts
#EXTINF:7.600000,
segment-00001.ts
#EXTINF:0.001500,
segment-00002.ts
#EXT-X-ENDLIST
`
	got := string(p.Marshal())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Marshal (-want +got):\n%s", diff)
	}
	back, err := ParseMediaPlaylist([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	p.TargetDuration = 8 * time.Second
	if diff := cmp.Diff(p, back); diff != "" {
		t.Errorf("parse(marshal) (-want +got):\n%s", diff)
	}
	if d := back.Duration(); d != 13*time.Second+624720*time.Microsecond {
		t.Errorf("Duration = %v", d)
	}
}

func TestParseMediaPlaylistErrors(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"not a playlist", "hello\n", "first line"},
		{"uri without extinf", "#EXTM3U\nseg.ts\n", "has no EXTINF"},
		{"negative extinf", "#EXTM3U\n#EXTINF:-1,\nseg.ts\n", "EXTINF"},
		{"bad sequence", "#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:x\n", "MEDIA-SEQUENCE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMediaPlaylist([]byte(tt.in))
			if !errors.Is(err, ErrPlaylist) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrPlaylist mentioning %q", err, tt.want)
			}
		})
	}
}

// The live muxer's playlists parse too.
func TestParseLivePlaylist(t *testing.T) {
	in := "#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-TARGETDURATION:2\r\n#EXT-X-MEDIA-SEQUENCE:7\r\n#EXT-X-DISCONTINUITY\r\n#EXTINF:2.000,\r\ncam/s-7.ts\r\n"
	p, err := ParseMediaPlaylist([]byte(in))
	if err != nil || p.MediaSequence != 7 || p.Ended || len(p.Segments) != 1 || p.Segments[0].URI != "cam/s-7.ts" {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestEncryptSegmentRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef")
	for _, n := range []int{0, 1, 15, 16, 17, 188 * 3} {
		data := bytes.Repeat([]byte{0x47}, n)
		enc, err := EncryptSegment(key, SequenceIV(uint64(n)), data)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc)%KeySize != 0 || len(enc) <= n {
			t.Errorf("%d bytes encrypt to %d: want whole blocks with padding", n, len(enc))
		}
		got, err := DecryptSegment(key, SequenceIV(uint64(n)), enc)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: round trip gives %d bytes, %v", n, len(got), err)
		}
		if _, err := DecryptSegment(key, SequenceIV(uint64(n)+1), enc); err == nil && n > 0 {
			if got, _ := DecryptSegment(key, SequenceIV(uint64(n)+1), enc); bytes.Equal(got, data) {
				t.Errorf("%d bytes: the wrong IV decrypts", n)
			}
		}
	}
	if _, err := EncryptSegment([]byte("short"), SequenceIV(0), nil); err == nil {
		t.Error("a 5-byte key was accepted")
	}
	if iv := SequenceIV(0x0102); !bytes.Equal(iv, append(make([]byte, 14), 1, 2)) {
		t.Errorf("SequenceIV(0x102) = %x (RFC 8216 §5.2: big-endian sequence number)", iv)
	}
}

func TestTSWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewTSWriter(&buf, &TSVideo{ParameterSets: [][]byte{{0x67, 0x42, 0, 0x1e}, {0x68, 0xce}}},
		&TSAudio{AAC: &mpeg4audio.AudioSpecificConfig{Type: mpeg4audio.ObjectTypeAACLC, SampleRate: 44100, ChannelConfig: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteAudio(126000, []byte{0x21, 0x10, 0x04}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteVideo(129600, 126000, [][]byte{{}, {0x65, 0x88, 0x84}}, true); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) == 0 || len(b)%188 != 0 || b[0] != 0x47 {
		t.Fatalf("%d bytes, first %#x: want whole TS packets", len(b), b[:1])
	}
	// The keyframe got the SPS in band.
	if !bytes.Contains(b, []byte{0, 0, 0, 1, 0x67, 0x42, 0, 0x1e}) {
		t.Error("no SPS before the keyframe")
	}
	if _, err := NewTSWriter(&buf, nil, nil); err == nil {
		t.Error("a segment without tracks was accepted")
	}
}

func TestPrependParameterSets(t *testing.T) {
	sps, pps, idr := []byte{0x67, 1}, []byte{0x68, 2}, []byte{0x65, 3}
	if got := prependParameterSets([][]byte{idr}, [][]byte{sps, pps}, false); len(got) != 3 || got[0][0] != 0x67 {
		t.Errorf("H.264 keyframe without SPS: %x", got)
	}
	if got := prependParameterSets([][]byte{sps, pps, idr}, [][]byte{sps, pps}, false); len(got) != 3 {
		t.Errorf("H.264 keyframe with SPS: %x", got)
	}
	hsps := []byte{33 << 1, 1}
	if got := prependParameterSets([][]byte{hsps, {19 << 1, 1}}, [][]byte{{32 << 1, 1}, hsps}, true); len(got) != 2 {
		t.Errorf("H.265 keyframe with SPS: %x", got)
	}
}
