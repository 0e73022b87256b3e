package config

// DomainTLS is a domain's certificate, served on edge.tls_listen to
// clients whose SNI names the domain's host. An empty Cert means the domain
// has no certificate of its own.
//
// At start, and again on every reload (SIGHUP, POST /edge/reload), the
// files are read and the chain is verified against the trust store
// (edge.tls_roots, or the system roots) with only the intermediates in
// Cert: a chain that needs a client to fetch a missing intermediate is
// refused with the missing issuer named (case C04), unless CompleteChain is
// set and the issuer can be fetched from the certificate's issuer URL. A
// refused reload changes nothing: the old certificates stay served.
type DomainTLS struct {
	// Cert is a PEM file: the leaf certificate first, then the
	// intermediates the server sends.
	Cert string `yaml:"cert"`
	// Key is the PEM private key. Default: read from Cert (one file with
	// both).
	Key string `yaml:"key"`
	// CompleteChain fetches missing intermediates from the certificate's
	// issuer URL (AIA caIssuers) at start or reload instead of refusing
	// the chain.
	CompleteChain bool `yaml:"complete_chain"`
}

// Enabled reports whether the domain has a certificate.
func (t DomainTLS) Enabled() bool { return t.Cert != "" }
