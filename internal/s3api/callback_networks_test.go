package s3api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// TestCallbackDeniedNetworks_C24: with the daemon's default deny list, a
// callback to this machine (by address or by a name that resolves to it)
// is refused before any connection is made: the object is stored, the
// uploader gets 203 CallbackFailed naming the address, the network and the
// setting that allows it, and the callback server sees nothing. Allowing
// the network lets the callback through.
func TestCallbackDeniedNetworks_C24(t *testing.T) {
	rec := newCallbackRecorder(t, false, jsonAnswer)
	port := rec.srv.URL[strings.LastIndex(rec.srv.URL, ":")+1:]
	tests := []struct {
		name    string
		allow   []netip.Prefix
		url     string
		allowed bool
	}{
		{"loopback address", nil, rec.srv.URL + "/n", false},
		{"name resolving to loopback", nil, "http://localhost:" + port + "/n", false},
		{"metadata address", nil, "http://169.254.169.254/latest/meta-data/", false},
		{"loopback allowed", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, rec.srv.URL + "/n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *envConfig) {
				c.h.Callback.Deny = DefaultCallbackDeny
				c.h.Callback.Allow = tt.allow
			})
			e.bucket("cbk")
			before := len(rec.calls())
			cb := callbackParamB64(t, map[string]any{"callbackUrl": tt.url, "callbackBody": "object=${object}"})
			resp, body := e.putWithCallback("cbk", "a.txt", []byte("data"), cb, "")
			if _, err := e.store.StatObject(context.Background(), "cbk", "a.txt"); err != nil {
				t.Fatalf("object not stored: %v", err)
			}
			if tt.allowed {
				if resp.StatusCode != http.StatusOK || len(rec.calls()) != before+1 {
					t.Errorf("status %d (%s), %d new calls; want 200 and one call", resp.StatusCode, body, len(rec.calls())-before)
				}
				return
			}
			if resp.StatusCode != 203 || !strings.Contains(string(body), "CallbackFailed") {
				t.Fatalf("status %d, body %s; want 203 CallbackFailed", resp.StatusCode, body)
			}
			for _, want := range []string{"s3.callback.deny_networks", "s3.callback.allow_networks", "is in "} {
				if !strings.Contains(string(body), want) {
					t.Errorf("body %s does not say %q", body, want)
				}
			}
			if strings.Contains(string(body), "attempts") {
				t.Errorf("a denied address was retried: %s", body)
			}
			if n := len(rec.calls()) - before; n != 0 {
				t.Errorf("callback server got %d calls, want none", n)
			}
		})
	}
}
