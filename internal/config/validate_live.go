package config

import (
	"fmt"
	"strings"
	"time"
)

// live checks the live section.
func (p *problems) live(c *Config) {
	l := c.Live
	if !l.Enabled {
		return
	}
	p.listen("live.rtmp_listen", l.RTMPListen)
	p.listen("live.http_listen", l.HTTPListen)
	others := map[string]string{c.S3.Listen: "s3.listen", c.Admin.Listen: "admin.listen", c.Edge.Listen: "edge.listen"}
	for _, x := range []struct{ path, addr string }{{"live.rtmp_listen", l.RTMPListen}, {"live.http_listen", l.HTTPListen}} {
		if other, dup := others[x.addr]; dup && !strings.HasSuffix(x.addr, ":0") {
			p.add(x.path, "%q is also %s; give each listener its own port", x.addr, other)
		}
		others[x.addr] = x.path
	}
	if l.GOPCache < 0 {
		p.add("live.gop_cache", "must not be negative; 0 uses the default of 16MiB")
	}
	if d := l.HLS.SegmentDuration.D(); d < 500*time.Millisecond || d > time.Minute {
		p.add("live.hls.segment_duration", "%v: must be from 500ms to 1m, e.g. \"2s\"", d)
	}
	if n := l.HLS.PlaylistSize; n < 2 || n > 100 {
		p.add("live.hls.playlist_size", "%d: must be from 2 to 100, e.g. 6", n)
	}
	names := map[string]int{}
	for i, a := range l.Apps {
		path := fmt.Sprintf("live.apps[%d]", i)
		switch {
		case a.Name == "":
			p.add(path+".name", "must not be empty; it is the APP of rtmp://HOST/APP/STREAM")
		case strings.ContainsAny(a.Name, "/?&# \\"):
			p.add(path+".name", "%q must not contain /, ?, &, #, \\ or spaces", a.Name)
		}
		if j, dup := names[a.Name]; dup && a.Name != "" {
			p.add(path+".name", "%q is also live.apps[%d].name; keep one", a.Name, j)
		}
		names[a.Name] = i
		if a.PublishKey == "" && a.SignSecret == "" {
			p.add(path, "app %q has neither publish_key nor sign_secret, so nobody could publish to it; set one", a.Name)
		}
	}
}
