package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1KiB", 1024, true},
		{"100KiB", 100 << 10, true},
		{"100MiB", 100 << 20, true},
		{"512B", 512, true},
		{"77", 77, true},
		{"0KiB", 0, false},
		{"-1B", 0, false},
		{"KiB", 0, false},
		{"index.html", 0, false},
		{"99999999999GiB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func get(t *testing.T, url, rng string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestOriginServesRangesAndCounts(t *testing.T) {
	o := newOrigin(1 << 20)
	srv := httptest.NewServer(o)
	defer srv.Close()

	resp := get(t, srv.URL+"/a/100KiB", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 100<<10 {
		t.Fatalf("full GET: got %d with %d bytes, want 200 with %d", resp.StatusCode, len(body), 100<<10)
	}
	if !bytes.Equal(body, o.data[:100<<10]) {
		t.Errorf("full GET: body differs from the object's bytes")
	}
	for _, h := range []string{"ETag", "Last-Modified", "Cache-Control"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("full GET: no %s header", h)
		}
	}

	resp = get(t, srv.URL+"/a/b/100KiB", "bytes=1000-1999")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(body, o.data[1000:2000]) {
		t.Errorf("range GET: got %d with %d bytes, want 206 with bytes 1000-1999", resp.StatusCode, len(body))
	}

	resp = get(t, srv.URL+"/__stats?prefix=/a/", "")
	stats, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := strings.TrimSpace(string(stats)), "requests=2 range_requests=1 bytes=103400"; got != want {
		t.Errorf("stats of /a/: got %q, want %q", got, want)
	}
	resp = get(t, srv.URL+"/__stats?prefix=/a/b/", "")
	stats, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if got, want := strings.TrimSpace(string(stats)), "requests=1 range_requests=1 bytes=1000"; got != want {
		t.Errorf("stats of /a/b/: got %q, want %q", got, want)
	}
}

func TestOriginRefusesUnknownPaths(t *testing.T) {
	srv := httptest.NewServer(newOrigin(1 << 10))
	defer srv.Close()
	for _, path := range []string{"/index.html", "/x/2KiB"} {
		resp := get(t, srv.URL+path, "")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: got %d, want 404", path, resp.StatusCode)
		}
	}
}
