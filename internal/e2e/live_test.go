package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/livetest"
)

// freeAddr returns a loopback address with a port free a moment ago, for
// a listener whose address another part of the config must name.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestLiveHLSThroughEdge_C30 publishes with ffmpeg to the real binary and
// plays the stream's HLS through the edge, whose origin is the node's live
// listener: the playlist and a segment arrive, and the edge keeps neither
// longer than the origin allows.
func TestLiveHLSThroughEdge_C30(t *testing.T) {
	livetest.Need(t)
	t.Parallel()
	liveAddr := freeAddr(t)
	n := startNode(t, nodeConfig{
		liveListen: liveAddr,
		liveextra:  "  apps: [{name: live, publish_key: k3y}]\n  hls: {segment_duration: 1s, playlist_size: 3}\n",
		extra:      "domains:\n  - {host: \"*\", origin: \"http://" + liveAddr + "\"}\n",
	})
	if n.RTMP == "" || n.Live == "" {
		t.Fatalf("start-up log does not say where rtmp and live listen:\n%s", n.logText())
	}
	pub := livetest.Publish(t, livetest.AudioVideo, 30*time.Second, n.RTMP+"/live/e2e?key=k3y")
	deadline := time.Now().Add(30 * time.Second)
	for len(n.logLines("stream published")) == 0 {
		select {
		case <-pub.Done():
			out, err := pub.Wait(0)
			t.Fatalf("ffmpeg exited: %v %s\nlog:\n%s", err, out, n.logText())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream not published within 30s; log:\n%s", n.logText())
		}
	}

	// The origin waits for the first segment, so the first playlist
	// through the edge already lists one.
	resp, body := liveGet(t, n.Edge+"/live/live/e2e.m3u8")
	if resp.StatusCode != 200 {
		t.Fatalf("playlist through the edge: %s: %s", resp.Status, body)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=1") {
		t.Errorf("playlist Cache-Control through the edge = %q, want max-age=1", cc)
	}
	seg := regexp.MustCompile(`(?m)^e2e/[0-9a-f]+-\d+\.ts$`).FindString(string(body))
	if seg == "" {
		t.Fatalf("playlist lists no segment:\n%s", body)
	}
	resp, data := liveGet(t, n.Edge+"/live/live/"+seg)
	if resp.StatusCode != 200 || len(data) < 188 || data[0] != 0x47 {
		t.Fatalf("segment through the edge: %s, %d bytes", resp.Status, len(data))
	}
	// Retention after leaving the playlist: 2 x 3 segments x 1s.
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=6") {
		t.Errorf("segment Cache-Control through the edge = %q, want max-age=6 (its retention)", cc)
	}
	streams, out, err := livetest.Probe(t, n.Edge+"/live/live/e2e.m3u8", 30*time.Second)
	if err != nil || len(streams) != 2 || streams[0].CodecName != "h264" || streams[1].CodecName != "aac" {
		t.Errorf("ffprobe through the edge: %+v (%v %s), want h264 and aac", streams, err, out)
	}

	// HTTP-FLV streams through the edge, uncached, with the header flags
	// declaring both tracks (case C32).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, n.Edge+"/live/live/e2e.flv", nil)
	fresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 13)
	_, err = io.ReadFull(fresp.Body, head)
	fresp.Body.Close()
	if err != nil || string(head[:3]) != "FLV" || head[4] != 0x05 || !strings.HasPrefix(fresp.Header.Get("X-Cache"), "MISS") {
		t.Errorf("FLV through the edge: %v, header % x, X-Cache %q; want FLV flags 0x05, not cached", err, head, fresp.Header.Get("X-Cache"))
	}

	// The admin API lists the stream with its codecs.
	resp, body = liveGet(t, n.Admin+"/live/streams")
	var list struct {
		Streams []struct {
			Stream string `json:"stream"`
			Video  struct {
				Codec  string `json:"codec"`
				Width  int    `json:"width"`
				Height int    `json:"height"`
			} `json:"video"`
			Audio struct {
				Codec string `json:"codec"`
			} `json:"audio"`
			HLS struct {
				Available bool `json:"available"`
			} `json:"hls"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Streams) != 1 {
		t.Fatalf("admin /live/streams: %s %v: %s", resp.Status, err, body)
	}
	st := list.Streams[0]
	if st.Stream != "live/e2e" || st.Video.Codec != "H.264" || st.Video.Width != 320 || st.Audio.Codec != "AAC" || !st.HLS.Available {
		t.Errorf("admin stream status = %+v", st)
	}

	// A publish with a wrong key is refused, and the log says why.
	bad := livetest.Publish(t, livetest.AudioOnly, 5*time.Second, n.RTMP+"/live/other?key=nope")
	if out, err := bad.Wait(30 * time.Second); err == nil || !strings.Contains(out, "wrong key") {
		t.Errorf("publish with a wrong key: %v %q; want refused with \"wrong key\"", err, out)
	}
}

// liveGet is httpGet with the body as bytes.
func liveGet(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, body := httpGet(t, url)
	return resp, []byte(body)
}
