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
		p.liveSnapshot(path+".snapshot", a.Snapshot)
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
	p.keyPrefix(path+".prefix", r.Prefix)
	if r.Format != "" && r.Format != DefaultRecordFormat {
		p.add(path+".format", "%q: the only format is mp4 (fragmented MP4)", r.Format)
	}
	if d := r.MaxDuration.D(); d != 0 && (d < time.Second || d > 12*time.Hour) {
		p.add(path+".max_duration", "%v: must be from 1s to 12h (0 means 1h)", d)
	}
	p.s3Target(path, r.Endpoint, r.AccessKey, r.SecretKey)
}

// liveSnapshot checks an app's snapshots.
func (p *problems) liveSnapshot(path string, s LiveSnapshot) {
	if s.Bucket == "" {
		if s.Endpoint != "" || s.AccessKey != "" {
			p.add(path+".bucket", "must be set for the app's other snapshot settings to matter; name the bucket the snapshots go to")
		}
		return
	}
	if !bucketName.MatchString(s.Bucket) || strings.Contains(s.Bucket, "..") {
		p.add(path+".bucket", "%q is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens", s.Bucket)
	}
	p.keyPrefix(path+".prefix", s.Prefix)
	if s.Format != "" && s.Format != DefaultSnapshotFormat {
		p.add(path+".format", "%q: the only format is jpeg", s.Format)
	}
	if d := s.Interval.D(); d != 0 && (d < time.Second || d > time.Hour) {
		p.add(path+".interval", "%v: must be from 1s to 1h (0 means 10s)", d)
	}
	if s.Width != 0 && (s.Width < 16 || s.Width > 7680) {
		p.add(path+".width", "%d: must be from 16 to 7680 pixels (0 keeps the stream's size)", s.Width)
	}
	p.s3Target(path, s.Endpoint, s.AccessKey, s.SecretKey)
}

// keyPrefix checks a recording or snapshot key prefix.
func (p *problems) keyPrefix(path, prefix string) {
	rest := prefix
	for _, ph := range RecordPlaceholders {
		rest = strings.ReplaceAll(rest, ph, "")
	}
	switch {
	case strings.HasPrefix(prefix, "/"):
		p.add(path, "%q must not start with /; write e.g. \"{app}/{stream}/\"", prefix)
	case strings.ContainsAny(rest, "{}"):
		p.add(path, "%q: the placeholders are {app}, {stream}, {session} and {date}", prefix)
	}
}

// s3Target checks the endpoint and credentials of a recording or
// snapshot target (path is its section).
func (p *problems) s3Target(path, endpoint, accessKey, secretKey string) {
	bucketKey := path[strings.LastIndex(path, ".")+1:] + ".bucket"
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.add(path+".endpoint", "%q: write the S3 endpoint's URL, e.g. \"https://s3.example.com\" (empty: this node's S3 API)", endpoint)
		case u.Path != "" && u.Path != "/":
			p.add(path+".endpoint", "%q must not have a path; the bucket is %s", endpoint, bucketKey)
		}
		if accessKey == "" || secretKey == "" {
			p.add(path, "another endpoint needs access_key and secret_key: this node's credentials are for its own store")
		}
	}
	if (accessKey == "") != (secretKey == "") {
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
