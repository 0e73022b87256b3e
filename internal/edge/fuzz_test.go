package edge

import (
	"net/http"
	"testing"
)

// FuzzIsLoop checks the Via and CDN-Loop parsing of loop detection (C06):
// it never panics, and a field naming this node anywhere in the list is
// always a loop.
func FuzzIsLoop(f *testing.F) {
	f.Add("1.1 a, 1.1 b (strata, 3ms)", "cdn-a; v=1")
	f.Add("", "")
	f.Add("HTTP/2 x", ",,;")
	h := &Handler{NodeID: "node-x"}
	h.init()
	f.Fuzz(func(t *testing.T, via, cdnLoop string) {
		hdr := http.Header{"Via": {via}, "Cdn-Loop": {cdnLoop}}
		h.isLoop(hdr)
		hdr["Via"] = []string{via + ", 1.1 node-x (strata, 1ms)"}
		if !h.isLoop(hdr) {
			t.Errorf("Via %q names node-x but is not a loop", hdr["Via"])
		}
		hdr = http.Header{"Cdn-Loop": {cdnLoop, "node-x; p=1"}}
		if !h.isLoop(hdr) {
			t.Errorf("CDN-Loop %q names node-x but is not a loop", hdr["Cdn-Loop"])
		}
	})
}

// FuzzParseMetaExtra checks the metadata record of sliced objects: any
// stored bytes parse without panicking, and what metaExtra writes reads
// back.
func FuzzParseMetaExtra(f *testing.F) {
	f.Add([]byte("1048576\netag:abc"), int64(5), "lm:1/5")
	f.Add([]byte(""), int64(1), "etag:x")
	f.Add([]byte("-1\n"), int64(0), "")
	f.Fuzz(func(t *testing.T, raw []byte, size int64, val string) {
		parseMetaExtra(raw)
		if size <= 0 || val == "" {
			return
		}
		gs, gv, ok := parseMetaExtra(metaExtra(size, val))
		if !ok || gs != size || gv != val {
			t.Errorf("round trip of (%d, %q) = (%d, %q, %v)", size, val, gs, gv, ok)
		}
	})
}
