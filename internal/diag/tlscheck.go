package diag

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxNodes caps how many resolved addresses the tls check shakes hands
// with.
const maxNodes = 8

// Thresholds of the OCSP checks.
const (
	slowOCSP     = time.Second
	expiringSoon = 14 * 24 * time.Hour
)

// handshake is the result of one TLS handshake with one node.
type handshake struct {
	addr  string
	took  time.Duration
	state *tls.ConnectionState
	err   error
}

// shake performs a TLS handshake with addr, sending the target's name in
// SNI, without verifying: the chain is judged afterwards.
func (p *prober) shake(ctx context.Context, addr string) handshake {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	d := tls.Dialer{
		NetDialer: &net.Dialer{Timeout: p.timeout},
		Config:    &tls.Config{ServerName: p.host, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}}, //nolint:gosec // verified by verifyChain
	}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", addr)
	h := handshake{addr: addr, took: time.Since(start), err: err}
	if err == nil {
		st := c.(*tls.Conn).ConnectionState()
		h.state = &st
		c.Close()
	}
	return h
}

// checkTLS shakes hands with every address of the target (C15), then
// checks the certificate chain the server sends (C04) and OCSP (C05).
func checkTLS(ctx context.Context, p *prober) []Finding {
	if !p.tls {
		return nil
	}
	addrs, err := p.addrs(ctx)
	if err != nil {
		return []Finding{probeFailed("tls", "C15", err)}
	}
	if len(addrs) > maxNodes {
		addrs = addrs[:maxNodes]
	}
	var (
		out     []Finding
		okEv    []string
		first   *tls.ConnectionState
		results []handshake
	)
	for _, a := range addrs {
		h := p.shake(ctx, a)
		results = append(results, h)
		if h.err == nil {
			okEv = append(okEv, fmt.Sprintf("%s: handshake %.3fs, %s", a, h.took.Seconds(), tls.VersionName(h.state.Version)))
			if first == nil {
				first = h.state
			}
			continue
		}
		id, sum := "tls.node-failed", "the TLS handshake with "+a+" fails"
		if kind := resetKind(h.err); kind != "" {
			id, sum = "tls.node-reset", "the TLS handshake with "+a+" is "+kind+": a device on the path (or the node) cuts TLS for this name (C15)"
		}
		out = append(out, Finding{ID: id, Case: "C15", Level: Bad, Summary: sum,
			Evidence: []string{"SNI: " + p.host, a + ": " + h.err.Error() + fmt.Sprintf(" after %.3fs", h.took.Seconds())},
			Fix:      "compare from another network; reset.tls-handshake says whether only this name is cut, and the TTL of the reset (or what to capture: tcpdump -w tls.pcap host " + hostOf(a) + ") whether the node sent it; send the capture with the time and the client's address to the network's operator"})
	}
	if len(okEv) > 0 {
		out = append(out, Finding{ID: "tls.nodes", Case: "C15", Level: OK,
			Summary: fmt.Sprintf("TLS handshakes succeed with %d of %d addresses", len(okEv), len(results)), Evidence: okEv})
	}
	if first == nil {
		return out
	}
	out = append(out, verifyChain(first.PeerCertificates, p.host, p.opts.Roots, time.Now())...)
	out = append(out, p.checkOCSP(ctx, first)...)
	return out
}

// resetKind says how a handshake was cut: "reset" (a TCP RST), "closed"
// (EOF before the server's hello), or "" for any other failure.
func resetKind(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	}
	return ""
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}

// certName names a certificate for evidence.
func certName(c *x509.Certificate) string {
	return fmt.Sprintf("%s (issuer %s, expires %s)", c.Subject, c.Issuer, c.NotAfter.UTC().Format(time.DateOnly))
}

// verifyChain verifies the certificates a server sent, leaf first, as an
// SDK does: with roots (nil: the system's) and only the sent certificates
// as intermediates, never fetching missing ones from the AIA URL as
// browsers do (C04).
func verifyChain(certs []*x509.Certificate, host string, roots *x509.CertPool, now time.Time) []Finding {
	if len(certs) == 0 {
		return []Finding{{ID: "tls.no-certificate", Case: "C04", Level: Bad, Summary: "the server sent no certificate"}}
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	var ev []string
	for i, c := range certs {
		ev = append(ev, fmt.Sprintf("sent[%d]: %s", i, certName(c)))
		if i > 0 {
			inter.AddCert(c)
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter, CurrentTime: now})
	var (
		unknown x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case err == nil:
	case errors.As(err, &hostErr):
		return []Finding{{ID: "tls.name-mismatch", Case: "C04", Level: Bad,
			Summary:  "the certificate is not valid for " + host + ": " + err.Error(),
			Evidence: append(ev, "DNS names: "+strings.Join(leaf.DNSNames, ", ")),
			Fix:      "install a certificate whose subjectAltName covers " + host}}
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return []Finding{{ID: "tls.expired", Case: "C04", Level: Bad,
			Summary: "a certificate in the chain is expired or not yet valid: " + err.Error(), Evidence: ev,
			Fix: "renew the certificate and install it with its intermediates"}}
	case errors.As(err, &unknown):
		top := certs[len(certs)-1]
		if isSelfSigned(top) {
			return []Finding{{ID: "tls.untrusted-root", Case: "C04", Level: Bad,
				Summary:  "the chain ends at a root the client does not trust: " + top.Subject.String(),
				Evidence: ev,
				Fix:      "use a certificate from a publicly trusted CA, or install this root on the clients"}}
		}
		missing := "issuer " + top.Issuer.String()
		if len(top.IssuingCertificateURL) > 0 {
			missing += " (its certificate is at " + strings.Join(top.IssuingCertificateURL, ", ") + ")"
		}
		return []Finding{{ID: "tls.chain-incomplete", Case: "C04", Level: Bad,
			Summary:  fmt.Sprintf("the chain does not verify without fetching intermediates: the server sends %d certificate(s) and lacks the %s; browsers fetch it, most SDKs and curl fail (C04)", len(certs), missing),
			Evidence: ev,
			Fix:      "install the full chain on the server: the leaf followed by every intermediate up to (not including) the root (cat leaf.pem intermediate.pem > fullchain.pem)"}}
	default:
		return []Finding{{ID: "tls.chain-invalid", Case: "C04", Level: Bad,
			Summary: "the certificate chain does not verify: " + err.Error(), Evidence: ev,
			Fix: "install a valid certificate with its full chain"}}
	}
	var out []Finding
	chainEv := make([]string, 0, len(chains[0]))
	for _, c := range chains[0] {
		chainEv = append(chainEv, certName(c))
	}
	out = append(out, Finding{ID: "tls.chain-ok", Case: "C04", Level: OK,
		Summary: "the chain the server sends verifies without fetching intermediates", Evidence: chainEv})
	if left := leaf.NotAfter.Sub(now); left < expiringSoon {
		out = append(out, Finding{ID: "tls.expiring", Case: "C04", Level: Warn,
			Summary:  fmt.Sprintf("the certificate expires in %.0f days", left.Hours()/24),
			Evidence: []string{certName(leaf)},
			Fix:      "renew the certificate now"})
	}
	return out
}

// isSelfSigned reports whether c signs itself: a root.
func isSelfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
}

// issuerOf returns the certificate that issued leaf among the sent ones,
// or nil.
func issuerOf(leaf *x509.Certificate, sent []*x509.Certificate) *x509.Certificate {
	for _, c := range sent[1:] {
		if leaf.CheckSignatureFrom(c) == nil {
			return c
		}
	}
	return nil
}

// checkOCSP checks revocation the way a client that checks it would:
// a stapled response saves the client a trip to the responder; without
// one, a client that checks OCSP blocks its handshake on the responder,
// which took 3 s in C05.
func (p *prober) checkOCSP(ctx context.Context, st *tls.ConnectionState) []Finding {
	leaf := st.PeerCertificates[0]
	if len(leaf.OCSPServer) == 0 {
		return []Finding{{ID: "tls.ocsp-none", Case: "C05", Level: OK,
			Summary: "the certificate names no OCSP responder: no client blocks on one"}}
	}
	issuer := issuerOf(leaf, st.PeerCertificates)
	ev := []string{"OCSP responder: " + strings.Join(leaf.OCSPServer, ", ")}
	var out []Finding
	stapled := len(st.OCSPResponse) > 0
	if stapled {
		out = append(out, stapleFinding(st.OCSPResponse, leaf, issuer, ev))
	} else {
		out = append(out, Finding{ID: "tls.ocsp-no-staple", Case: "C05", Level: Info,
			Summary:  "no OCSP staple: clients that check revocation ask the responder during the handshake",
			Evidence: ev,
			Fix:      "enable OCSP stapling on the server (fetched in the background, never during a handshake)"})
	}
	if issuer == nil {
		return append(out, Finding{ID: "tls.ocsp-responder-skipped", Case: "C05", Level: Info,
			Summary: "the responder was not asked: the issuer's certificate is not in the chain sent", Evidence: ev})
	}
	return append(out, p.askResponder(ctx, leaf, issuer, stapled, ev))
}

// stapleFinding judges a stapled OCSP response.
func stapleFinding(raw []byte, leaf, issuer *x509.Certificate, ev []string) Finding {
	resp, err := ocsp.ParseResponseForCert(raw, leaf, issuer)
	if err != nil {
		return Finding{ID: "tls.ocsp-staple-invalid", Case: "C05", Level: Warn,
			Summary: "the stapled OCSP response does not parse or verify: " + err.Error(), Evidence: ev,
			Fix: "check the server's stapling configuration (the responder's answer and the issuer certificate it is verified with)"}
	}
	ev = append(ev, "staple: "+ocspStatus(resp.Status)+", this update "+resp.ThisUpdate.UTC().Format(time.RFC3339)+", next update "+resp.NextUpdate.UTC().Format(time.RFC3339))
	switch {
	case resp.Status == ocsp.Revoked:
		return Finding{ID: "tls.ocsp-revoked", Case: "C05", Level: Bad,
			Summary: "the stapled OCSP response says the certificate is revoked", Evidence: ev,
			Fix: "install a new certificate"}
	case !resp.NextUpdate.IsZero() && resp.NextUpdate.Before(time.Now()):
		return Finding{ID: "tls.ocsp-staple-expired", Case: "C05", Level: Warn,
			Summary: "the stapled OCSP response is past its next update: clients reject it and ask the responder", Evidence: ev,
			Fix: "the server no longer refreshes its staple: check that it can reach the responder"}
	}
	return Finding{ID: "tls.ocsp-stapled", Case: "C05", Level: OK,
		Summary: "an OCSP response is stapled: clients need not ask the responder", Evidence: ev}
}

func ocspStatus(s int) string {
	switch s {
	case ocsp.Good:
		return "good"
	case ocsp.Revoked:
		return "revoked"
	}
	return "unknown"
}

// askResponder sends one OCSP request to the certificate's responder and
// times it.
func (p *prober) askResponder(ctx context.Context, leaf, issuer *x509.Certificate, stapled bool, ev []string) Finding {
	body, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return probeFailed("tls.ocsp", "C05", err)
	}
	url := leaf.OCSPServer[0]
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return probeFailed("tls.ocsp", "C05", err)
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	start := time.Now()
	resp, err := (&http.Client{Timeout: p.timeout}).Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("responder answered %s", resp.Status)
		}
	}
	took := time.Since(start)
	ev = append(ev, fmt.Sprintf("POST %s: %.3fs", url, took.Seconds()))
	if err == nil {
		_, err = ocsp.ParseResponseForCert(raw, leaf, issuer)
	}
	lvl := Bad
	if stapled {
		lvl = Warn // the staple shields clients, until it expires
	}
	switch {
	case err != nil:
		return Finding{ID: "tls.ocsp-unreachable", Case: "C05", Level: lvl,
			Summary:  "the OCSP responder fails: clients that check revocation hang in the handshake until they give up (C05)",
			Evidence: append(ev, err.Error()),
			Fix:      "enable OCSP stapling so that clients never ask the responder; tell the CA its responder is unreachable from here"}
	case took > slowOCSP:
		return Finding{ID: "tls.ocsp-slow", Case: "C05", Level: Warn,
			Summary:  fmt.Sprintf("the OCSP responder took %.1fs: clients that ask it wait that long in the handshake (C05)", took.Seconds()),
			Evidence: ev,
			Fix:      "enable OCSP stapling so that clients never wait on the responder"}
	}
	return Finding{ID: "tls.ocsp-responder", Case: "C05", Level: OK,
		Summary: fmt.Sprintf("the OCSP responder answers in %.3fs", took.Seconds()), Evidence: ev}
}
