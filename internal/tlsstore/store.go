// Package tlsstore holds the edge's TLS certificates: it loads them from PEM
// files, refuses a chain that does not verify without fetching intermediates
// (case C04), optionally completes a chain from the certificate's issuer URL,
// keeps OCSP staples fresh in the background (case C05), and selects a
// certificate by SNI without ever touching the network during a handshake.
// Reload (Prepare, then Update.Apply) swaps the served set atomically: the
// new set passes the same checks as at start or nothing changes.
package tlsstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	opts Options
	log  *slog.Logger
	// set is what handshakes read: swapped whole by Update.Apply, so a
	// handshake sees the old set or the new one, never a mix.
	set atomic.Pointer[certSet]

	mu     sync.Mutex        // serialises Apply and Close; guards live and closed
	live   map[string]*entry // the applied set's entries by content key, each with its refresher
	closed bool
	bg     context.Context // parent of every refresher's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // one per OCSP refresh goroutine
}

// certSet is one immutable generation of served certificates.
type certSet struct {
	binds  []binding         // configuration order
	byHost map[string]*entry // exact lower-case SNI → entry
	def    *entry            // served when nothing matches
}

// binding is one spec and the certificate loaded for it. Two specs naming
// the same files share one entry (and one refresher).
type binding struct {
	spec Spec
	e    *entry
}

// entry is one loaded certificate.
type entry struct {
	spec      Spec   // the spec it was first loaded for; names it in logs
	key       string // content key (contentKey): equal files, same entry
	leaf      *x509.Certificate
	issuer    *x509.Certificate       // verified issuer of leaf, for OCSP
	inters    []*x509.Certificate     // the intermediates served after leaf
	chain     []string                // subjects of the certificates served, leaf first
	fetched   []string                // issuer URLs a completed chain came from
	bare      *tls.Certificate        // without a staple
	ocspURL   string                  // first OCSP responder URL; "" = no stapling
	stapled   atomic.Pointer[stapled] // bare plus the current staple; nil when none
	mu        sync.Mutex              // guards ocspState
	ocspState ocspState

	// stop ends the refresher and done is closed when it has returned;
	// both nil when none runs. Set under Store.mu.
	stop context.CancelFunc
	done chan struct{}
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
	bg, cancel := context.WithCancel(context.Background())
	s := &Store{opts: opts, log: log, live: map[string]*entry{}, bg: bg, cancel: cancel}
	u, err := s.Prepare(ctx, specs, opts.Roots)
	if err != nil {
		cancel()
		return nil, err
	}
	u.Apply()
	return s, nil
}

// Close stops refreshing staples, cancelling fetches in flight, and waits
// for the refresh goroutines to return. Certificates are still served; an
// Update applied after Close swaps them but starts no refresher.
func (s *Store) Close() {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
}

// GetCertificate selects the certificate for a handshake: the one whose
// configured host equals the SNI name, else the first whose certificate
// covers the name (wildcards included), else the default (the "*" host's,
// or the first loaded) — as a web server's default server does, so a client
// without SNI still completes the handshake. It reads memory only: a staple
// is attached when a fresh one is cached, and the network is never waited
// on (case C05).
func (s *Store) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.set.Load().pick(hello.ServerName).current(time.Now()), nil
}

// newSet indexes binds for SNI selection.
func newSet(binds []binding) *certSet {
	cs := &certSet{binds: binds, byHost: map[string]*entry{}}
	for _, b := range binds {
		for _, h := range b.spec.Hosts {
			h = strings.ToLower(h)
			if h == "*" {
				cs.def = b.e
				continue
			}
			cs.byHost[h] = b.e
		}
	}
	if cs.def == nil {
		cs.def = binds[0].e
	}
	return cs
}

// pick returns the entry for an SNI name.
func (cs *certSet) pick(serverName string) *entry {
	name := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if name != "" {
		if e, ok := cs.byHost[name]; ok {
			return e
		}
		for _, b := range cs.binds {
			if b.e.leaf.VerifyHostname(name) == nil {
				return b.e
			}
		}
	}
	return cs.def
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
