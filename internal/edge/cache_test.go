package edge

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a manual clock for Handler.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func withClock(c *clock) edgeOption { return func(h *Handler) { h.Now = c.now } }

func TestNoStoreAndPrivateAreNotCached(t *testing.T) {
	for _, cc := range []string{"no-store", "private"} {
		t.Run(cc, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", cc)
				fmt.Fprint(w, "secret")
			})
			e := newEdge(t, o.URL)
			for i := 0; i < 2; i++ {
				resp, body := e.get("/x")
				if got, want := xcache(resp), "MISS reason="+cc; got != want || string(body) != "secret" {
					t.Errorf("request %d: X-Cache %q body %q, want %q and the body", i, got, body, want)
				}
			}
			if n := o.gets.Load(); n != 2 {
				t.Errorf("origin GETs = %d, want 2", n)
			}
		})
	}
}

func TestRevalidationUpdatesStoredHeaders(t *testing.T) {
	var version = "1"
	var mu sync.Mutex
	c := &clock{t: time.Now()}
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		v := version
		mu.Unlock()
		w.Header().Set("X-Version", v)
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Date", c.now().UTC().Format(http.TimeFormat))
		w.Header().Set("Etag", `"e1"`)
		if r.Header.Get("If-None-Match") == `"e1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fmt.Fprint(w, "body-1")
	})
	e := newEdge(t, o.URL, withClock(c))
	e.get("/r")
	e.waitFill()
	if resp, _ := e.get("/r"); xcache(resp) != "HIT" {
		t.Fatalf("X-Cache = %q, want HIT while fresh", xcache(resp))
	}
	c.add(20 * time.Second)
	mu.Lock()
	version = "2"
	mu.Unlock()
	resp, body := e.get("/r")
	if xcache(resp) != "REVALIDATED" || string(body) != "body-1" || resp.Header.Get("X-Version") != "2" {
		t.Fatalf("stale: X-Cache %q body %q X-Version %q; want REVALIDATED, body-1, 2 (the 304's header)", xcache(resp), body, resp.Header.Get("X-Version"))
	}
	e.waitFill()
	resp, _ = e.get("/r")
	if xcache(resp) != "HIT" || resp.Header.Get("X-Version") != "2" {
		t.Errorf("after 304: X-Cache %q X-Version %q; want HIT with the updated header", xcache(resp), resp.Header.Get("X-Version"))
	}
	reqs := o.requests()
	if len(reqs) != 2 || reqs[1].Header.Get("If-None-Match") != `"e1"` {
		t.Errorf("origin requests = %d (second If-None-Match %q), want 2 with If-None-Match \"e1\"", len(reqs), reqs[len(reqs)-1].Header.Get("If-None-Match"))
	}
}

func TestExpiredRefetchedAndStaleWhileRevalidate(t *testing.T) {
	var n int
	var mu sync.Mutex
	c := &clock{t: time.Now()}
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		v := n
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=10, stale-while-revalidate=100")
		w.Header().Set("Date", c.now().UTC().Format(http.TimeFormat))
		fmt.Fprintf(w, "v%d", v)
	})
	e := newEdge(t, o.URL, withClock(c))
	e.get("/s")
	e.waitFill()
	c.add(50 * time.Second)
	resp, body := e.get("/s")
	if xcache(resp) != "STALE reason=stale-while-revalidate" || string(body) != "v1" {
		t.Fatalf("within swr: X-Cache %q body %q, want STALE reason=stale-while-revalidate, v1", xcache(resp), body)
	}
	e.waitFill() // the background revalidation
	resp, body = e.get("/s")
	if xcache(resp) != "HIT" || string(body) != "v2" {
		t.Fatalf("after background revalidation: X-Cache %q body %q, want HIT v2", xcache(resp), body)
	}
	c.add(500 * time.Second)
	resp, body = e.get("/s")
	if xcache(resp) != "MISS reason=expired" || string(body) != "v3" {
		t.Errorf("long expired: X-Cache %q body %q, want MISS reason=expired v3", xcache(resp), body)
	}
}

func TestStaleIfError(t *testing.T) {
	var fail bool
	var mu sync.Mutex
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		f := fail
		mu.Unlock()
		if f {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Cache-Control", "max-age=10, stale-if-error=600")
		fmt.Fprint(w, "good")
	})
	c := &clock{t: time.Now()}
	e := newEdge(t, o.URL, withClock(c))
	e.get("/e")
	e.waitFill()
	mu.Lock()
	fail = true
	mu.Unlock()
	c.add(30 * time.Second)
	resp, body := e.get("/e")
	if resp.StatusCode != 200 || string(body) != "good" || xcache(resp) != "STALE reason=origin-error" {
		t.Errorf("status %d body %q X-Cache %q; want 200 good STALE reason=origin-error", resp.StatusCode, body, xcache(resp))
	}
}

func TestVaryCookie_C17(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rules      []CacheRule
		secondWant string
		fetches    int64
	}{
		{"vary honoured", nil, "MISS reason=vary-cookie", 2},
		{"ignore_vary Cookie", []CacheRule{{PathPrefix: "/static/", Extensions: []string{".js"}, TTL: 90 * 24 * time.Hour, IgnoreVary: []string{"Cookie"}}}, "HIT", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Vary", "Cookie")
				w.Header().Set("Cache-Control", "max-age=600")
				fmt.Fprint(w, "app.js")
			})
			e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.Rules = tc.rules }))
			resp, _ := e.get("/static/app.js", "Cookie", "session=a")
			if xcache(resp) != "MISS reason=not-cached" {
				t.Errorf("first: X-Cache %q, want MISS reason=not-cached", xcache(resp))
			}
			e.waitFill()
			resp, _ = e.get("/static/app.js", "Cookie", "session=b")
			if xcache(resp) != tc.secondWant {
				t.Errorf("other cookie: X-Cache %q, want %q", xcache(resp), tc.secondWant)
			}
			if tc.fetches == 2 {
				e.waitFill()
			}
			resp, _ = e.get("/static/app.js", "Cookie", "session=a")
			if xcache(resp) != "HIT" {
				t.Errorf("first cookie again: X-Cache %q, want HIT", xcache(resp))
			}
			if n := o.gets.Load(); n != tc.fetches {
				t.Errorf("origin GETs = %d, want %d", n, tc.fetches)
			}
		})
	}
}

func TestUnsafeMethodInvalidates(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			b, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "posted %s", b)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "doc")
	})
	e := newEdge(t, o.URL)
	e.get("/doc")
	e.waitFill()
	if resp, _ := e.get("/doc"); xcache(resp) != "HIT" {
		t.Fatalf("X-Cache %q, want HIT", xcache(resp))
	}
	resp, err := e.srv.Client().Post(e.srv.URL+"/doc", "text/plain", strings.NewReader("data"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "posted data" || xcache(resp) != "MISS reason=method" {
		t.Errorf("POST: body %q X-Cache %q, want posted data, MISS reason=method", b, xcache(resp))
	}
	if resp, _ := e.get("/doc"); xcache(resp) != "MISS reason=not-cached" {
		t.Errorf("after POST: X-Cache %q, want MISS reason=not-cached (invalidated, RFC 9111 §4.4)", xcache(resp))
	}
}

// TestOriginConnectionCloseKeepsClientConnection_C19: an origin that
// answers every request with Connection: close and hangs up must not close
// the client's keep-alive connection.
func TestOriginConnectionCloseKeepsClientConnection_C19(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				body := "path " + req.URL.Path
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			}(c)
		}
	}()
	e := newEdge(t, "http://"+ln.Addr().String())
	if curl, err := exec.LookPath("curl"); err == nil {
		// curl reuses its connection for several URLs and says so.
		out, err := exec.Command(curl, "-sv", e.srv.URL+"/a", e.srv.URL+"/b", e.srv.URL+"/c").CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), "Re-using existing connection"); n != 2 {
			t.Errorf("curl reused its connection %d times for 3 URLs, want 2:\n%s", n, out)
		}
		if strings.Contains(string(out), "< Connection: close") {
			t.Errorf("the edge sent Connection: close:\n%s", out)
		}
	}
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := 0; i < 3; i++ {
		fmt.Fprintf(conn, "GET /r%d HTTP/1.1\r\nHost: www.example.test\r\n\r\n", i)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on the same connection: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != fmt.Sprintf("path /r%d", i) {
			t.Errorf("request %d: body %q", i, b)
		}
		if resp.Close || resp.Header.Get("Connection") != "" {
			t.Errorf("request %d: response closes the client connection (Connection %q)", i, resp.Header.Get("Connection"))
		}
	}
}

// TestClientHangupStillCaches_C09: a client that hangs up mid-download
// does not stop the fill; the object lands in the cache.
func TestClientHangupStillCaches_C09(t *testing.T) {
	body := randomBytes(1<<20, 9)
	hungUp := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:256<<10])
		w.(http.Flusher).Flush()
		<-hungUp
		w.Write(body[256<<10:])
	})
	e := newEdge(t, o.URL)
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /big.zip HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99999\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	close(hungUp)
	e.waitFill()
	resp2, got := e.get("/big.zip")
	if xcache(resp2) != "HIT" || !bytes.Equal(got, body) {
		t.Errorf("after hang-up: X-Cache %q, body equal %v; want HIT with the whole object", xcache(resp2), bytes.Equal(got, body))
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

func TestRestartKeepsCache(t *testing.T) {
	body := randomBytes(200<<10, 4)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"r1"`, "max-age=600")
	})
	dir := t.TempDir()
	e := newEdgeAt(t, dir, o.URL)
	e.get("/keep")
	e.waitFill()
	e.close()
	e2 := newEdgeAt(t, dir, o.URL)
	resp, got := e2.get("/keep")
	if xcache(resp) != "HIT" || !bytes.Equal(got, body) {
		t.Errorf("after restart: X-Cache %q, body equal %v; want HIT", xcache(resp), bytes.Equal(got, body))
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

func TestCorruptDiskEntryIsRefetched(t *testing.T) {
	// Up to the store's MemoryEntryMax (4 MiB here) Get verifies an entry
	// whole, so the corrupt entry is a plain miss; a larger one is verified
	// block by block while it is sent, so that response is cut (never
	// wrong) and the next request is the miss.
	for _, size := range []int{100 << 10, 3 << 20, 6 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			body := randomBytes(size, 5)
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				serveObject(w, r, body, `"c1"`, "max-age=600")
			})
			dir := t.TempDir()
			e := newEdgeAt(t, dir, o.URL)
			e.get("/c")
			e.waitFill()
			e.close()
			corruptLargestFile(t, dir)
			e2 := newEdgeAt(t, dir, o.URL)
			if size > 4<<20 {
				resp, err := e2.srv.Client().Get(e2.srv.URL + "/c")
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil {
					t.Fatalf("a corrupt large entry was served whole (%d bytes, equal %v); want the response cut", len(got), bytes.Equal(got, body))
				}
			}
			resp, got := e2.get("/c")
			if !bytes.Equal(got, body) || !strings.HasPrefix(xcache(resp), "MISS") {
				t.Errorf("corrupt entry: X-Cache %q, body equal %v; want a MISS with the right body", xcache(resp), bytes.Equal(got, body))
			}
			if n := o.gets.Load(); n != 2 {
				t.Errorf("origin GETs = %d, want 2", n)
			}
		})
	}
}

// corruptLargestFile flips a byte in the middle of the largest file under
// dir: the cached body.
func corruptLargestFile(t *testing.T, dir string) {
	t.Helper()
	var path string
	var size int64
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Size() > size {
			path, size = p, fi.Size()
		}
		return nil
	})
	if path == "" {
		t.Fatal("no cache file on disk")
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	f.ReadAt(b, size/2)
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, size/2); err != nil {
		t.Fatal(err)
	}
}
