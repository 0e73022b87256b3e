package jsonapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	type req struct {
		URLs []string `json:"urls"`
	}
	tests := []struct {
		name, ctype, body string
		ok                bool
		status            int
		says              string
	}{
		{"good", "application/json", `{"urls":["a"]}`, true, 0, ""},
		{"no content type", "", `{"urls":[]}`, true, 0, ""},
		{"form", "application/x-www-form-urlencoded", `urls=a`, false, 415, "Content-Type: application/json"},
		{"unknown field", "application/json", `{"url":"a"}`, false, 400, `unknown field \"url\"`},
		{"two values", "application/json", `{} {}`, false, 400, "more than one JSON value"},
		{"too large", "application/json", `{"urls":["` + strings.Repeat("a", 200) + `"]}`, false, 400, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			w := httptest.NewRecorder()
			var v req
			if got := Decode(w, r, &v, 100); got != tt.ok {
				t.Fatalf("Decode = %v, want %v (answer %d %s)", got, tt.ok, w.Code, w.Body)
			}
			if tt.ok {
				return
			}
			if w.Code != tt.status || !strings.Contains(w.Body.String(), tt.says) {
				t.Errorf("answer %d %s; want %d saying %q", w.Code, w.Body, tt.status, tt.says)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("answer header %v", w.Header())
			}
		})
	}
}

func TestWait(t *testing.T) {
	tests := []struct {
		query  string
		ok     bool
		waited bool
	}{
		{"", true, false},
		{"?wait=10ms", true, true},
		{"?wait=ten", false, false},
		{"?wait=-1s", false, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/t/1"+tt.query, nil)
		w := httptest.NewRecorder()
		waited := false
		ok := Wait(w, r, func(ctx context.Context) {
			waited = true
			if _, has := ctx.Deadline(); !has {
				t.Errorf("%q: wait's context has no deadline", tt.query)
			}
		})
		if ok != tt.ok || waited != tt.waited {
			t.Errorf("%q: Wait = %v, waited %v; want %v, %v", tt.query, ok, waited, tt.ok, tt.waited)
		}
		if !ok && (w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "want a duration like 10s")) {
			t.Errorf("%q: answer %d %s; want 400 naming the duration", tt.query, w.Code, w.Body)
		}
	}
}
