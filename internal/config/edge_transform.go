package config

import (
	"fmt"
	"strings"
)

// DomainTransform compresses and minifies a domain's responses at the edge
// (case C03): the edge decodes an origin's gzip or brotli body, minifies
// it, then encodes it for the client's Accept-Encoding. It is on when
// Compress or Minify lists something.
type DomainTransform struct {
	// Compress lists the codings offered to clients, in order of
	// preference: "br", "gzip".
	Compress []string `yaml:"compress"`
	// Minify lists the kinds of content minified: "html", "css", "js".
	Minify []string `yaml:"minify"`
	// Types are the media types transformed ("text/*" allowed); empty: a
	// built-in list of text and structured types.
	Types []string `yaml:"types"`
	// MinSize: smaller bodies are not compressed (default 256 B).
	MinSize ByteSize `yaml:"min_size"`
	// MaxSize: larger bodies are passed on as they are (default 16 MiB).
	MaxSize ByteSize `yaml:"max_size"`
	// GzipLevel (1-9, default 6) and BrotliLevel (1-11, default 5).
	GzipLevel   int `yaml:"gzip_level"`
	BrotliLevel int `yaml:"brotli_level"`
	// OriginAcceptEncoding is the Accept-Encoding sent to the origin in
	// place of the client's: "gzip" (the default), "br", "gzip, br", or
	// "identity" to ask for unencoded bodies.
	OriginAcceptEncoding string `yaml:"origin_accept_encoding"`
}

// Enabled reports whether the domain transforms anything.
func (t DomainTransform) Enabled() bool { return len(t.Compress) > 0 || len(t.Minify) > 0 }

// domainTransform checks a domain's transform keys.
func (p *problems) domainTransform(path string, t DomainTransform) {
	path += ".transform"
	seen := map[string]bool{}
	for i, c := range t.Compress {
		key := fmt.Sprintf("%s.compress[%d]", path, i)
		switch {
		case c != "br" && c != "gzip":
			p.add(key, "%q is not a coding the edge makes; use \"br\" or \"gzip\"", c)
		case seen[c]:
			p.add(key, "%q is listed twice", c)
		}
		seen[c] = true
	}
	for i, m := range t.Minify {
		if m != "html" && m != "css" && m != "js" {
			p.add(fmt.Sprintf("%s.minify[%d]", path, i), "%q cannot be minified; use \"html\", \"css\" or \"js\"", m)
		}
	}
	for i, ty := range t.Types {
		main, sub, ok := strings.Cut(ty, "/")
		if !ok || !validField(main) || (sub != "*" && !validField(sub)) {
			p.add(fmt.Sprintf("%s.types[%d]", path, i), "%q is not a media type; write \"text/html\" or \"text/*\"", ty)
		}
	}
	if t.MinSize < 0 {
		p.add(path+".min_size", "must not be negative")
	}
	if t.MaxSize < 0 {
		p.add(path+".max_size", "must not be negative; 0 takes the default (16MiB)")
	}
	if t.GzipLevel < 0 || t.GzipLevel > 9 {
		p.add(path+".gzip_level", "%d is not a gzip level; use 1 (fastest) to 9 (smallest), or 0 for the default (6)", t.GzipLevel)
	}
	if t.BrotliLevel < 0 || t.BrotliLevel > 11 {
		p.add(path+".brotli_level", "%d is not a brotli level; use 1 (fastest) to 11 (smallest), or 0 for the default (5)", t.BrotliLevel)
	}
	if v := t.OriginAcceptEncoding; v != "" && v != "identity" {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "gzip" && c != "br" {
				p.add(path+".origin_accept_encoding", "%q: the edge decodes only gzip and br; write \"gzip\", \"br\", \"gzip, br\" or \"identity\"", v)
				break
			}
		}
	}
	if !t.Enabled() && (len(t.Types) > 0 || t.MinSize != 0 || t.MaxSize != 0 || t.GzipLevel != 0 || t.BrotliLevel != 0 || t.OriginAcceptEncoding != "") {
		p.add(path, "has settings but neither compress nor minify lists anything, so it does nothing")
	}
}
