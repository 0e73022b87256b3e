package tlsstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/crypto/ocsp"
)

// refreshed returns an Options hook and a channel that receives the spec
// name after each recorded OCSP fetch.
func refreshed() (func(string), chan string) {
	ch := make(chan string, 16)
	return func(name string) { ch <- name }, ch
}

func waitFor(t *testing.T, ch <-chan string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatal("no OCSP refresh within 30s")
	}
}

// TestOCSPStapled_C05: the staple is fetched in the background from a real
// responder and sent in the handshake; Status says so.
func TestOCSPStapled_C05(t *testing.T) {
	p := newPKI(t)
	r := &responder{pki: p, validity: time.Hour, status: ocsp.Good}
	url := serve(t, r)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: url})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	hook, ch := refreshed()
	st := load(t, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots, afterRefresh: hook})
	waitFor(t, ch)
	cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.OCSPResponse) == 0 {
		t.Fatal("handshake carried no OCSP staple")
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf, p.inter)
	if err != nil || resp.Status != ocsp.Good {
		t.Errorf("staple: %v, status %v; want a good response for the leaf", err, resp)
	}
	o := st.Status()[0].OCSP
	if o.Status != StatusGood || !o.Stapled || o.URL != url || o.Fetches != 1 || o.NextUpdate.IsZero() {
		t.Errorf("Status().OCSP = %+v, want good, stapled, 1 fetch from %s", o, url)
	}
}

// TestOCSPHangingResponder_C05: while the responder hangs, a handshake
// completes at once, without a staple; Close does not wait for the
// responder.
func TestOCSPHangingResponder_C05(t *testing.T) {
	p := newPKI(t)
	r := &responder{pki: p, hang: make(chan struct{}), received: make(chan struct{}, 1)}
	url := serve(t, r)
	t.Cleanup(func() { close(r.hang) }) // runs before the server closes
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: url})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	st, err := Load(context.Background(), []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}},
		Options{Roots: p.roots, FetchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.received:
	case <-time.After(30 * time.Second):
		t.Fatal("the store did not ask the responder")
	}
	addr := serveTLS(t, st, nil)
	done := make(chan error, 1)
	go func() {
		cs, err := handshake(t, addr, "a.example.test", p.roots)
		if err == nil && len(cs.OCSPResponse) > 0 {
			t.Error("a staple was sent although the responder never answered")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("handshake blocked on the hanging OCSP responder (case C05)")
	}
	if o := st.Status()[0].OCSP; o.Status != StatusPending || o.Stapled {
		t.Errorf("Status().OCSP = %+v, want pending, not stapled", o)
	}
	closed := make(chan struct{})
	go func() { st.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waited for the hanging responder")
	}
}

// TestNoOCSPURL_C05: a certificate naming no responder loads, is served
// without a staple, and reports status none.
func TestNoOCSPURL_C05(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	st := load(t, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots})
	cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.OCSPResponse) != 0 {
		t.Error("a staple was sent for a certificate without an OCSP URL")
	}
	if o := st.Status()[0].OCSP; o.Status != StatusNone || o.URL != "" || o.Stapled {
		t.Errorf("Status().OCSP = %+v, want none", o)
	}
}

// TestOCSPNotStapled: revoked and unknown answers are reported, never
// stapled; a responder error is reported with the next retry.
func TestOCSPNotStapled(t *testing.T) {
	for _, tt := range []struct {
		name   string
		h      func(p *testPKI) http.Handler
		status string
	}{
		{"revoked", func(p *testPKI) http.Handler { return &responder{pki: p, validity: time.Hour, status: ocsp.Revoked} }, StatusRevoked},
		{"unknown", func(p *testPKI) http.Handler { return &responder{pki: p, validity: time.Hour, status: ocsp.Unknown} }, StatusUnknown},
		{"500", func(*testPKI) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
		}, StatusError},
		{"expired", func(p *testPKI) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: mustSerial(r), ThisUpdate: time.Now().Add(-2 * time.Hour), NextUpdate: time.Now().Add(-time.Hour)}
				der, _ := ocsp.CreateResponse(p.inter, p.inter, tmpl, p.interKey)
				w.Write(der)
			})
		}, StatusError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPKI(t)
			url := serve(t, tt.h(p))
			leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: url})
			cf, kf := writeFiles(t, key, leaf, p.inter)
			hook, ch := refreshed()
			st := load(t, []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}}, Options{Roots: p.roots, afterRefresh: hook})
			waitFor(t, ch)
			cs, err := handshake(t, serveTLS(t, st, nil), "a.example.test", p.roots)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs.OCSPResponse) != 0 {
				t.Errorf("stapled a %s response", tt.name)
			}
			o := st.Status()[0].OCSP
			if o.Status != tt.status || o.Stapled {
				t.Errorf("Status().OCSP = %+v, want status %s, not stapled", o, tt.status)
			}
			if tt.status == StatusError && (o.LastError == "" || o.Failures != 1 || o.NextFetch.IsZero()) {
				t.Errorf("Status().OCSP = %+v, want last_error, 1 failure, next_fetch", o)
			}
		})
	}
}

func mustSerial(r *http.Request) *big.Int {
	var b bytes.Buffer
	b.ReadFrom(r.Body)
	req, err := ocsp.ParseRequest(b.Bytes())
	if err != nil {
		return nil
	}
	return req.SerialNumber
}

// memTransport serves requests with a handler in memory, so a synctest
// bubble holds no sockets and its fake clock can advance.
type memTransport struct{ h http.Handler }

func (m memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	m.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestOCSPRefreshBeforeNextUpdate_C05: a staple valid for an hour is
// refreshed halfway through, so a handshake always finds a current one;
// when every refresh fails, the staple is dropped at NextUpdate rather
// than served expired.
func TestOCSPRefreshBeforeNextUpdate_C05(t *testing.T) {
	p := newPKI(t)
	leaf, key := p.leaf(t, leafOpts{hosts: []string{"a.example.test"}, ocspURL: "http://ocsp.example.test"})
	cf, kf := writeFiles(t, key, leaf, p.inter)
	synctest.Test(t, func(t *testing.T) {
		r := &responder{pki: p, validity: time.Hour, status: ocsp.Good}
		var fail atomic.Bool
		h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if fail.Load() {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			r.ServeHTTP(w, req)
		})
		st, err := Load(context.Background(), []Spec{{Name: "d.tls", Hosts: []string{"a.example.test"}, CertFile: cf, KeyFile: kf}},
			Options{Roots: p.roots, Client: &http.Client{Transport: memTransport{h}}})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		hello := &tls.ClientHelloInfo{ServerName: "a.example.test"}
		staple := func() *ocsp.Response {
			c, _ := st.GetCertificate(hello)
			if len(c.OCSPStaple) == 0 {
				return nil
			}
			resp, err := ocsp.ParseResponse(c.OCSPStaple, p.inter)
			if err != nil {
				t.Fatalf("staple: %v", err)
			}
			return resp
		}
		synctest.Wait()
		first := staple()
		if first == nil || r.count() != 1 {
			t.Fatalf("after start: staple %v, %d fetches; want a staple from 1 fetch", first, r.count())
		}
		time.Sleep(29 * time.Minute)
		synctest.Wait()
		if r.count() != 1 {
			t.Errorf("after 29m: %d fetches, want 1 (refresh is due at 30m)", r.count())
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		second := staple()
		if r.count() != 2 || second == nil || !second.ThisUpdate.After(first.ThisUpdate) {
			var got time.Time
			if second != nil {
				got = second.ThisUpdate
			}
			t.Fatalf("after 31m: %d fetches, staple thisUpdate %v (first %v); want a newer staple from 2 fetches", r.count(), got, first.ThisUpdate)
		}
		if !time.Now().Before(first.NextUpdate) {
			t.Errorf("refreshed at %v, not before the first staple's NextUpdate %v", time.Now(), first.NextUpdate)
		}

		// From now on the responder fails: retries back off, the staple
		// stays until its NextUpdate, then handshakes go on without one.
		fail.Store(true)
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		if o := st.Status()[0].OCSP; o.Failures == 0 || !o.Stapled || o.Status != StatusGood || o.LastError == "" {
			t.Errorf("after a failed refresh: %+v, want failures, still stapled and good, last_error set", o)
		}
		time.Sleep(time.Until(second.NextUpdate))
		synctest.Wait()
		if s := staple(); s != nil {
			t.Errorf("at NextUpdate %v the expired staple is still served", second.NextUpdate)
		}
		if o := st.Status()[0].OCSP; o.Stapled {
			t.Errorf("Status says stapled after NextUpdate: %+v", o)
		}
	})
}
