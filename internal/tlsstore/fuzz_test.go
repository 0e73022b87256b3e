package tlsstore

import (
	"testing"
)

// FuzzParseIssuer: issuer bytes fetched from the network and certificate
// files never panic the parsers, and a parsed certificate is whole.
func FuzzParseIssuer(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseIssuer(b)
		if err == nil && (c == nil || len(c.Raw) == 0) {
			t.Fatalf("ParseIssuer returned %v with no error", c)
		}
		certs, err := parseCertificates(b)
		if err == nil && len(certs) == 0 {
			t.Fatal("parseCertificates returned no certificate and no error")
		}
	})
}
