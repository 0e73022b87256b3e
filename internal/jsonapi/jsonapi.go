// Package jsonapi holds what Strata's JSON admin endpoints share: reading
// a request body strictly and writing an answer. It is pure: it reads and
// writes only the request and response it is given.
package jsonapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MaxWait bounds the ?wait= of a status endpoint.
const MaxWait = 60 * time.Second

// Error is the body of an error answer: {"error": "what went wrong"}.
type Error struct {
	Error string `json:"error"`
}

// Decode reads r's JSON body, at most maxBody bytes, into v. Unknown
// fields, a second JSON value and a Content-Type other than JSON are
// refused; on any problem it answers 400 or 415 itself, with an Error
// that says what is wrong, and returns false.
func Decode(w http.ResponseWriter, r *http.Request, v any, maxBody int64) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		Write(w, http.StatusUnsupportedMediaType, Error{Error: "send the request as Content-Type: application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		Write(w, http.StatusBadRequest, Error{Error: "request body: " + err.Error()})
		return false
	}
	if dec.More() {
		Write(w, http.StatusBadRequest, Error{Error: "request body: more than one JSON value"})
		return false
	}
	return true
}

// Write answers with status code and v as indented JSON, never cached.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Wait serves a status endpoint's ?wait=DURATION: when the query has one,
// it calls wait with a context that ends after that long (at most
// MaxWait) or when the client leaves, and returns after it. A malformed
// duration is answered with 400 here, and Wait returns false.
func Wait(w http.ResponseWriter, r *http.Request, wait func(ctx context.Context)) bool {
	ws := r.URL.Query().Get("wait")
	if ws == "" {
		return true
	}
	d, err := time.ParseDuration(ws)
	if err != nil || d < 0 {
		Write(w, http.StatusBadRequest, Error{Error: fmt.Sprintf("wait=%q: want a duration like 10s", ws)})
		return false
	}
	ctx, cancel := context.WithTimeout(r.Context(), min(d, MaxWait))
	defer cancel()
	wait(ctx)
	return true
}
