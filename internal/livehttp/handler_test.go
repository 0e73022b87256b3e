package livehttp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-cdn/strata/internal/flv"
	"github.com/strata-cdn/strata/internal/hls"
	"github.com/strata-cdn/strata/internal/live"
	"github.com/strata-cdn/strata/internal/livetest"
	"github.com/strata-cdn/strata/internal/rtmpserver"
)

// env is an RTMP ingest and the live HTTP origin on 127.0.0.1:0.
type env struct {
	hub     *live.Hub
	h       *Handler
	rtmp    string // rtmp://127.0.0.1:PORT
	http    string // http://127.0.0.1:PORT
	started chan *live.Stream
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{hub: &live.Hub{}, started: make(chan *live.Stream, 4)}
	e.h = &Handler{Hub: e.hub, NodeID: "test-node", HLS: hls.Options{TargetDuration: time.Second, PlaylistSize: 3}}
	e.h.Start()
	e.hub.Watch(func(s *live.Stream) { e.started <- s })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs := &rtmpserver.Server{Hub: e.hub}
	go rs.Serve(ln)
	srv := httptest.NewServer(e.h)
	e.rtmp, e.http = "rtmp://"+ln.Addr().String(), srv.URL
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		rs.Close()
		e.h.Close()
	})
	return e
}

// publish starts ffmpeg and waits for the stream to appear in the hub and
// its track set to be final.
func (e *env) publish(t *testing.T, kind livetest.Kind, name string) (*live.Stream, *livetest.Publisher) {
	t.Helper()
	return e.publishFor(t, kind, name, 30*time.Second)
}

// publishFor is publish for a stream of d (ffmpeg is killed when the test
// ends).
func (e *env) publishFor(t *testing.T, kind livetest.Kind, name string, d time.Duration) (*live.Stream, *livetest.Publisher) {
	t.Helper()
	p := livetest.Publish(t, kind, d, e.rtmp+"/live/"+name)
	select {
	case s := <-e.started:
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.WaitTracks(ctx); err != nil {
			t.Fatal(err)
		}
		return s, p
	case <-p.Done():
		out, err := p.Wait(0)
		t.Fatalf("ffmpeg exited before publishing: %v: %s", err, out)
	case <-time.After(30 * time.Second):
		t.Fatal("stream not published within 30s")
	}
	return nil, nil
}

// flvHead reads the FLV header and the first tags of url.
func flvHead(t *testing.T, url string, tags int) (*http.Response, flv.FileHeader, []flv.Tag) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	var raw [flv.HeaderSize]byte
	if _, err := io.ReadFull(resp.Body, raw[:]); err != nil {
		t.Fatal(err)
	}
	h, err := flv.ParseHeader(raw[:])
	if err != nil {
		t.Fatal(err)
	}
	r := &flv.Reader{R: io.MultiReader(bytes.NewReader(raw[:]), resp.Body)}
	var out []flv.Tag
	for len(out) < tags {
		tag, err := r.Tag()
		if err != nil {
			t.Fatalf("reading tag %d: %v", len(out), err)
		}
		out = append(out, tag)
	}
	return resp, h, out
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func codecs(streams []livetest.Stream) string {
	var s []string
	for _, st := range streams {
		s = append(s, st.CodecType+":"+st.CodecName)
	}
	return strings.Join(s, " ")
}

func TestAudioVideoOverFLVAndHLS(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	e := newEnv(t)
	e.publish(t, livetest.AudioVideo, "av")

	resp, h, tags := flvHead(t, e.http+"/live/live/av.flv", 3)
	if !h.HasAudio || !h.HasVideo {
		t.Errorf("FLV header flags: audio %v video %v, want both", h.HasAudio, h.HasVideo)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("FLV Cache-Control = %q, want no-store", cc)
	}
	// onMetaData, then the sequence headers, then a keyframe from the GOP cache.
	sc, err := flv.ParseScript(tags[0].Body)
	if err != nil || sc.Name != "onMetaData" || sc.Fields["hasAudio"] != true || sc.Fields["hasVideo"] != true {
		t.Errorf("first tag: %v %+v, want onMetaData with hasAudio and hasVideo true", err, sc)
	}
	if v, err := flv.ParseVideo(tags[1].Body); err != nil || v.PacketType != flv.VideoSequenceHeader {
		t.Errorf("second tag = %+v (%v), want the AVC sequence header", v, err)
	}

	streams, out, err := livetest.Probe(t, e.http+"/live/live/av.flv", 30*time.Second)
	if err != nil || codecs(streams) != "video:h264 audio:aac" {
		t.Errorf("ffprobe FLV: %q (%v %s), want video:h264 audio:aac", codecs(streams), err, out)
	}

	resp, body := get(t, e.http+"/live/live/av.m3u8")
	if resp.StatusCode != 200 {
		t.Fatalf("playlist: %s: %s", resp.Status, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=1" {
		t.Errorf("playlist Cache-Control = %q, want public, max-age=1", cc)
	}
	seg := regexp.MustCompile(`(?m)^av/[0-9a-f]+-\d+\.ts$`).FindString(string(body))
	if seg == "" {
		t.Fatalf("playlist lists no segment:\n%s", body)
	}
	resp, data := get(t, e.http+"/live/live/"+seg)
	if resp.StatusCode != 200 || len(data) == 0 || data[0] != 0x47 {
		t.Fatalf("segment %s: %s, %d bytes", seg, resp.Status, len(data))
	}
	// C30: a segment's max-age never exceeds its retention after leaving
	// the playlist (2 x 3 segments x 1s here).
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=6" {
		t.Errorf("segment Cache-Control = %q, want public, max-age=6", cc)
	}
	streams, out, err = livetest.Probe(t, e.http+"/live/live/av.m3u8", 30*time.Second)
	if err != nil || codecs(streams) != "video:h264 audio:aac" {
		t.Errorf("ffprobe HLS: %q (%v %s), want video:h264 audio:aac", codecs(streams), err, out)
	}
}

func TestFLVHeaderDeclaresTracks_C32(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	e := newEnv(t)
	e.publish(t, livetest.VideoOnly, "vo")
	e.publish(t, livetest.AudioVideo, "av")
	cases := []struct {
		path         string
		audio, video bool
		probe        string
	}{
		{"/live/live/vo.flv", false, true, "video:h264"},
		{"/live/live/av.flv?onlyvideo=1", false, true, "video:h264"},
		{"/live/live/av.flv?onlyaudio=1", true, false, "audio:aac"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			_, h, tags := flvHead(t, e.http+tc.path, 8)
			if h.HasAudio != tc.audio || h.HasVideo != tc.video {
				t.Errorf("FLV header flags: audio %v video %v, want %v %v", h.HasAudio, h.HasVideo, tc.audio, tc.video)
			}
			sc, err := flv.ParseScript(tags[0].Body)
			if err != nil || sc.Fields["hasAudio"] != tc.audio || sc.Fields["hasVideo"] != tc.video {
				t.Errorf("onMetaData = %+v (%v), want hasAudio %v hasVideo %v", sc.Fields, err, tc.audio, tc.video)
			}
			for _, tag := range tags[1:] {
				if (tag.Type == flv.TagAudio && !tc.audio) || (tag.Type == flv.TagVideo && !tc.video) {
					t.Errorf("got a tag of type %d on a stream that declares audio %v video %v", tag.Type, tc.audio, tc.video)
				}
			}
			streams, out, err := livetest.Probe(t, e.http+tc.path, 30*time.Second)
			if err != nil || codecs(streams) != tc.probe {
				t.Errorf("ffprobe: %q (%v %s), want %s", codecs(streams), err, out, tc.probe)
			}
		})
	}
}

func TestMissingTrackFailsFast_C31(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	e := newEnv(t)
	e.publish(t, livetest.AudioOnly, "radio")
	start := time.Now()
	resp, body := get(t, e.http+"/live/live/radio.flv?onlyvideo=1")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("refusal took %v; want it at once", took)
	}
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "stream live/radio has no video track (it is audio-only)") {
		t.Errorf("onlyvideo on an audio-only stream: %s %q; want 404 saying it has no video track", resp.Status, body)
	}
	_, h, _ := flvHead(t, e.http+"/live/live/radio.flv", 2)
	if !h.HasAudio || h.HasVideo {
		t.Errorf("audio-only FLV flags: audio %v video %v, want audio only", h.HasAudio, h.HasVideo)
	}
	// Audio-only HLS is cut by time and plays.
	streams, out, err := livetest.Probe(t, e.http+"/live/live/radio.m3u8", 30*time.Second)
	if err != nil || codecs(streams) != "audio:aac" {
		t.Errorf("ffprobe audio-only HLS: %q (%v %s), want audio:aac", codecs(streams), err, out)
	}
}

func TestG711RefusedForHLSButPlaysOverFLV_C29(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	e := newEnv(t)
	e.publish(t, livetest.VideoG711, "g711")
	resp, body := get(t, e.http+"/live/live/g711.m3u8")
	want := "stream live/g711 has G.711 A-law audio, which HLS cannot carry; play it over HTTP-FLV or publish AAC"
	if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(string(body), want) {
		t.Errorf("HLS of a G.711 stream: %s %q; want 415 saying %q", resp.Status, body, want)
	}
	streams, out, err := livetest.Probe(t, e.http+"/live/live/g711.flv", 30*time.Second)
	if err != nil || codecs(streams) != "video:h264 audio:pcm_alaw" {
		t.Errorf("ffprobe FLV: %q (%v %s), want video:h264 audio:pcm_alaw", codecs(streams), err, out)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.h.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	hlsAvailable := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "strata_live_hls_available" {
			hlsAvailable = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if hlsAvailable != 0 {
		t.Errorf("strata_live_hls_available = %v, want 0 for a G.711 stream", hlsAvailable)
	}
	sts := e.h.Statuses()
	if len(sts) != 1 || sts[0].HLS.Available || !strings.Contains(sts[0].HLS.Error, "G.711 A-law") || sts[0].Audio.Codec != "G.711 A-law" {
		t.Errorf("status = %+v; want HLS unavailable for G.711 A-law", sts)
	}
}

func TestUnknownStream(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/live/live/nope.flv", "/live/live/nope.m3u8", "/live/live/nope/abc-1.ts"} {
		resp, body := get(t, e.http+p)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "node test-node") {
			t.Errorf("GET %s: %s %q; want 404 naming the node", p, resp.Status, body)
		}
	}
	resp, body := get(t, e.http+"/live/live/nope.flv")
	if !strings.Contains(string(body), "stream live/nope is not being published") {
		t.Errorf("unknown stream body %q (%s)", body, resp.Status)
	}
}

func TestStreamEndsForViewers(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	e := newEnv(t)
	s, p := e.publish(t, livetest.VideoOnly, "short")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http+"/live/live/short.flv", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if n := e.h.Statuses()[0].Viewers["flv"]; n != 1 {
		t.Errorf("flv viewers = %d, want 1", n)
	}
	// Stop the publisher: the FLV response ends rather than hanging.
	p.Kill()
	<-s.Done()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the ended stream: %v", err)
	}
	resp2, body := get(t, e.http+"/live/live/short.flv")
	if resp2.StatusCode != http.StatusNotFound {
		t.Errorf("after unpublish: %s %q, want 404", resp2.Status, body)
	}
}
