package tlsstore

import "time"

// OCSP status values reported by Status.
const (
	StatusNone    = "none"    // the certificate names no OCSP responder: nothing to staple
	StatusPending = "pending" // no answer yet
	StatusGood    = "good"    // the responder says good
	StatusRevoked = "revoked" // the responder says revoked: not stapled
	StatusUnknown = "unknown" // the responder does not know it: not stapled
	StatusError   = "error"   // no answer has been obtained; see last_error
)

// CertStatus describes one loaded certificate, for the admin API.
type CertStatus struct {
	Name    string   `json:"name"`
	Hosts   []string `json:"hosts"`
	File    string   `json:"file"`
	Subject string   `json:"subject"`
	// Serial is the leaf's serial number in hexadecimal, to tell a
	// rotated certificate from the one it replaced.
	Serial   string    `json:"serial"`
	DNSNames []string  `json:"dns_names"`
	NotAfter time.Time `json:"not_after"`
	// Chain lists the subjects of the certificates a handshake sends, leaf
	// first.
	Chain []string `json:"chain"`
	// CompletedFrom lists the issuer URLs intermediates were fetched from
	// (complete_chain).
	CompletedFrom []string   `json:"completed_from,omitempty"`
	OCSP          OCSPStatus `json:"ocsp"`
}

// OCSPStatus is a certificate's stapling state.
type OCSPStatus struct {
	// URL is the responder; empty when the certificate names none.
	URL    string `json:"url,omitempty"`
	Status string `json:"status"`
	// Stapled says whether a handshake now gets a staple: a good response
	// is cached and has not passed its NextUpdate.
	Stapled     bool      `json:"stapled"`
	ThisUpdate  time.Time `json:"this_update,omitzero"`
	NextUpdate  time.Time `json:"next_update,omitzero"`
	FetchedAt   time.Time `json:"fetched_at,omitzero"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	NextFetch   time.Time `json:"next_fetch,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Fetches     int       `json:"fetches"`
	Failures    int       `json:"failures"`
}

// Status reports every certificate of the served set in configuration
// order.
func (s *Store) Status() []CertStatus {
	now := time.Now()
	set := s.set.Load()
	out := make([]CertStatus, 0, len(set.binds))
	for _, b := range set.binds {
		e := b.e
		cs := CertStatus{
			Name:          b.spec.Name,
			Hosts:         append([]string(nil), b.spec.Hosts...),
			File:          b.spec.CertFile,
			Subject:       e.leaf.Subject.String(),
			Serial:        e.leaf.SerialNumber.Text(16),
			DNSNames:      e.leaf.DNSNames,
			NotAfter:      e.leaf.NotAfter,
			Chain:         e.chain,
			CompletedFrom: e.fetched,
		}
		e.mu.Lock()
		st := e.ocspState
		e.mu.Unlock()
		cs.OCSP = OCSPStatus{
			URL:         e.ocspURL,
			Status:      st.status,
			Stapled:     len(e.current(now).OCSPStaple) > 0,
			ThisUpdate:  st.thisUpdate,
			NextUpdate:  st.nextUpdate,
			FetchedAt:   st.fetchedAt,
			LastAttempt: st.lastAttempt,
			NextFetch:   st.nextFetch,
			LastError:   st.lastErr,
			Fetches:     st.fetches,
			Failures:    st.failures,
		}
		out = append(out, cs)
	}
	return out
}
