package checksum

import (
	"hash"
	"hash/crc64"
)

// ecmaDigest is a hash.Hash64 computing CRC-64/XZ with updateECMA, which
// uses carry-less multiplication where the CPU has it.
type ecmaDigest struct{ crc uint64 }

func (d *ecmaDigest) Write(p []byte) (int, error) {
	d.crc = updateECMA(d.crc, p)
	return len(p), nil
}

func (d *ecmaDigest) Sum64() uint64 { return d.crc }

func (d *ecmaDigest) Sum(b []byte) []byte {
	s := d.crc
	return append(b, byte(s>>56), byte(s>>48), byte(s>>40), byte(s>>32), byte(s>>24), byte(s>>16), byte(s>>8), byte(s))
}

func (d *ecmaDigest) Reset()         { d.crc = 0 }
func (d *ecmaDigest) Size() int      { return crc64.Size }
func (d *ecmaDigest) BlockSize() int { return 1 }

var _ hash.Hash64 = (*ecmaDigest)(nil)

// ChecksumECMA returns the CRC-64/XZ of p, as crc64.Checksum(p, ECMA) does,
// only faster on CPUs with carry-less multiplication.
func ChecksumECMA(p []byte) uint64 { return updateECMA(0, p) }

// updateECMA returns crc updated with p, with crc64.Update's convention
// (the CRC so far in, the CRC including p out).
func updateECMA(crc uint64, p []byte) uint64 {
	// The vector code folds 128-byte blocks from a 16-byte aligned start;
	// the table code takes the unaligned head and the tail.
	if !hasCLMUL || len(p) < 256 {
		return crc64.Update(crc, ECMA, p)
	}
	if head := alignHead(p); head > 0 {
		crc = crc64.Update(crc, ECMA, p[:head])
		p = p[head:]
	}
	blocks := len(p) / 128
	if hasVPCLMUL && blocks >= 8 {
		crc = ecmaUpdateAsm512(crc, p[:128*blocks])
	} else {
		crc = ecmaUpdateAsm(crc, p[:128*blocks])
	}
	return crc64.Update(crc, ECMA, p[128*blocks:])
}
