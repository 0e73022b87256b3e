package s3api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/strata-cdn/strata/internal/objstore"
)

// readFromSpy wraps a ResponseWriter and counts the bytes that reach it
// through ReadFrom, which is how net/http's response writer gets file data
// to sendfile(2).
type readFromSpy struct {
	http.ResponseWriter
	viaReadFrom *atomic.Int64
}

func (w readFromSpy) ReadFrom(r io.Reader) (int64, error) {
	n, err := w.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
	w.viaReadFrom.Add(n)
	return n, err
}

func (w readFromSpy) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TestSendObjectFromFiles GETs whole objects and ranges of a multipart
// object, within one part, across part boundaries and over all parts, and
// checks the bytes, the Content-Length, the byte count in the request log,
// and that bodies from sendfileMin on reach the connection through
// ReadFrom (the sendfile path) while smaller ones are written.
func TestSendObjectFromFiles(t *testing.T) {
	sink := newLogSink()
	e := newEnv(t, func(c *envConfig) { c.h.Logger = slog.New(sink) })
	var viaReadFrom atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.h.ServeHTTP(readFromSpy{w, &viaReadFrom}, r)
	}))
	defer srv.Close()

	ctx := context.Background()
	e.bucket("pub")
	if err := e.store.SetBucketPublicRead(ctx, "pub", true); err != nil {
		t.Fatal(err)
	}
	data := payload(testMinPart*2 + 70000)
	cuts := []int{0, testMinPart, 2 * testMinPart, len(data)}
	id, err := e.store.CreateMultipartUpload(ctx, "pub", "mp", objstore.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	var parts []objstore.CompletePart
	for i := range 3 {
		p, err := e.store.UploadPart(ctx, "pub", "mp", id, i+1, bytes.NewReader(data[cuts[i]:cuts[i+1]]), objstore.PutOptions{Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, objstore.CompletePart{PartNumber: i + 1, ETag: p.ETag})
	}
	if _, err := e.store.CompleteMultipartUpload(ctx, "pub", "mp", id, parts); err != nil {
		t.Fatal(err)
	}
	e.put("pub", "single", data, objstore.Meta{})
	large := payload(sendfileMax + 1000)
	e.put("pub", "large", large, objstore.Meta{})

	last := len(data) - 1
	tests := []struct {
		key, rng   string
		start, end int // the bytes expected, end inclusive
	}{
		{"mp", "", 0, last},
		{"single", "", 0, last},
		{"mp", "bytes=10-99999", 10, 99999}, // parts 1 and 2
		{"mp", fmt.Sprintf("bytes=%d-", testMinPart-5), testMinPart - 5, last},                           // all three parts from the end of part 1
		{"mp", fmt.Sprintf("bytes=%d-%d", testMinPart, 2*testMinPart-1), testMinPart, 2*testMinPart - 1}, // exactly part 2
		{"mp", "bytes=-70001", len(data) - 70001, last},                                                  // part 2's last byte, all of part 3
		{"single", "bytes=1-100000", 1, 100000},
		{"mp", fmt.Sprintf("bytes=%d-%d", testMinPart-50, testMinPart+49), testMinPart - 50, testMinPart + 49}, // small, across a boundary
		{"large", "", 0, len(large) - 1},                                                                       // above sendfileMax: copied
		{"large", "bytes=1000-", 1000, len(large) - 1},                                                         // exactly sendfileMax
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.rng, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/pub/"+tt.key, nil)
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			before := viaReadFrom.Load()
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			src := data
			if tt.key == "large" {
				src = large
			}
			want := src[tt.start : tt.end+1]
			if !bytes.Equal(body, want) {
				t.Fatalf("status %d, %d bytes that differ from the %d bytes %d-%d", resp.StatusCode, len(body), len(want), tt.start, tt.end)
			}
			if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(want)) {
				t.Errorf("Content-Length = %s, want %d", cl, len(want))
			}
			rec := sink.waitLog(t, "s3 request")
			if got := recordAttrs(rec)["bytes"]; got != strconv.Itoa(len(want)) {
				t.Errorf("request log says %s bytes, want %d", got, len(want))
			}
			sent := viaReadFrom.Load() - before
			viaSendfile := len(want) >= sendfileMin && len(want) <= sendfileMax
			if viaSendfile && sent != int64(len(want)) {
				t.Errorf("%d of %d bytes went through ReadFrom, want all", sent, len(want))
			}
			if !viaSendfile && sent != 0 {
				t.Errorf("%d bytes of a body outside the sendfile sizes went through ReadFrom, want none", sent)
			}
		})
	}
}

// TestSendObjectTLS serves a large object over TLS, where the connection
// has no ReadFrom and the response writer copies: the bytes must be the
// same.
func TestSendObjectTLS(t *testing.T) {
	e := newEnv(t, withTLS)
	e.bucket("bkt")
	data := payload(300000)
	e.put("bkt", "obj", data, objstore.Meta{})
	resp, body := e.signedDo("GET", "/bkt/obj", nil, http.Header{"Range": {"bytes=5-"}})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[5:]) {
		t.Errorf("status %d, %d bytes; want 206 with bytes 5- of the object", resp.StatusCode, len(body))
	}
}
