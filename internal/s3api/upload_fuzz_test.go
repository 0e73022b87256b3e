package s3api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/strata-cdn/strata/internal/objstore"
)

// FuzzBucketPolicy: any document is accepted or refused with an S3
// error, never a panic; what is accepted only ever grants reads of keys
// matching its patterns.
func FuzzBucketPolicy(f *testing.F) {
	f.Add([]byte(publicPrefixPolicy), "public/a.css")
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":"arn:aws:s3:::site/a?c*"}}`), "abc/d")
	f.Fuzz(func(t *testing.T, doc []byte, key string) {
		p, err := parseBucketPolicy("site", doc)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || (ae.Code != "MalformedPolicy" && ae.Code != "NotImplemented") {
				t.Fatalf("parseBucketPolicy error %v is not MalformedPolicy or NotImplemented", err)
			}
			return
		}
		if p.allowsRead(key) {
			ok := false
			for _, pat := range p.readPatterns {
				ok = ok || wildcardMatch(pat, key)
			}
			if !ok {
				t.Fatalf("allowsRead(%q) without a matching pattern", key)
			}
		}
	})
}

// FuzzCORSConfig: any XML either fails validation or yields rules whose
// matching never panics.
func FuzzCORSConfig(f *testing.F) {
	f.Add([]byte(corsXML), "https://x.app.example", "PUT", "content-type,x-amz-date")
	f.Add([]byte(`<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`), "null", "GET", "")
	f.Fuzz(func(t *testing.T, doc []byte, origin, method, headers string) {
		var c corsConfiguration
		if xml.Unmarshal(doc, &c) != nil || c.validate() != nil {
			return
		}
		var hs []string
		for _, h := range strings.Split(headers, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				hs = append(hs, h)
			}
		}
		if r, ok := c.match(origin, method, hs); ok {
			if !matchAny(r.AllowedOrigins, origin) || !contains(r.AllowedMethods, method) {
				t.Fatalf("rule %+v matched origin %q method %q", r, origin, method)
			}
		}
	})
}

// FuzzCallback: any callback parameter is accepted or refused with
// InvalidArgument; an accepted one renders without panicking, and a JSON
// body whose variables are all inside quotes stays valid JSON.
func FuzzCallback(f *testing.F) {
	f.Add("eyJjYWxsYmFja1VybCI6Imh0dHA6Ly8xMjcuMC4wLjE6OTAvY2IiLCJjYWxsYmFja0JvZHkiOiJidWNrZXQ9JHtidWNrZXR9In0=", "k\"e y", "v")
	f.Fuzz(func(t *testing.T, param, key, v string) {
		cb, err := parseCallback("x-oss-callback", param, map[string]string{"x:v": v})
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Code != "InvalidArgument" {
				t.Fatalf("parseCallback error %v is not InvalidArgument", err)
			}
			return
		}
		_ = cb.render(objstore.ObjectInfo{Bucket: "b", Key: key, Size: 3}, "text/plain")
		j := &callbackSpec{Body: `{"k":"${object}","v":${x:v},"s":${size}}`, BodyType: "application/json", Vars: cb.Vars}
		out := j.render(objstore.ObjectInfo{Key: key, Size: 3}, "")
		if strings.ToValidUTF8(key, "") == key && strings.ToValidUTF8(v, "") == v && !json.Valid([]byte(out)) {
			t.Fatalf("rendered JSON %q is not valid", out)
		}
	})
}
