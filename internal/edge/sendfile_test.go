package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLargeDiskHitSentFromFile checks that a large object held on the disk
// tier, and ranges of it, are served byte-exact on the zero-copy path
// (sendfile.go), including ranges that start and end inside a block and
// span several send chunks.
func TestLargeDiskHitSentFromFile(t *testing.T) {
	const size = 8 << 20 // over the store's 4 MiB MemoryEntryMax: on disk
	body := randomBytes(size, 11)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"zc1"`, "max-age=600")
	})
	e := newEdge(t, o.URL)
	if _, got := e.get("/big"); !bytes.Equal(got, body) {
		t.Fatalf("the fill's response differs from the origin's body")
	}
	e.waitFill()

	for _, tc := range []struct {
		rng        string
		start, end int // inclusive end; -1: whole body
	}{
		{"", 0, -1},
		{"bytes=0-", 0, size - 1},
		{"bytes=100-200", 100, 200},
		{"bytes=65535-65536", 65535, 65536},
		{"bytes=1000000-3999999", 1000000, 3999999},
		{"bytes=-70000", size - 70000, size - 1},
		{"bytes=262143-786433", 262143, 786433},
	} {
		t.Run(fmt.Sprintf("range %q", tc.rng), func(t *testing.T) {
			before := sentFromFile.Load()
			var hdr []string
			want, wantStatus := body, http.StatusOK
			if tc.rng != "" {
				hdr = []string{"Range", tc.rng}
				want, wantStatus = body[tc.start:tc.end+1], http.StatusPartialContent
			}
			resp, got := e.get("/big", hdr...)
			if resp.StatusCode != wantStatus || !strings.HasPrefix(xcache(resp), "HIT") {
				t.Errorf("status %d, X-Cache %q; want %d and a HIT", resp.StatusCode, xcache(resp), wantStatus)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, want %d (byte-exact: %v)", len(got), len(want), bytes.Equal(got, want))
			}
			if len(want) >= zeroCopyMin {
				if sent := sentFromFile.Load() - before; sent < int64(len(want)) {
					t.Errorf("%d bytes sent from the file, want at least %d: the zero-copy path was not taken", sent, len(want))
				}
			}
		})
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

// TestSendFileClientWriteTimeout_C22: on the zero-copy path a client that
// stops reading is still cut after the write timeout, as on the copy path.
func TestSendFileClientWriteTimeout_C22(t *testing.T) {
	body := bytes.Repeat([]byte("s"), 32<<20) // more than the sockets buffer
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"zc2"`, "max-age=600")
	})
	var logs syncBuffer
	e := newEdge(t, o.URL, withLog(&logs), withDomain(func(d *Domain) {
		d.Timeouts.ClientWrite = 150 * time.Millisecond
	}))
	if _, got := e.get("/stall"); !bytes.Equal(got, body) {
		t.Fatal("the fill's response differs from the origin's body")
	}
	e.waitFill()
	before := sentFromFile.Load()
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	io.WriteString(conn, "GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
	waitLog(t, &logs, "timeout=client-write")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if n == int64(len(body)) && err == nil {
		t.Errorf("read all %d bytes; want the response cut", n)
	}
	if !strings.HasPrefix(xcache(resp), "HIT") || sentFromFile.Load() == before {
		t.Errorf("X-Cache %q, %d bytes sent from the file; want a HIT on the zero-copy path", xcache(resp), sentFromFile.Load()-before)
	}
}
