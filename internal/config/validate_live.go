package config

import (
	"fmt"
	"net/url"
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
		p.liveHooks(path+".hooks", a.Hooks)
	}
}

// liveHooks checks an app's hooks.
func (p *problems) liveHooks(path string, h LiveHooks) {
	for _, x := range []struct{ key, url string }{{"on_publish", h.OnPublish}, {"on_unpublish", h.OnUnpublish}, {"on_play", h.OnPlay}} {
		if x.url == "" {
			continue
		}
		u, err := url.Parse(x.url)
		switch {
		case err != nil:
			p.add(path+"."+x.key, "%q is not a URL: %v", x.url, err)
		case u.Scheme != "http" && u.Scheme != "https":
			p.add(path+"."+x.key, "%q: scheme must be http or https", x.url)
		case u.Host == "":
			p.add(path+"."+x.key, "%q has no host; write e.g. \"http://127.0.0.1:8085/hooks/publish\"", x.url)
		}
	}
	if d := h.Timeout.D(); d != 0 && (d < 10*time.Millisecond || d > time.Minute) {
		p.add(path+".timeout", "%v: must be from 10ms to 1m (0 means 5s)", d)
	}
	switch h.OnFailure {
	case "", "deny", "allow":
	default:
		p.add(path+".on_failure", "%q: must be deny (refuse when the hook fails) or allow", h.OnFailure)
	}
}
