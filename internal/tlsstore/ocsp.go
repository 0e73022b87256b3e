package tlsstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Refresh timing. A staple is refreshed halfway through its validity
// (ThisUpdate..NextUpdate), as RFC 6960 §4.2.2.1 leaves the schedule to the
// server and halfway leaves time for retries before it expires.
const (
	// DefaultRefresh is the refresh interval for a response without
	// NextUpdate (RFC 6960 §2.4: newer information is always available).
	DefaultRefresh = time.Hour
	// MinRefresh is the shortest interval between two successful fetches.
	MinRefresh = time.Minute
	// RetryMin and RetryMax bound the back-off after a failed fetch; it
	// doubles from RetryMin with each consecutive failure.
	RetryMin = time.Minute
	RetryMax = time.Hour
	// maxClockSkew tolerates a responder whose ThisUpdate is slightly ahead.
	maxClockSkew = 5 * time.Minute
)

// stapled is a certificate with its OCSP staple, swapped atomically.
type stapled struct {
	cert       *tls.Certificate
	nextUpdate time.Time // zero: no expiry given
}

// ocspState is what Status reports about an entry's stapling.
type ocspState struct {
	status                 string // Status* constant
	thisUpdate, nextUpdate time.Time
	fetchedAt              time.Time // last response accepted
	lastAttempt, nextFetch time.Time
	lastErr                string
	fetches, failures      int
	consecutive            int // failures since the last success, for back-off
}

// refreshLoop fetches e's staple at once, then whenever it is due, until ctx
// is done. It is the only writer of e.stapled and e.ocspState.
func (s *Store) refreshLoop(ctx context.Context, e *entry) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d := s.refresh(ctx, e)
		if ctx.Err() != nil {
			return
		}
		if s.opts.afterRefresh != nil {
			s.opts.afterRefresh(e.spec.Name)
		}
		t.Reset(d)
	}
}

// refresh fetches one OCSP response for e, installs it when good, and
// returns how long to wait before the next fetch.
func (s *Store) refresh(ctx context.Context, e *entry) time.Duration {
	resp, der, err := s.fetchOCSP(ctx, e)
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &e.ocspState
	st.lastAttempt = now
	if err != nil {
		if ctx.Err() != nil {
			return 0
		}
		st.failures++
		st.consecutive++
		st.lastErr = err.Error()
		d := min(RetryMin<<min(st.consecutive-1, 10), RetryMax)
		st.nextFetch = now.Add(d)
		if st.status == StatusPending {
			st.status = StatusError
		}
		s.log.Warn("ocsp staple fetch failed; handshakes go on without a fresh staple",
			"cert", e.spec.Name, "url", e.ocspURL, "err", err, "retry_in", d.String())
		return d
	}
	st.fetches++
	st.consecutive = 0
	st.lastErr = ""
	st.fetchedAt = now
	st.thisUpdate, st.nextUpdate = resp.ThisUpdate, resp.NextUpdate
	switch resp.Status {
	case ocsp.Good:
		st.status = StatusGood
		c := *e.bare
		c.OCSPStaple = der
		e.stapled.Store(&stapled{cert: &c, nextUpdate: resp.NextUpdate})
		s.log.Debug("ocsp staple refreshed", "cert", e.spec.Name, "next_update", resp.NextUpdate)
	case ocsp.Revoked:
		st.status = StatusRevoked
		e.stapled.Store(nil)
		s.log.Error("certificate is REVOKED according to its OCSP responder; replace it", "cert", e.spec.Name,
			"revoked_at", resp.RevokedAt, "url", e.ocspURL)
	default:
		st.status = StatusUnknown
		e.stapled.Store(nil)
		s.log.Warn("ocsp responder does not know the certificate; not stapling", "cert", e.spec.Name, "url", e.ocspURL)
	}
	d := refreshDelay(now, resp.ThisUpdate, resp.NextUpdate)
	st.nextFetch = now.Add(d)
	return d
}

// refreshDelay is how long after now to fetch again a response valid from
// thisUpdate to nextUpdate: halfway through, at least MinRefresh.
func refreshDelay(now, thisUpdate, nextUpdate time.Time) time.Duration {
	if nextUpdate.IsZero() {
		return DefaultRefresh
	}
	at := thisUpdate.Add(nextUpdate.Sub(thisUpdate) / 2)
	return max(at.Sub(now), MinRefresh)
}

// fetchOCSP asks e's responder about e's leaf (RFC 6960 §A.1, HTTP POST)
// and checks the answer: signed by the issuer or its delegate, for this
// certificate, and current.
func (s *Store) fetchOCSP(ctx context.Context, e *entry) (*ocsp.Response, []byte, error) {
	reqDER, err := ocsp.CreateRequest(e.leaf, e.issuer, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("build ocsp request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.ocspURL, bytes.NewReader(reqDER))
	if err != nil {
		return nil, nil, fmt.Errorf("ocsp URL %s: %w", e.ocspURL, err)
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	req.Header.Set("Accept", "application/ocsp-response")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("ocsp fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("ocsp responder answered %s", resp.Status)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("ocsp fetch: %w", err)
	}
	r, err := ocsp.ParseResponseForCert(der, e.leaf, e.issuer)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			return nil, nil, fmt.Errorf("ocsp responder refused: %w", err)
		}
		return nil, nil, fmt.Errorf("ocsp response: %w", err)
	}
	now := time.Now()
	switch {
	case r.ThisUpdate.After(now.Add(maxClockSkew)):
		return nil, nil, fmt.Errorf("ocsp response is from the future (thisUpdate %s); check the clock", r.ThisUpdate.UTC().Format(time.RFC3339))
	case !r.NextUpdate.IsZero() && !now.Before(r.NextUpdate):
		return nil, nil, fmt.Errorf("ocsp response expired at %s (nextUpdate)", r.NextUpdate.UTC().Format(time.RFC3339))
	}
	return r, der, nil
}
