package config

import (
	"fmt"
	"net/url"
	"regexp"
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
		p.liveRecord(path+".record", a.Record)
	}
}

// liveRecord checks an app's recording.
func (p *problems) liveRecord(path string, r LiveRecord) {
	if r.Bucket == "" {
		if r.Endpoint != "" || r.AccessKey != "" {
			p.add(path+".bucket", "must be set for the app's other record settings to matter; name the bucket the recordings go to")
		}
		return
	}
	if !bucketName.MatchString(r.Bucket) || strings.Contains(r.Bucket, "..") {
		p.add(path+".bucket", "%q is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens", r.Bucket)
	}
	rest := r.Prefix
	for _, ph := range RecordPlaceholders {
		rest = strings.ReplaceAll(rest, ph, "")
	}
	switch {
	case strings.HasPrefix(r.Prefix, "/"):
		p.add(path+".prefix", "%q must not start with /; write e.g. \"{app}/{stream}/\"", r.Prefix)
	case strings.ContainsAny(rest, "{}"):
		p.add(path+".prefix", "%q: the placeholders are {app}, {stream}, {session} and {date}", r.Prefix)
	}
	if r.Format != "" && r.Format != DefaultRecordFormat {
		p.add(path+".format", "%q: the only format is mp4 (fragmented MP4)", r.Format)
	}
	if d := r.MaxDuration.D(); d != 0 && (d < time.Second || d > 12*time.Hour) {
		p.add(path+".max_duration", "%v: must be from 1s to 12h (0 means 1h)", d)
	}
	if r.Endpoint != "" {
		u, err := url.Parse(r.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.add(path+".endpoint", "%q: write the S3 endpoint's URL, e.g. \"https://s3.example.com\" (empty: this node's S3 API)", r.Endpoint)
		case u.Path != "" && u.Path != "/":
			p.add(path+".endpoint", "%q must not have a path; the bucket is record.bucket", r.Endpoint)
		}
		if r.AccessKey == "" || r.SecretKey == "" {
			p.add(path, "another endpoint needs access_key and secret_key: this node's credentials are for its own store")
		}
	}
	if (r.AccessKey == "") != (r.SecretKey == "") {
		p.add(path+".secret_key", "set both access_key and secret_key, or neither (this node's credentials)")
	}
}

// bucketName is the S3 bucket naming rule in short.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

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
