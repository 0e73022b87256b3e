package live

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/strata-cdn/strata/internal/flv"
)

func avcSeq() flv.Tag {
	return flv.Tag{Type: flv.TagVideo, Body: []byte{0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0, 0x1e, 1, 0, 2, 0x68, 0xce}}
}

func frame(ms uint32, key bool) flv.Tag {
	if key {
		return flv.Tag{Type: flv.TagVideo, Timestamp: ms, Body: []byte{0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65}}
	}
	return flv.Tag{Type: flv.TagVideo, Timestamp: ms, Body: []byte{0x27, 1, 0, 0, 0, 0, 0, 0, 1, 0x41}}
}

func aac(ms uint32) flv.Tag {
	return flv.Tag{Type: flv.TagAudio, Timestamp: ms, Body: []byte{0xaf, 1, 0x21}}
}

func metadata(t *testing.T, fields ...flv.Field) flv.Tag {
	t.Helper()
	b, err := flv.Metadata(fields)
	if err != nil {
		t.Fatal(err)
	}
	return flv.Tag{Type: flv.TagScript, Body: b}
}

func TestSecondPublisherRefused(t *testing.T) {
	h := &Hub{}
	k := Key{"live", "cam"}
	s, err := h.Publish(k, "10.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Publish(k, "10.0.0.2:6000")
	if !errors.Is(err, ErrStreamBusy) || !strings.Contains(err.Error(), "stream live/cam is already being published by 10.0.0.1:5000") {
		t.Errorf("second Publish = %v; want ErrStreamBusy naming the first publisher", err)
	}
	s.Close()
	if _, err := h.Publish(k, "10.0.0.2:6000"); err != nil {
		t.Errorf("Publish after the first left = %v, want nil", err)
	}
}

// Tracks come from onMetaData at once (case C31: no waiting for a track
// that will never come).
func TestTracksFromMetadata_C31(t *testing.T) {
	h := &Hub{}
	s, _ := h.Publish(Key{"live", "radio"}, "x")
	if err := s.WriteTag(metadata(t, flv.Field{Name: "audiocodecid", Value: 10.0})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	tr, err := s.WaitTracks(ctx)
	if err != nil || tr != (Tracks{Audio: true}) {
		t.Fatalf("WaitTracks = %+v, %v; want audio only, at once", tr, err)
	}
	_, err = s.Subscribe(ReaderOptions{Video: true})
	if !errors.Is(err, ErrNoTrack) || !strings.Contains(err.Error(), "stream live/radio has no video track (it is audio-only)") {
		t.Errorf("Subscribe(video) = %v; want ErrNoTrack saying so", err)
	}
}

// Without onMetaData the track set is final after the probe's media time.
func TestTracksProbed(t *testing.T) {
	h := &Hub{TrackProbe: time.Second}
	s, _ := h.Publish(Key{"live", "v"}, "x")
	s.WriteTag(avcSeq())
	s.WriteTag(frame(0, true))
	select {
	case <-s.known:
		t.Fatal("tracks final after 0ms of media")
	default:
	}
	s.WriteTag(frame(1000, false))
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if tr, err := s.WaitTracks(ctx); err != nil || tr != (Tracks{Video: true}) {
		t.Errorf("WaitTracks = %+v, %v; want video only", tr, err)
	}
}

// A new reader starts with the sequence header and the GOP from the
// latest keyframe.
func TestGOPCache(t *testing.T) {
	h := &Hub{}
	s, _ := h.Publish(Key{"live", "g"}, "x")
	s.WriteTag(metadata(t, flv.Field{Name: "videocodecid", Value: 7.0}, flv.Field{Name: "audiocodecid", Value: 10.0}))
	s.WriteTag(flv.Tag{Type: flv.TagAudio, Body: []byte{0xaf, 0, 0x12, 0x10}})
	s.WriteTag(avcSeq())
	for ms := uint32(0); ms < 200; ms += 40 {
		s.WriteTag(frame(ms, ms == 0 || ms == 120))
		s.WriteTag(aac(ms))
	}
	r, err := s.Subscribe(ReaderOptions{Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []uint32
	for r.Pending() > 0 {
		tag, _ := r.Read(context.Background())
		got = append(got, uint32(tag.Type)<<16|tag.Timestamp)
	}
	v, a := uint32(flv.TagVideo)<<16, uint32(flv.TagAudio)<<16
	want := []uint32{v, a, v | 120, a | 120, v | 160, a | 160}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reader's first tags (type<<16|ms) (-want +got):\n%s", diff)
	}
}

// A reader that falls behind is dropped, not waited for.
func TestSlowReaderDropped(t *testing.T) {
	h := &Hub{ReaderQueue: 4}
	s, _ := h.Publish(Key{"live", "slow"}, "x")
	s.WriteTag(metadata(t, flv.Field{Name: "audiocodecid", Value: 10.0}))
	r, err := s.Subscribe(ReaderOptions{Audio: true, Protocol: "flv"})
	if err != nil {
		t.Fatal(err)
	}
	for ms := uint32(0); ms < 100; ms += 10 {
		s.WriteTag(aac(ms))
	}
	if n := s.Status().Viewers["flv"]; n != 0 {
		t.Errorf("viewers after the drop = %d, want 0", n)
	}
	var err2 error
	for range 10 {
		if _, err2 = r.Read(context.Background()); err2 != nil {
			break
		}
	}
	if !errors.Is(err2, ErrReaderTooSlow) {
		t.Errorf("slow reader's Read = %v, want ErrReaderTooSlow", err2)
	}
}

func TestStatusWarnsAboutTimestamps(t *testing.T) {
	h := &Hub{}
	s, _ := h.Publish(Key{"live", "ts"}, "x")
	s.WriteTag(aac(1000))
	s.WriteTag(aac(500))
	st := s.Status()
	if len(st.Warnings) == 0 || !strings.Contains(strings.Join(st.Warnings, "|"), "audio timestamps went backwards: 500 ms after 1000 ms") {
		t.Errorf("warnings = %q; want timestamps going backwards", st.Warnings)
	}
}

func TestPolicy(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := Policy{Apps: []App{{Name: "live", PublishKey: "k", SignSecret: "s"}}}
	remote := &net.TCPAddr{IP: net.ParseIP("203.0.113.9"), Port: 1}
	signed := func(exp int64) url.Values {
		return url.Values{"expires": {itoa(exp)}, "sign": {Sign("s", "live", "cam", time.Unix(exp, 0))}}
	}
	cases := []struct {
		name   string
		p      Policy
		app    string
		q      url.Values
		remote net.Addr
		want   string // "" = allowed
	}{
		{"key", p, "live", url.Values{"key": {"k"}}, remote, ""},
		{"wrong key", p, "live", url.Values{"key": {"x"}}, remote, "wrong key"},
		{"no key", p, "live", nil, remote, "needs ?key="},
		{"unknown app", p, "other", url.Values{"key": {"k"}}, remote, `app "other" is not configured`},
		{"signed", p, "live", signed(now.Unix() + 60), remote, ""},
		{"expired", p, "live", signed(now.Unix() - 1), remote, "expired"},
		{"bad signature", p, "live", url.Values{"expires": {itoa(now.Unix() + 60)}, "sign": {"00"}}, remote, "bad signature"},
		{"no apps, loopback", Policy{}, "any", nil, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, ""},
		{"no apps, remote", Policy{}, "any", nil, remote, "only this machine may publish"},
	}
	for _, tc := range cases {
		err := tc.p.Authorize(Key{tc.app, "cam"}, tc.q, tc.remote, now)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Authorize = %v, want allowed", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Authorize = %v, want ErrUnauthorized saying %q", tc.name, err, tc.want)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Case C34: a reader with AnyTracks subscribes at publish, before any
// tag, and receives a video track that starts after the track probe has
// declared the stream audio-only; a plain reader is refused video.
func TestAnyTracksKeepsLateVideo_C34(t *testing.T) {
	h := &Hub{TrackProbe: 500 * time.Millisecond}
	s, err := h.Publish(Key{"live", "late"}, "10.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := s.Subscribe(ReaderOptions{Audio: true, Video: true, AnyTracks: true})
	if err != nil {
		t.Fatalf("Subscribe with AnyTracks before any tag = %v", err)
	}
	defer rd.Close()
	for ms := uint32(0); ms <= 2000; ms += 100 {
		s.WriteTag(aac(ms))
	}
	if _, err := s.Subscribe(ReaderOptions{Video: true}); !errors.Is(err, ErrNoTrack) {
		t.Errorf("plain video reader of an audio-only stream = %v, want ErrNoTrack", err)
	}
	s.WriteTag(avcSeq())
	s.WriteTag(frame(2000, true))
	s.Close()
	var got []uint8
	for {
		tg, err := rd.Read(context.Background())
		if err != nil {
			if !errors.Is(err, ErrStreamEnded) {
				t.Fatalf("Read = %v, want ErrStreamEnded at the end", err)
			}
			break
		}
		got = append(got, tg.Type)
	}
	if len(got) != 23 || got[21] != flv.TagVideo || got[22] != flv.TagVideo {
		t.Errorf("reader got %d tags %v, want 21 audio then the video sequence header and keyframe", len(got), got)
	}
}
