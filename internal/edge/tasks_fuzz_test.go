package edge

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzPurgeRequest checks the purge request's JSON and URL parsing: any
// body is refused or mapped to cache keys of a configured domain, never
// containing the "#" that separates a URL's key from its suffixes, and a
// stale mark of an accepted URL covers that URL's entries.
func FuzzPurgeRequest(f *testing.F) {
	f.Add([]byte(`{"urls":["http://a.test/x?y=1"],"mode":"stale"}`))
	f.Add([]byte(`{"prefix":"https://A.test"}`))
	f.Add([]byte(`{"domain":"b.test:8080"}`))
	f.Add([]byte(`{"urls":["http://a.test/%23#frag"]}`))
	o := &url.URL{Scheme: "http", Host: "o"}
	h := &Handler{Domains: []Domain{{Host: "a.test", Origin: o}, {Host: "*", Origin: o}}}
	h.init()
	f.Fuzz(func(t *testing.T, body []byte) {
		var req PurgeRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil {
			return
		}
		targets, err := h.purgeTargets(req)
		if err != nil {
			return
		}
		for _, p := range targets {
			key := p.keyPrefix()
			if !strings.HasPrefix(key, "a.test/") && !strings.HasPrefix(key, "*/") {
				t.Errorf("target %q: key prefix %q is not under a domain", p.label, key)
			}
			if p.primary != "" {
				if strings.Contains(p.primary, "#") {
					t.Errorf("URL %q: primary key %q contains #", p.label, p.primary)
				}
				var m staleMarks
				m.markURL(p.primary, time.Unix(100, 0))
				if !m.stale(variantKey(p.primary, "x")+"#slice=1", time.Unix(99, 0)) || m.stale(variantKey(p.primary, ""), time.Unix(101, 0)) {
					t.Errorf("URL %q: stale mark does not cover exactly its entries up to its time", p.label)
				}
			} else if strings.Contains(strings.TrimSuffix(p.prefix, "#"), "#") {
				t.Errorf("%q: prefix %q contains #", p.label, p.prefix)
			}
		}
	})
}

// FuzzDuration checks the JSON durations of task requests: any input is
// read or refused without panicking, and what is written reads back.
func FuzzDuration(f *testing.F) {
	f.Add([]byte(`"30s"`), int64(1500*time.Millisecond))
	f.Add([]byte(`12.5`), int64(0))
	f.Add([]byte(`"-1h2m"`), int64(-1))
	f.Fuzz(func(t *testing.T, raw []byte, n int64) {
		var d Duration
		_ = d.UnmarshalJSON(raw)
		b, err := Duration(n).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := back.UnmarshalJSON(b); err != nil || back != Duration(n) {
			t.Errorf("round trip of %d via %s = %d, %v", n, b, back, err)
		}
	})
}
