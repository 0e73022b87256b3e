package diag

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// wsBackend completes WebSocket handshakes; a plain GET gets plainStatus,
// as the C02 origin answered 500 to a handshake whose Upgrade was lost.
func wsBackend(plainStatus int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "websocket: upgrade token not found", plainStatus)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijack", http.StatusInternalServerError)
			return
		}
		c, brw, err := hj.Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			wsAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		brw.Flush()
	}
}

// stripUpgrade is a proxy on the client's network that drops Upgrade.
func stripUpgrade(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Upgrade")
		r.Header.Del("Connection")
		next.ServeHTTP(w, r)
	})
}

func TestWebSocket_C02(t *testing.T) {
	for _, tc := range []struct {
		name  string
		h     http.Handler
		id    string
		level Level
	}{
		{"direct", wsBackend(http.StatusInternalServerError), "websocket.ok", OK},
		{"stripped-500", stripUpgrade(wsBackend(http.StatusInternalServerError)), "websocket.failed", Warn},
		{"stripped-426", stripUpgrade(wsBackend(http.StatusUpgradeRequired)), "websocket.upgrade-stripped", Bad},
		{"stripped-400", stripUpgrade(wsBackend(http.StatusBadRequest)), "websocket.upgrade-stripped", Bad},
		{"plain-file", wellBehaved(), "websocket.not-offered", Info},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			rep := run(t, Options{URL: srv.URL + "/ws"}, "websocket")
			want(t, rep, tc.id, "C02", tc.level)
		})
	}
	if got, want := wsAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want { // RFC 6455 §1.3
		t.Errorf("wsAccept(RFC 6455 sample) = %q, want %q", got, want)
	}
}
