package jsonapi

import (
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
