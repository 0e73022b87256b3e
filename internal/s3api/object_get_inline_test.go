package s3api

import (
	"bytes"
	"fmt"
	"net/http"
	"testing"

	"github.com/strata-cdn/strata/internal/objstore"
)

// TestGetInlineObject: an object the catalog holds (no data file), sized
// where a file would be sent with sendfile(2), is served whole and by
// range from memory, PUT through the API.
func TestGetInlineObject(t *testing.T) {
	e := newEnv(t)
	e.bucket("bkt")
	size := sendfileMin + 1000
	if size > objstore.DefaultInlineMax {
		t.Fatalf("test object of %d bytes would not be inlined", size)
	}
	data := payload(size)
	resp, body := e.signedDo("PUT", "/bkt/inline", data, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT status %d: %s", resp.StatusCode, body)
	}
	o, err := e.h.Store.OpenObject(t.Context(), "bkt", "inline")
	if err != nil {
		t.Fatal(err)
	}
	if frs := o.FileRanges(0, -1); frs != nil {
		t.Errorf("FileRanges = %v, want none: a %d-byte object is kept in the catalog", frs, size)
	}
	o.Close()
	for _, tc := range []struct {
		rng        string
		status     int
		start, end int // of data
	}{
		{"", http.StatusOK, 0, size},
		{fmt.Sprintf("bytes=%d-", size-sendfileMin-10), http.StatusPartialContent, size - sendfileMin - 10, size},
		{"bytes=100-199", http.StatusPartialContent, 100, 200},
	} {
		hdr := http.Header{}
		if tc.rng != "" {
			hdr.Set("Range", tc.rng)
		}
		resp, body := e.signedDo("GET", "/bkt/inline", nil, hdr)
		if resp.StatusCode != tc.status || !bytes.Equal(body, data[tc.start:tc.end]) {
			t.Errorf("GET Range %q: status %d, %d bytes; want %d, bytes %d-%d of the object", tc.rng, resp.StatusCode, len(body), tc.status, tc.start, tc.end)
		}
	}
}
