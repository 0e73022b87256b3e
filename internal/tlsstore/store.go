// Package tlsstore holds the edge's TLS certificates: it loads them from PEM
// files, refuses a chain that does not verify without fetching intermediates
// (case C04), optionally completes a chain from the certificate's issuer URL,
// keeps OCSP staples fresh in the background (case C05), and selects a
// certificate by SNI without ever touching the network during a handshake.
package tlsstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Spec names one certificate to load.
type Spec struct {
	// Name is the certificate's configuration key path, such as
	// "domains[1].tls"; errors and Status name it.
	Name string
	// Hosts are the server names (SNI) this certificate answers exactly.
	// "*" makes it the default certificate, served when no other matches.
	Hosts []string
	// CertFile holds the leaf certificate first, then the intermediates the
	// server sends, in PEM.
	CertFile string
	// KeyFile holds the private key in PEM. If empty, CertFile is read for
	// it (one PEM file with both).
	KeyFile string
	// CompleteChain allows fetching missing intermediates from the
	// certificate's issuer URL (Authority Information Access, RFC 5280
	// §4.2.2.1) when the file's chain does not verify.
	CompleteChain bool
}

// Options configure a Store. The zero value works.
type Options struct {
	// Roots are the trust anchors chains must verify against. Nil means the
	// system roots.
	Roots *x509.CertPool
	// Client fetches issuer certificates and OCSP responses. Nil means a
	// client with the default transport; every fetch is bounded by
	// FetchTimeout either way.
	Client *http.Client
	// FetchTimeout bounds one issuer or OCSP fetch. If zero, 10s is used.
	FetchTimeout time.Duration
	// Logger receives OCSP refresh results. Nil means discard.
	Logger *slog.Logger

	// afterRefresh, when set (by tests), runs after each OCSP fetch has
	// been recorded.
	afterRefresh func(name string)
}

// DefaultFetchTimeout bounds one network fetch when Options.FetchTimeout is
// zero.
const DefaultFetchTimeout = 10 * time.Second

// Store serves certificates by SNI and keeps their OCSP staples fresh. Its
// methods are safe for concurrent use. Close stops the background refresh.
type Store struct {
	opts    Options
	log     *slog.Logger
	entries []*entry
	byHost  map[string]*entry // exact lower-case SNI → entry
	def     *entry            // served when nothing matches

	cancel context.CancelFunc
	wg     sync.WaitGroup // one per OCSP refresh goroutine
	once   sync.Once
}

// entry is one loaded certificate.
type entry struct {
	spec      Spec
	leaf      *x509.Certificate
	issuer    *x509.Certificate       // verified issuer of leaf, for OCSP
	chain     []string                // subjects of the certificates served, leaf first
	fetched   []string                // issuer URLs a completed chain came from
	bare      *tls.Certificate        // without a staple
	ocspURL   string                  // first OCSP responder URL; "" = no stapling
	stapled   atomic.Pointer[stapled] // bare plus the current staple; nil when none
	mu        sync.Mutex              // guards ocspState
	ocspState ocspState
}

// Load reads and verifies every spec and starts refreshing OCSP staples in
// the background. It returns an error naming each spec that failed; a chain
// that does not verify without fetching intermediates fails with a
// *ChainError (errors.Is ErrIncompleteChain) unless the spec allows
// completing it and the completion succeeds. ctx bounds issuer fetches.
func Load(ctx context.Context, specs []Spec, opts Options) (*Store, error) {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(specs) == 0 {
		return nil, errors.New("tlsstore: no certificates to load")
	}
	s := &Store{opts: opts, log: log, byHost: map[string]*entry{}}
	var errs []error
	for _, sp := range specs {
		e, err := s.load(ctx, sp)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.entries = append(s.entries, e)
		for _, h := range sp.Hosts {
			h = strings.ToLower(h)
			if h == "*" {
				s.def = e
				continue
			}
			s.byHost[h] = e
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if s.def == nil {
		s.def = s.entries[0]
	}
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	for _, e := range s.entries {
		if e.ocspURL == "" {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.refreshLoop(bg, e)
		}()
	}
	return s, nil
}

// Close stops refreshing staples, cancelling fetches in flight, and waits
// for the refresh goroutines to return. Certificates are still served.
func (s *Store) Close() {
	s.once.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		s.wg.Wait()
	})
}

// GetCertificate selects the certificate for a handshake: the one whose
// configured host equals the SNI name, else the first whose certificate
// covers the name (wildcards included), else the default (the "*" host's,
// or the first loaded) — as a web server's default server does, so a client
// without SNI still completes the handshake. It reads memory only: a staple
// is attached when a fresh one is cached, and the network is never waited
// on (case C05).
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.pick(hello.ServerName).current(time.Now()), nil
}

// pick returns the entry for an SNI name.
func (s *Store) pick(serverName string) *entry {
	name := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if name != "" {
		if e, ok := s.byHost[name]; ok {
			return e
		}
		for _, e := range s.entries {
			if e.leaf.VerifyHostname(name) == nil {
				return e
			}
		}
	}
	return s.def
}

// current returns the certificate to serve at now: with the cached staple
// while it is fresh, without it once it has passed its NextUpdate (an
// expired staple makes strict clients fail, a missing one does not).
func (e *entry) current(now time.Time) *tls.Certificate {
	st := e.stapled.Load()
	if st == nil || (!st.nextUpdate.IsZero() && !now.Before(st.nextUpdate)) {
		return e.bare
	}
	return st.cert
}
