package transform

import (
	"mime"
	"strings"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/html"
	"github.com/tdewolff/minify/v2/js"
)

// Kind is a family of content the edge can minify.
type Kind string

// The kinds of content minified.
const (
	HTML Kind = "html"
	CSS  Kind = "css"
	JS   Kind = "js"
)

// MediaType returns the media type of a Content-Type value, lower case,
// without parameters ("text/html; charset=utf-8" → "text/html"); "" when
// the value is empty or malformed.
func MediaType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// A sloppy value ("text/html;;") still says what it is.
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.TrimSpace(mt)
	}
	if !strings.Contains(mt, "/") {
		return ""
	}
	return strings.ToLower(mt)
}

// KindOf returns the kind of a media type, or "" when it is none the edge
// minifies.
func KindOf(mediaType string) Kind {
	switch mediaType {
	case "text/html", "application/xhtml+xml":
		return HTML
	case "text/css":
		return CSS
	case "application/javascript", "text/javascript", "application/x-javascript", "application/ecmascript", "text/ecmascript":
		return JS
	}
	return ""
}

// MatchType reports whether mediaType matches one of patterns: exact media
// types or "type/*".
func MatchType(patterns []string, mediaType string) bool {
	if mediaType == "" {
		return false
	}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == mediaType {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "/*"); ok && strings.HasPrefix(mediaType, prefix+"/") {
			return true
		}
	}
	return false
}

// Minifier minifies HTML, CSS and JavaScript. Its settings keep what
// another tool may rely on: document and end tags, attribute quotes,
// special (conditional and license) comments, variable names. It is safe
// for concurrent use.
type Minifier struct {
	m *minify.M
}

// NewMinifier returns a Minifier.
func NewMinifier() *Minifier {
	m := minify.New()
	m.Add("text/html", &html.Minifier{
		KeepDocumentTags:    true,
		KeepEndTags:         true,
		KeepQuotes:          true,
		KeepSpecialComments: true,
		KeepDefaultAttrVals: true,
	})
	m.Add("text/css", &css.Minifier{})
	jsm := &js.Minifier{KeepVarNames: true}
	m.Add("application/javascript", jsm)
	m.Add("text/javascript", jsm)
	return &Minifier{m: m}
}

// Minify returns body minified as kind. On an error (a syntax the
// minifier cannot parse) it returns the error, and the caller serves the
// body as it was: a page must never break because it could not be made
// smaller.
func (mf *Minifier) Minify(kind Kind, body []byte) ([]byte, error) {
	var mt string
	switch kind {
	case HTML:
		mt = "text/html"
	case CSS:
		mt = "text/css"
	case JS:
		mt = "application/javascript"
	default:
		return body, nil
	}
	out, err := mf.m.Bytes(mt, body)
	if err != nil {
		return body, err
	}
	return out, nil
}
