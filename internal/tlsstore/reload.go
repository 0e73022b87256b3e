package tlsstore

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"
)

// Update is a certificate set that passed every check of Load and is ready
// to be served. Nothing changes until Apply; an Update that is never
// applied holds no goroutine and needs no clean-up.
type Update struct {
	s     *Store
	binds []binding
	// Fresh counts the certificates loaded from changed or new files; Kept
	// counts those whose files are unchanged, which keep their staples.
	Fresh, Kept int
}

// Applied says what Update.Apply changed.
type Applied struct {
	// Certificates is how many specs the served set now has.
	Certificates int
	// Loaded names the specs whose certificate is new (new or changed
	// files); their staples are fetched in the background.
	Loaded []string
	// Dropped counts the certificates no longer served; their OCSP
	// refreshers have stopped.
	Dropped int
}

// Prepare reads and checks specs exactly as Load does, without changing
// what is served: it is the first half of a reload (Update.Apply is the
// second), so a caller can validate everything it reloads before applying
// any of it. roots are the trust anchors for the new set (nil: the system
// roots). A spec whose certificate and key files are byte-for-byte those of
// a certificate already served, with the same complete_chain, reuses it
// and its cached OCSP staple after the same checks (validity, hosts, chain
// against roots). The error names each spec that failed, its file and the
// problem, as Load's does. ctx bounds issuer fetches.
func (s *Store) Prepare(ctx context.Context, specs []Spec, roots *x509.CertPool) (*Update, error) {
	if len(specs) == 0 {
		return nil, errors.New("tlsstore: no certificates to load")
	}
	s.mu.Lock()
	live := maps.Clone(s.live)
	s.mu.Unlock()
	u := &Update{s: s}
	loaded := map[string]*entry{} // by content key, this update's own
	now := time.Now()
	var errs []error
	for _, sp := range specs {
		certPEM, keyPEM, keyFile, err := readSpec(sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		key := contentKey(sp, certPEM, keyPEM)
		e := loaded[key]
		if e == nil {
			e = live[key]
			if e != nil {
				u.Kept++
			}
		}
		if e != nil {
			if err := checkLeaf(sp, e.leaf, now); err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := verify(roots, e.leaf, e.inters, now); err == nil {
				loaded[key] = e
				u.binds = append(u.binds, binding{spec: sp, e: e})
				continue
			}
			// The served chain no longer verifies (the roots changed):
			// load it afresh, which explains why or completes it.
			if live[key] == e {
				u.Kept--
			}
		}
		e, err = s.load(ctx, sp, certPEM, keyPEM, keyFile, roots, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.key = key
		loaded[key] = e
		u.Fresh++
		u.binds = append(u.binds, binding{spec: sp, e: e})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return u, nil
}

// Apply makes u the served set, atomically: a handshake that starts after
// it gets the new certificates, connections already established keep
// theirs (TLS never re-reads a certificate), and none is closed. It starts
// the OCSP refreshers of new certificates (in the background: the first
// handshakes go without a staple, C05) and stops those of certificates no
// longer served, waiting for them to return. Applying an Update twice, or
// an Update prepared before another one was applied, is safe: the last
// Apply wins and every refresher belongs to a served certificate.
func (u *Update) Apply() Applied {
	s := u.s
	s.mu.Lock()
	defer s.mu.Unlock()
	binds := make([]binding, len(u.binds))
	next := map[string]*entry{}
	var res Applied
	for i, b := range u.binds {
		e := b.e
		if le, ok := s.live[e.key]; ok {
			e = le // loaded by a concurrent Prepare, or kept: one entry per content
		} else if next[e.key] == nil {
			res.Loaded = append(res.Loaded, b.spec.Name)
		}
		next[e.key] = e
		binds[i] = binding{spec: b.spec, e: e}
	}
	for _, e := range next {
		if e.stop == nil && !s.closed {
			s.startRefresh(e)
		}
	}
	s.set.Store(newSet(binds))
	var stopped []*entry
	for k, e := range s.live {
		if next[k] != e {
			stopped = append(stopped, e)
			if e.stop != nil {
				e.stop()
			}
		}
	}
	s.live = next
	for _, e := range stopped {
		if e.done != nil {
			<-e.done // cancelled: returns as soon as a fetch in flight sees it
		}
		e.stop, e.done = nil, nil // a later Update may serve it again
	}
	res.Certificates, res.Dropped = len(binds), len(stopped)
	return res
}

// startRefresh runs e's OCSP refresher until the store closes or e is
// dropped. Called with s.mu held.
func (s *Store) startRefresh(e *entry) {
	if e.ocspURL == "" {
		return
	}
	ctx, cancel := context.WithCancel(s.bg)
	e.stop, e.done = cancel, make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(e.done)
		s.refreshLoop(ctx, e)
	}()
}

// readSpec reads a spec's certificate and key files.
func readSpec(sp Spec) (certPEM, keyPEM []byte, keyFile string, err error) {
	certPEM, err = os.ReadFile(sp.CertFile)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s.cert: %w", sp.Name, err)
	}
	keyFile = sp.KeyFile
	if keyFile == "" {
		keyFile = sp.CertFile
	}
	keyPEM, err = os.ReadFile(keyFile)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%s.key: %w", sp.Name, err)
	}
	return certPEM, keyPEM, keyFile, nil
}

// contentKey identifies a certificate by what was loaded, not by where
// from: equal file contents and complete_chain give an equal key.
func contentKey(sp Spec, certPEM, keyPEM []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%d:%t:", len(certPEM), len(keyPEM), sp.CompleteChain)
	h.Write(certPEM)
	h.Write(keyPEM)
	return hex.EncodeToString(h.Sum(nil))
}
