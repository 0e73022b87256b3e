package rtmpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/livetest"
)

// start runs a server with policy on 127.0.0.1:0 and returns its hub, a
// channel of streams as they are published, and the listener's address.
func start(t *testing.T, policy live.Policy) (*live.Hub, chan *live.Stream, string) {
	t.Helper()
	hub := &live.Hub{}
	started := make(chan *live.Stream, 8)
	hub.Watch(func(s *live.Stream) { started <- s })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Hub: hub, Policy: policy, PlayHint: func(k live.Key) string { return "http://x/live/" + k.String() + ".flv" }}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return hub, started, ln.Addr().String()
}

func waitStream(t *testing.T, started chan *live.Stream) *live.Stream {
	t.Helper()
	select {
	case s := <-started:
		return s
	case <-time.After(30 * time.Second):
		t.Fatal("no stream was published within 30s")
		return nil
	}
}

func TestPublishDetectsCodecs(t *testing.T) {
	livetest.Need(t)
	cases := []struct {
		kind         livetest.Kind
		video, audio string
	}{
		{livetest.AudioVideo, "H.264", "AAC"},
		{livetest.VideoG711, "H.264", "G.711 A-law"},
		{livetest.AudioOnly, "", "AAC"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s+%s", tc.video, tc.audio), func(t *testing.T) {
			t.Parallel()
			_, started, addr := start(t, live.Policy{})
			livetest.Publish(t, tc.kind, 20*time.Second, "rtmp://"+addr+"/live/cam")
			s := waitStream(t, started)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tr, err := s.WaitTracks(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tr.Video != (tc.video != "") || tr.Audio != (tc.audio != "") {
				t.Errorf("tracks = %+v, want video %v audio %v", tr, tc.video != "", tc.audio != "")
			}
			// Read until a media tag of each track arrived, so the codec
			// fields are filled.
			r, err := s.Subscribe(live.ReaderOptions{Audio: tr.Audio, Video: tr.Video})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for i := 0; i < 60; i++ {
				if _, err := r.Read(ctx); err != nil {
					t.Fatal(err)
				}
			}
			st := s.Status()
			if st.Video.Codec != tc.video || st.Audio.Codec != tc.audio {
				t.Errorf("codecs = %q/%q, want %q/%q", st.Video.Codec, st.Audio.Codec, tc.video, tc.audio)
			}
			if tc.video != "" && (st.Video.Width != 320 || st.Video.Height != 240 || st.Video.SequenceHeaders != 1) {
				t.Errorf("video = %+v, want 320x240 and one sequence header", st.Video)
			}
			if tc.audio == "AAC" && (st.Audio.SequenceHeaders != 1 || st.Audio.SampleRate != 44100) {
				t.Errorf("audio = %+v, want one sequence header at 44100 Hz", st.Audio)
			}
		})
	}
}

func TestSecondPublisherRefused(t *testing.T) {
	livetest.Need(t)
	hub, started, addr := start(t, live.Policy{})
	url := "rtmp://" + addr + "/live/dup"
	livetest.Publish(t, livetest.VideoOnly, 20*time.Second, url)
	waitStream(t, started)
	second := livetest.Publish(t, livetest.VideoOnly, 20*time.Second, url)
	out, err := second.Wait(30 * time.Second)
	if err == nil {
		t.Fatalf("second publisher exited 0; want a refusal (stderr %q)", out)
	}
	if !strings.Contains(out, "already being published") {
		t.Errorf("second publisher's error = %q, want the server's reason (already being published)", out)
	}
	if n := len(hub.Streams()); n != 1 {
		t.Errorf("hub has %d streams, want 1", n)
	}
}

func TestPublishAuthorisation(t *testing.T) {
	livetest.Need(t)
	policy := live.Policy{Apps: []live.App{{Name: "live", PublishKey: "s3cret", SignSecret: "hmac-key"}}}
	sig := live.Sign("hmac-key", "live", "signed", time.Now().Add(time.Hour))
	expired := live.Sign("hmac-key", "live", "old", time.Unix(1000, 0))
	cases := []struct {
		name, path string
		ok         bool
		reason     string
	}{
		{"key", "/live/a?key=s3cret", true, ""},
		{"wrong key", "/live/b?key=nope", false, "wrong key"},
		{"no key", "/live/c", false, "needs ?key="},
		{"unknown app", "/other/d?key=s3cret", false, "not configured"},
		{"signed", fmt.Sprintf("/live/signed?expires=%d&sign=%s", time.Now().Add(time.Hour).Unix(), sig), true, ""},
		{"expired", fmt.Sprintf("/live/old?expires=1000&sign=%s", expired), false, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, started, addr := start(t, policy)
			p := livetest.Publish(t, livetest.AudioOnly, 2*time.Second, "rtmp://"+addr+tc.path)
			if tc.ok {
				waitStream(t, started)
				return
			}
			out, err := p.Wait(30 * time.Second)
			if err == nil || !strings.Contains(out, tc.reason) {
				t.Errorf("ffmpeg: err %v, stderr %q; want a refusal saying %q", err, out, tc.reason)
			}
			select {
			case s := <-started:
				t.Errorf("stream %s was published; want refused", s.Key())
			default:
			}
		})
	}
}
