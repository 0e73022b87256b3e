package tlsstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Sentinels for what callers branch on; a *ChainError wraps one of them.
var (
	// ErrIncompleteChain: the chain lacks an intermediate that clients which
	// do not fetch intermediates (most SDKs, Go, curl) need (case C04).
	ErrIncompleteChain = errors.New("chain does not verify without intermediates")
	// ErrUntrustedRoot: the chain is complete but ends at a root the trust
	// store does not hold.
	ErrUntrustedRoot = errors.New("chain ends at an untrusted root")
)

// maxIssuerFetches bounds how many intermediates completing one chain may
// fetch; real chains have one or two.
const maxIssuerFetches = 4

// maxFetchBytes bounds a fetched issuer certificate or OCSP response.
const maxFetchBytes = 1 << 20

// ChainError says why a certificate's chain was refused and how to fix it.
type ChainError struct {
	Name string // the spec's name, such as "domains[1].tls"
	File string // the certificate file
	// Issuer is the distinguished name of the missing issuer, or of the
	// untrusted root the chain ends at.
	Issuer string
	// IssuerURL is where the certificate says its issuer can be fetched
	// (AIA caIssuers); empty when it names none.
	IssuerURL string
	// FetchErr is why completing the chain failed, when it was tried.
	FetchErr error
	Err      error // ErrIncompleteChain or ErrUntrustedRoot
}

func (e *ChainError) Error() string {
	if errors.Is(e.Err, ErrUntrustedRoot) {
		return fmt.Sprintf("%s.cert: %v: %q is not in the trust store (%s; use a certificate from a publicly trusted CA, or add the root to the trust store)", e.Name, e.Err, e.Issuer, e.File)
	}
	head := fmt.Sprintf("%s.cert: %v: missing issuer %q", e.Name, e.Err, e.Issuer)
	switch {
	case e.FetchErr != nil:
		return fmt.Sprintf("%s (complete_chain could not fetch it: %v; add it to %s after the leaf)", head, e.FetchErr, e.File)
	case e.IssuerURL != "":
		return fmt.Sprintf("%s (the server must send it; add it to the PEM file %s after the leaf, or set complete_chain: true to fetch it from %s)", head, e.File, e.IssuerURL)
	default:
		return fmt.Sprintf("%s (the server must send it; add it to the PEM file %s after the leaf; the certificate names no issuer URL to fetch it from)", head, e.File)
	}
}

// Unwrap returns the sentinel and the fetch error.
func (e *ChainError) Unwrap() []error { return []error{e.Err, e.FetchErr} }

// load checks and (when allowed) completes one spec's chain, read from
// certPEM and keyPEM (keyFile names the key's file in errors), against
// roots at now.
func (s *Store) load(ctx context.Context, sp Spec, certPEM, keyPEM []byte, keyFile string, roots *x509.CertPool, now time.Time) (*entry, error) {
	certs, err := parseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s.cert: %s: %w", sp.Name, sp.CertFile, err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s.key: %s does not hold the private key of the first certificate in %s (the leaf must come first): %w", sp.Name, keyFile, sp.CertFile, err)
	}
	leaf, inters := certs[0], certs[1:]
	if err := checkLeaf(sp, leaf, now); err != nil {
		return nil, err
	}
	chains, err := verify(roots, leaf, inters, now)
	var fetchedURLs []string
	if err != nil {
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			return nil, fmt.Errorf("%s.cert: %s: chain does not verify: %w", sp.Name, sp.CertFile, err)
		}
		top, selfSigned := chainTop(leaf, inters)
		ce := &ChainError{Name: sp.Name, File: sp.CertFile, Issuer: top.Issuer.String(), Err: ErrIncompleteChain}
		if len(top.IssuingCertificateURL) > 0 {
			ce.IssuerURL = top.IssuingCertificateURL[0]
		}
		if selfSigned {
			ce.Err, ce.Issuer = ErrUntrustedRoot, top.Subject.String()
			return nil, ce
		}
		if !sp.CompleteChain {
			return nil, ce
		}
		added, urls, chs, err := s.complete(ctx, roots, leaf, inters, top, now)
		if err != nil {
			if re := (*ChainError)(nil); errors.As(err, &re) {
				re.Name, re.File = sp.Name, sp.CertFile
				return nil, re
			}
			ce.FetchErr = err
			return nil, ce
		}
		for _, c := range added {
			pair.Certificate = append(pair.Certificate, c.Raw)
		}
		inters, fetchedURLs, chains = append(inters, added...), urls, chs
	}
	e := &entry{spec: sp, leaf: leaf, inters: inters, fetched: fetchedURLs, bare: &pair}
	if ch := chains[0]; len(ch) > 1 {
		e.issuer = ch[1]
	}
	for _, c := range append([]*x509.Certificate{leaf}, inters...) {
		e.chain = append(e.chain, c.Subject.String())
	}
	for _, u := range leaf.OCSPServer {
		if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
			e.ocspURL = u
			break
		}
	}
	if e.issuer == nil {
		e.ocspURL = "" // a self-issued leaf trusted directly has no issuer to ask about
	}
	e.ocspState.status = StatusNone
	if e.ocspURL != "" {
		e.ocspState.status = StatusPending
	}
	return e, nil
}

// checkLeaf checks what does not depend on the chain: the validity period
// at now and that the leaf covers every configured host.
func checkLeaf(sp Spec, leaf *x509.Certificate, now time.Time) error {
	switch {
	case now.After(leaf.NotAfter):
		return fmt.Errorf("%s.cert: %s: the certificate for %s expired at %s; renew it", sp.Name, sp.CertFile, leafName(leaf), leaf.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(leaf.NotBefore):
		return fmt.Errorf("%s.cert: %s: the certificate for %s is not valid until %s", sp.Name, sp.CertFile, leafName(leaf), leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	for _, h := range sp.Hosts {
		if h != "*" && leaf.VerifyHostname(h) != nil {
			return fmt.Errorf("%s.cert: the certificate does not cover host %q; it names %s (%s)", sp.Name, h, leafName(leaf), sp.CertFile)
		}
	}
	return nil
}

// verify checks leaf's chain against roots (nil: the system roots) with
// only the given intermediates: x509 never fetches missing ones, exactly
// like the SDK clients of case C04.
func verify(roots *x509.CertPool, leaf *x509.Certificate, inters []*x509.Certificate, now time.Time) ([][]*x509.Certificate, error) {
	pool := x509.NewCertPool()
	for _, c := range inters {
		pool.AddCert(c)
	}
	return leaf.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: pool,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
}

// complete fetches issuers from AIA URLs (RFC 5280 §4.2.2.1), starting
// with top's, until the chain verifies. It returns the intermediates to
// append (never a self-signed root) and the URLs they came from.
func (s *Store) complete(ctx context.Context, roots *x509.CertPool, leaf *x509.Certificate, inters []*x509.Certificate, top *x509.Certificate, now time.Time) (added []*x509.Certificate, urls []string, chains [][]*x509.Certificate, err error) {
	cur := top
	for range maxIssuerFetches {
		if len(cur.IssuingCertificateURL) == 0 {
			return nil, nil, nil, fmt.Errorf("%q names no issuer URL", cur.Subject.String())
		}
		u := cur.IssuingCertificateURL[0]
		iss, err := s.fetchIssuer(ctx, u)
		if err != nil {
			return nil, nil, nil, err
		}
		if !bytes.Equal(iss.RawSubject, cur.RawIssuer) || cur.CheckSignatureFrom(iss) != nil {
			return nil, nil, nil, fmt.Errorf("%s holds %q, which did not issue %q", u, iss.Subject.String(), cur.Subject.String())
		}
		if isSelfSigned(iss) {
			return nil, nil, nil, &ChainError{Issuer: iss.Subject.String(), Err: ErrUntrustedRoot}
		}
		added, urls = append(added, iss), append(urls, u)
		chains, err = verify(roots, leaf, append(inters[:len(inters):len(inters)], added...), now)
		if err == nil {
			return added, urls, chains, nil
		}
		cur = iss
	}
	return nil, nil, nil, fmt.Errorf("the chain still does not verify after fetching %d issuers (%s)", len(urls), strings.Join(urls, ", "))
}

// fetchIssuer GETs an issuer certificate, DER (RFC 5280 §4.2.2.1) or PEM.
func (s *Store) fetchIssuer(ctx context.Context, u string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("issuer URL %s: %w", u, err)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	c, err := ParseIssuer(body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u, err)
	}
	return c, nil
}

// ParseIssuer parses an issuer certificate as served at an AIA caIssuers
// URL: DER, as RFC 5280 §4.2.2.1 prescribes, or PEM, as some CAs serve.
// PKCS#7 bundles (.p7c) are refused with an error that says so.
func ParseIssuer(b []byte) (*x509.Certificate, error) {
	if blk, _ := pem.Decode(b); blk != nil {
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a CERTIFICATE", blk.Type)
		}
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		if isPKCS7(b) {
			return nil, errors.New("a PKCS#7 bundle (.p7c) is not supported; download the intermediate and add it to the PEM file")
		}
		return nil, fmt.Errorf("not a DER or PEM certificate: %w", err)
	}
	return c, nil
}

// pkcs7SignedData is the DER of the signedData content type OID
// 1.2.840.113549.1.7.2 (RFC 2315 §14).
var pkcs7SignedData = []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}

func isPKCS7(b []byte) bool {
	return len(b) > 32 && bytes.Contains(b[:32], pkcs7SignedData)
}

// parseCertificates returns the CERTIFICATE blocks of a PEM file in order.
func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// chainTop follows leaf's issuers through inters as far as they go and
// returns the last certificate reached and whether it is self-signed (a
// root). A chain that stops short is missing top's issuer.
func chainTop(leaf *x509.Certificate, inters []*x509.Certificate) (*x509.Certificate, bool) {
	cur, used := leaf, map[*x509.Certificate]bool{}
	for {
		if isSelfSigned(cur) {
			return cur, true
		}
		var next *x509.Certificate
		for _, c := range inters {
			if !used[c] && bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			return cur, false
		}
		used[next], cur = true, next
	}
}

func isSelfSigned(c *x509.Certificate) bool {
	// CheckSignature, not CheckSignatureFrom: a self-signed leaf is no CA.
	return bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// leafName describes a leaf by its DNS names, else its subject.
func leafName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	return c.Subject.String()
}
