package livehttp

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/browsertest"
	"github.com/strata-cdn/strata/internal/livetest"
)

// browserDir holds the Node project: playwright-core drives Chromium;
// hls.js and mpegts.js are served to the page from its node_modules.
const browserDir = "testdata/browser"

// playerPage plays Src in a <video> with hls.js (Kind "hls") or mpegts.js
// (Kind "flv"), and puts a fatal player error in window.playError.
var playerPage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Strata live player</title></head>
<body>
<video id="v" muted autoplay playsinline></video>
<script src="/js/{{.Lib}}"></script>
<script>
window.playError = "";
const v = document.getElementById("v");
const src = {{.Src}};
const play = () => v.play().catch((e) => { window.playError = "play(): " + e; });
{{if eq .Kind "hls"}}
if (!Hls.isSupported()) {
  window.playError = "hls.js: this browser has no Media Source Extensions";
} else {
  const h = new Hls();
  h.on(Hls.Events.ERROR, (_, d) => { if (d.fatal) window.playError = "hls.js " + d.type + ": " + d.details; });
  h.on(Hls.Events.MANIFEST_PARSED, play);
  h.loadSource(src);
  h.attachMedia(v);
}
{{else}}
if (!mpegts.isSupported()) {
  window.playError = "mpegts.js: this browser has no Media Source Extensions";
} else {
  const p = mpegts.createPlayer({type: "flv", isLive: true, url: src}, {enableWorker: false});
  p.on(mpegts.Events.ERROR, (type, detail, info) => { window.playError = "mpegts.js " + type + ": " + detail + " " + JSON.stringify(info); });
  p.attachMediaElement(v);
  p.load();
  play();
}
{{end}}
</script>
</body></html>`))

// playResult is what play.mjs reports.
type playResult struct {
	CurrentTime float64  `json:"currentTime"`
	Error       string   `json:"error"`
	ReadyState  int      `json:"readyState"`
	Logs        []string `json:"logs"`
}

// TestPlaysInChromium publishes H.264 + AAC with ffmpeg and plays it in
// headless Chromium from a page on another origin: HLS with hls.js and
// HTTP-FLV with mpegts.js, both loaded from the page's own server. Each
// passes when the video element's currentTime goes past 1.5 s.
func TestPlaysInChromium(t *testing.T) {
	livetest.Need(t)
	node := browsertest.Need(t, browserDir, "playwright-core", "hls.js", "mpegts.js")
	e := newEnv(t)
	// Long enough for both players on a busy machine, where starting
	// Chromium twice can take most of a minute; ended with the test.
	e.publishFor(t, livetest.AudioVideo, "browser", 5*time.Minute)

	libs := map[string]string{
		"/js/hls.min.js": filepath.Join(browserDir, "node_modules", "hls.js", "dist", "hls.min.js"),
		"/js/mpegts.js":  filepath.Join(browserDir, "node_modules", "mpegts.js", "dist", "mpegts.js"),
	}
	pages := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, ok := libs[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "text/javascript")
			http.ServeFile(w, r, f)
			return
		}
		kind := strings.TrimPrefix(r.URL.Path, "/play/")
		lib, src := "hls.min.js", e.http+"/live/live/browser.m3u8"
		switch kind {
		case "hls":
		case "flv":
			lib, src = "mpegts.js", e.http+"/live/live/browser.flv"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = playerPage.Execute(w, map[string]string{"Kind": kind, "Lib": lib, "Src": src})
	}))
	t.Cleanup(pages.Close)

	for _, kind := range []string{"hls", "flv"} {
		t.Run(kind, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "play.mjs", pages.URL+"/play/"+kind, "1.5", "40000")
			cmd.Dir = browserDir
			cmd.Env = append(os.Environ(), "CHROMIUM="+browsertest.Chromium)
			out, err := cmd.Output()
			if err != nil {
				stderr := ""
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("node play.mjs: %v\nstdout: %s\nstderr: %s", err, out, stderr)
			}
			var res playResult
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("play.mjs output %q: %v", out, err)
			}
			if res.Error != "" || res.CurrentTime <= 1.5 {
				t.Errorf("%s in Chromium: currentTime %.2f s, readyState %d, error %q; want past 1.5 s without error\npage log:\n%s",
					kind, res.CurrentTime, res.ReadyState, res.Error, strings.Join(res.Logs, "\n"))
			}
		})
	}
}
