package hls

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/flv"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func aacSeq(asc ...byte) flv.Tag {
	return flv.Tag{Type: flv.TagAudio, Body: append([]byte{0xaf, 0}, asc...)}
}

func aacFrame(ms uint32) flv.Tag {
	return flv.Tag{Type: flv.TagAudio, Timestamp: ms, Body: []byte{0xaf, 1, 0x21, 0x10, 0x04, 0x60, 0x8c, 0x1c}}
}

func avcSeq(sps byte) flv.Tag {
	rec := []byte{1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0, sps, 1, 0, 2, 0x68, 0xce}
	return flv.Tag{Type: flv.TagVideo, Body: append([]byte{0x17, 0, 0, 0, 0}, rec...)}
}

func avcFrame(ms uint32, key bool) flv.Tag {
	b := []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 3, 0x41, 0x9a, 0x02}
	if key {
		b = []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 3, 0x65, 0x88, 0x84}
	}
	return flv.Tag{Type: flv.TagVideo, Timestamp: ms, Body: b}
}

func write(t *testing.T, m *Muxer, now time.Time, tags ...flv.Tag) {
	t.Helper()
	for _, tag := range tags {
		if err := m.WriteTag(tag, now); err != nil {
			t.Fatalf("WriteTag(%d @%d): %v", tag.Type, tag.Timestamp, err)
		}
	}
}

var extinf = regexp.MustCompile(`#EXTINF:([0-9.]+),\n(\S+)`)

func TestVideoSegmentsCutOnKeyframes(t *testing.T) {
	m := New(Options{Stream: "live/cam", Session: "s1", HasVideo: true, TargetDuration: 2 * time.Second, PlaylistSize: 3})
	write(t, m, t0, avcSeq(0x1e), aacSeq(0x12, 0x10))
	// 25 fps, a keyframe every 1.5s: cuts fall on the keyframe at or
	// after each 2s target, so segments last 3s.
	for ms := uint32(0); ms < 9100; ms += 40 {
		write(t, m, t0, avcFrame(ms, ms%1500 == 0), aacFrame(ms))
	}
	pl, err := m.Playlist("cam")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range extinf.FindAllStringSubmatch(string(pl), -1) {
		got = append(got, x[1]+" "+x[2])
	}
	want := []string{"3.000 cam/s1-0.ts", "3.000 cam/s1-1.ts", "3.000 cam/s1-2.ts"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("playlist segments (-want +got):\n%s\n%s", diff, pl)
	}
	if !strings.Contains(string(pl), "#EXT-X-TARGETDURATION:3\n") {
		t.Errorf("playlist target duration: want 3 (the longest segment, rounded):\n%s", pl)
	}
	seg, ok := m.Segment("s1-0.ts")
	if !ok || len(seg.Data)%188 != 0 || seg.Data[0] != 0x47 {
		t.Fatalf("segment s1-0.ts: ok %v, %d bytes; want whole TS packets", ok, len(seg.Data))
	}
}

func TestAudioOnlySegmentsCutByTime(t *testing.T) {
	m := New(Options{Stream: "live/radio", Session: "a", TargetDuration: time.Second, PlaylistSize: 5})
	write(t, m, t0, aacSeq(0x12, 0x10))
	for ms := uint32(0); ms <= 3100; ms += 23 {
		write(t, m, t0, aacFrame(ms))
	}
	if got := m.Segments(); got != 3 {
		t.Errorf("segments after 3.1s of audio with a 1s target = %d, want 3", got)
	}
}

// A segment stays fetchable for twice the playlist window after it leaves
// the playlist, and not much longer (case C30).
func TestSegmentRetention_C30(t *testing.T) {
	m := New(Options{Stream: "live/radio", Session: "r", TargetDuration: time.Second, PlaylistSize: 3})
	if got, want := m.Retention(), 6*time.Second; got != want {
		t.Fatalf("Retention() = %v, want %v (2 x 3 segments x 1s)", got, want)
	}
	write(t, m, t0, aacSeq(0x12, 0x10))
	now := t0
	ms := uint32(0)
	// One segment per second of media, written in real time.
	step := func() {
		for end := ms + 1000; ms < end; ms += 20 {
			write(t, m, now, aacFrame(ms))
		}
		now = now.Add(time.Second)
	}
	for range 4 {
		step()
	}
	// r-0.ts completed at the 2nd step, left the playlist when r-3.ts
	// completed (the 5th step).
	step()
	pl, _ := m.Playlist("radio")
	if strings.Contains(string(pl), "r-0.ts") {
		t.Fatalf("r-0.ts still listed after 4 newer segments with playlist_size 3:\n%s", pl)
	}
	left := now.Add(-time.Second)
	seg, ok := m.Segment("r-0.ts")
	if !ok || !seg.LeftPlaylist.Equal(left) {
		t.Fatalf("r-0.ts: ok %v, left %v; want retained, left at %v", ok, seg, left)
	}
	m.Prune(left.Add(m.Retention()))
	if _, ok := m.Segment("r-0.ts"); !ok {
		t.Errorf("r-0.ts gone %v after leaving the playlist; want kept for %v", m.Retention(), m.Retention())
	}
	m.Prune(left.Add(m.Retention() + time.Millisecond))
	if _, ok := m.Segment("r-0.ts"); ok {
		t.Errorf("r-0.ts still kept past its retention")
	}
}

func TestDiscontinuityOnCodecChange(t *testing.T) {
	m := New(Options{Stream: "live/cam", Session: "d", HasVideo: true, TargetDuration: time.Second, PlaylistSize: 10})
	write(t, m, t0, avcSeq(0x1e))
	for ms := uint32(0); ms < 2000; ms += 40 {
		write(t, m, t0, avcFrame(ms, ms%1000 == 0))
	}
	// New SPS: the encoder restarted at another resolution.
	write(t, m, t0, avcSeq(0x28))
	for ms := uint32(2000); ms < 4100; ms += 40 {
		write(t, m, t0, avcFrame(ms, ms%1000 == 0))
	}
	pl, err := m.Playlist("cam")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(pl), "\n")
	var got []string
	for _, l := range lines {
		if strings.HasPrefix(l, "#EXT-X-DISCONTINUITY") || strings.HasSuffix(l, ".ts") {
			got = append(got, l)
		}
	}
	want := []string{"cam/d-0.ts", "cam/d-1.ts", "#EXT-X-DISCONTINUITY", "cam/d-2.ts", "cam/d-3.ts"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("playlist (-want +got):\n%s\n%s", diff, pl)
	}
}

// HLS cannot carry G.711: the muxer refuses with a reason that names the
// stream, the codec and what to do (case C29).
func TestG711Refused_C29(t *testing.T) {
	cases := []struct {
		body []byte
		want string
	}{
		{[]byte{0x72, 0xd5, 0xd5}, "stream live/cam has G.711 A-law audio, which HLS cannot carry; play it over HTTP-FLV or publish AAC"},
		{[]byte{0x82, 0xff}, "stream live/cam has G.711 µ-law audio, which HLS cannot carry; play it over HTTP-FLV or publish AAC"},
	}
	for _, tc := range cases {
		m := New(Options{Stream: "live/cam", Session: "g", HasVideo: true})
		write(t, m, t0, avcSeq(0x1e), avcFrame(0, true))
		err := m.WriteTag(flv.Tag{Type: flv.TagAudio, Timestamp: 10, Body: tc.body}, t0)
		if !errors.Is(err, ErrUnsupportedCodec) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WriteTag(G.711) = %v; want ErrUnsupportedCodec saying %q", err, tc.want)
		}
		if _, err := m.Playlist("cam"); !errors.Is(err, ErrUnsupportedCodec) {
			t.Errorf("Playlist after G.711 = %v; want ErrUnsupportedCodec", err)
		}
	}
}

func TestEndedPlaylist(t *testing.T) {
	m := New(Options{Stream: "live/radio", Session: "e", TargetDuration: time.Second})
	if _, err := m.Playlist("radio"); !errors.Is(err, ErrNoSegment) {
		t.Errorf("Playlist before any segment = %v, want ErrNoSegment", err)
	}
	write(t, m, t0, aacSeq(0x12, 0x10))
	for ms := uint32(0); ms < 500; ms += 20 {
		write(t, m, t0, aacFrame(ms))
	}
	m.End(t0)
	pl, err := m.Playlist("radio")
	if err != nil || !strings.HasSuffix(string(pl), "e-0.ts\n#EXT-X-ENDLIST\n") {
		t.Errorf("ended playlist = %q (%v); want the last segment and EXT-X-ENDLIST", pl, err)
	}
}

// A segment's max-age is its full retention while listed and what is left
// of it after it leaves the playlist or the session ends, so no cache
// keeps it longer than the muxer does (case C30).
func TestSegmentMaxAge_C30(t *testing.T) {
	m := New(Options{Stream: "live/radio", Session: "r", TargetDuration: time.Second, PlaylistSize: 3})
	write(t, m, t0, aacSeq(0x12, 0x10))
	// Segment k completes at t0 + (k+1)s; r-0 leaves the playlist when
	// r-3 completes, at t0+4s.
	now := t0
	for ms := uint32(0); ms <= 6000; ms += 20 {
		if ms%1000 == 0 {
			now = t0.Add(time.Duration(ms) * time.Millisecond)
		}
		write(t, m, now, aacFrame(ms))
	}
	left := t0.Add(4 * time.Second)
	seg0, _ := m.Segment("r-0.ts")
	seg5, ok := m.Segment("r-5.ts")
	if seg0 == nil || !ok {
		t.Fatalf("r-0.ts %v, r-5.ts %v; want both retained", seg0, ok)
	}
	cases := []struct {
		name string
		seg  *Segment
		at   time.Time
		want time.Duration
	}{
		{"listed", seg5, now, 6 * time.Second},
		{"just left", seg0, left, 6 * time.Second},
		{"near the end of retention", seg0, left.Add(4500 * time.Millisecond), 1500 * time.Millisecond},
		{"at the end of retention", seg0, left.Add(6 * time.Second), 0},
		{"past retention", seg0, left.Add(7 * time.Second), 0},
	}
	for _, tc := range cases {
		if got := m.MaxAge(tc.seg, tc.at); got != tc.want {
			t.Errorf("%s: MaxAge = %v, want %v", tc.name, got, tc.want)
		}
	}
	// After the end, listed segments count down from the end too, and go
	// when their retention is over.
	end := now.Add(time.Second)
	m.End(end)
	if got, want := m.MaxAge(seg5, end.Add(2*time.Second)), 4*time.Second; got != want {
		t.Errorf("listed segment 2s after the end: MaxAge = %v, want %v", got, want)
	}
	m.Prune(end.Add(m.Retention()))
	if _, ok := m.Segment("r-5.ts"); !ok {
		t.Errorf("r-5.ts gone at the end of its retention after the session ended")
	}
	m.Prune(end.Add(m.Retention() + time.Millisecond))
	if n := m.Segments(); n != 0 {
		t.Errorf("%d segments retained past the retention after the end; want 0", n)
	}
}
