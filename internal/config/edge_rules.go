package config

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// HeaderRules edit a header: remove first, then set (replacing every value
// of the field), then add (appending one).
type HeaderRules struct {
	Set    map[string]string `yaml:"set"`
	Add    map[string]string `yaml:"add"`
	Remove []string          `yaml:"remove"`
}

// CORS makes the edge own a domain's CORS when AllowOrigins is not empty:
// it reflects an allowed Origin, adds Vary: Origin, answers preflights and
// drops the origin's Access-Control-* fields (case C10).
type CORS struct {
	// AllowOrigins are exact origins ("https://app.example.com"),
	// subdomain patterns ("https://*.example.com", "*.example.com") or
	// "*".
	AllowOrigins     []string `yaml:"allow_origins"`
	AllowMethods     []string `yaml:"allow_methods"`
	AllowHeaders     []string `yaml:"allow_headers"`
	ExposeHeaders    []string `yaml:"expose_headers"`
	AllowCredentials bool     `yaml:"allow_credentials"`
	MaxAge           Duration `yaml:"max_age"`
}

// DomainTimeouts are a domain's time limits; zero takes the default.
type DomainTimeouts struct {
	// Connect bounds the dial of an origin connection the domain opens
	// for an upgrade (WebSocket).
	Connect Duration `yaml:"connect"`
	// FirstByte bounds the wait for the origin's response header.
	FirstByte Duration `yaml:"first_byte"`
	// Idle bounds each wait for the origin's body.
	Idle Duration `yaml:"idle"`
	// ClientWrite cuts a client that reads nothing for this long;
	// MediaClientWrite is the same for audio/* and video/* (case C22).
	ClientWrite      Duration `yaml:"client_write"`
	MediaClientWrite Duration `yaml:"media_client_write"`
	// MinRate and MediaMinRate are the slowest downloads allowed, per
	// second, measured over the write timeout; 0 turns the check off.
	MinRate      ByteSize `yaml:"min_rate"`
	MediaMinRate ByteSize `yaml:"media_min_rate"`
	// UpgradeIdle closes an upgraded connection idle in both directions.
	UpgradeIdle Duration `yaml:"upgrade_idle"`
}

// unmanagedFields are the fields header rules may not touch: they frame
// the message or belong to the connection (RFC 9110 §7.6.1, §8.6).
var unmanagedFields = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Upgrade": true, "Te": true, "Trailer": true, "Keep-Alive": true, "Proxy-Connection": true,
}

// validField reports whether s is a field name (an RFC 9110 §5.6.2 token).
func validField(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// headerRules checks one rule set.
func (p *problems) headerRules(path string, r HeaderRules) {
	check := func(key, name string) {
		switch {
		case !validField(name):
			p.add(key, "%q is not a header field name", name)
		case unmanagedFields[http.CanonicalHeaderKey(name)]:
			p.add(key, "%q frames the message or the connection and cannot be edited", name)
		}
	}
	for k, v := range r.Set {
		check(path+".set."+k, k)
		if strings.ContainsAny(v, "\r\n\x00") {
			p.add(path+".set."+k, "value must not contain CR, LF or NUL")
		}
	}
	for k, v := range r.Add {
		check(path+".add."+k, k)
		if strings.ContainsAny(v, "\r\n\x00") {
			p.add(path+".add."+k, "value must not contain CR, LF or NUL")
		}
	}
	for i, k := range r.Remove {
		check(fmt.Sprintf("%s.remove[%d]", path, i), k)
	}
}

// corsOrigin checks one allow_origins entry.
func corsOrigin(s string) bool {
	if s == "*" {
		return true
	}
	rest := s
	if scheme, host, ok := strings.Cut(s, "://"); ok {
		if scheme != "http" && scheme != "https" {
			return false
		}
		rest = host
	}
	rest = strings.TrimPrefix(rest, "*.")
	if rest == "" || strings.ContainsAny(rest, "/*?# ") {
		return false
	}
	u, err := url.Parse("http://" + rest)
	return err == nil && u.Hostname() != ""
}

// domainRules checks a domain's header, CORS, upload and timeout keys.
func (p *problems) domainRules(path string, d Domain) {
	p.headerRules(path+".request_headers", d.RequestHeaders)
	p.headerRules(path+".response_headers", d.ResponseHeaders)
	c := d.CORS
	for i, o := range c.AllowOrigins {
		if !corsOrigin(o) {
			p.add(fmt.Sprintf("%s.cors.allow_origins[%d]", path, i), "%q is not an origin; write \"https://app.example.com\", \"https://*.example.com\" or \"*\"", o)
		}
	}
	for i, m := range c.AllowMethods {
		if !validField(m) {
			p.add(fmt.Sprintf("%s.cors.allow_methods[%d]", path, i), "%q is not a method", m)
		}
	}
	for i, f := range append(append([]string(nil), c.AllowHeaders...), c.ExposeHeaders...) {
		if !validField(f) {
			key := "allow_headers"
			if i >= len(c.AllowHeaders) {
				key, i = "expose_headers", i-len(c.AllowHeaders)
			}
			p.add(fmt.Sprintf("%s.cors.%s[%d]", path, key, i), "%q is not a header field name", f)
		}
	}
	if c.MaxAge < 0 {
		p.add(path+".cors.max_age", "must not be negative")
	}
	if len(c.AllowOrigins) == 0 && (len(c.AllowMethods)+len(c.AllowHeaders)+len(c.ExposeHeaders) > 0 || c.AllowCredentials || c.MaxAge != 0) {
		p.add(path+".cors.allow_origins", "must list the allowed origins when other cors keys are set")
	}
	if c.AllowCredentials && len(c.AllowOrigins) == 1 && c.AllowOrigins[0] == "*" {
		p.add(path+".cors.allow_credentials", "credentials with every origin (\"*\") would let any site read the user's responses; list the origins")
	}
	if d.MaxUpload < 0 {
		p.add(path+".max_upload", "must not be negative; 0 means no limit")
	}
	to := d.Timeouts
	for _, f := range []struct {
		key string
		v   Duration
	}{
		{"connect", to.Connect}, {"first_byte", to.FirstByte}, {"idle", to.Idle},
		{"client_write", to.ClientWrite}, {"media_client_write", to.MediaClientWrite}, {"upgrade_idle", to.UpgradeIdle},
	} {
		if f.v < 0 {
			p.add(path+".timeouts."+f.key, "must not be negative; 0 takes the default")
		}
	}
	if to.MinRate < 0 {
		p.add(path+".timeouts.min_rate", "must not be negative; 0 turns the check off")
	}
	if to.MediaMinRate < 0 {
		p.add(path+".timeouts.media_min_rate", "must not be negative; 0 turns the check off")
	}
	p.domainTransform(path, d.Transform)
}
