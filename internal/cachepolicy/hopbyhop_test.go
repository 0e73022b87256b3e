package cachepolicy

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHopByHopFields(t *testing.T) {
	h := hdr("Connection", "close, x-trace ,Keep-Alive", "Connection", "upgrade, bad field")
	got := HopByHopFields(h)
	want := append(append([]string(nil), hopByHop...), "Close", "X-Trace")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HopByHopFields mismatch (-want +got):\n%s", diff)
	}
	for name, want := range map[string]bool{"connection": true, "TRANSFER-ENCODING": true, "te": true,
		"Upgrade": true, "Proxy-Connection": true, "Content-Length": false, "Cache-Control": false} {
		if got := IsHopByHop(name); got != want {
			t.Errorf("IsHopByHop(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRemoveHopByHopConnectionClose_C19(t *testing.T) {
	// C19: the origin's Connection: close must not travel to the client.
	h := hdr("Connection", "close", "Content-Type", "text/plain", "Keep-Alive", "timeout=1",
		"Transfer-Encoding", "chunked", "Upgrade", "h2c", "Te", "trailers", "Trailer", "X-T",
		"Proxy-Authenticate", "Basic", "Cache-Control", "max-age=1")
	RemoveHopByHop(h)
	want := http.Header{"Content-Type": {"text/plain"}, "Cache-Control": {"max-age=1"}}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("RemoveHopByHop mismatch (-want +got):\n%s", diff)
	}
}
