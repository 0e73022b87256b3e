package checksum

import "hash/crc64"

// The arithmetic below works on polynomials over GF(2) of degree < 64 stored
// reflected, as hash/crc64 stores them: bit 63 is the coefficient of x^0 and
// bit 0 that of x^63.
//
// For a CRC whose initial value equals its final XOR (true of both flavours
// here, as of zlib's CRC-32),
//
//	crc(A || B) = crc(A) · x^(8·len(B)) mod P  ⊕  crc(B)
//
// so combining needs one multiplication by x^(8·len2) mod P. That power is
// built from the precomputed powers x^(2^k) mod P by binary exponentiation,
// as zlib 1.2.12's crc32_combine does: O(log len2) multiplications of 64
// steps each, instead of the older GF(2) matrix-squaring method.

const one = uint64(1) << 63 // the polynomial 1 (x^0), reflected

// powers holds x^(2^k) mod P for k = 0..66: len2 has at most 63 bits and
// the walk starts at k = 3.
type powers [67]uint64

var (
	nvmePowers = makePowers(NVME)
	ecmaPowers = makePowers(ECMA)
)

// polyOf recovers the reflected polynomial from a table built by
// crc64.MakeTable: the entry for 0x80 is the polynomial itself, since its
// single set bit is shifted out on the eighth step.
func polyOf(tab *crc64.Table) uint64 { return tab[0x80] }

// mulMod returns a·b mod P.
func mulMod(a, b, poly uint64) uint64 {
	var p uint64
	for m := one; a != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			a ^= m
		}
		// b = b·x mod P
		if b&1 != 0 {
			b = b>>1 ^ poly
		} else {
			b >>= 1
		}
	}
	return p
}

func makePowers(tab *crc64.Table) *powers {
	poly := polyOf(tab)
	var pw powers
	pw[0] = one >> 1 // x^1
	for k := 1; k < len(pw); k++ {
		pw[k] = mulMod(pw[k-1], pw[k-1], poly)
	}
	return &pw
}

func powersOf(tab *crc64.Table) *powers {
	switch {
	case tab == NVME:
		return nvmePowers
	case tab == ECMA:
		return ecmaPowers
	case *tab == *NVME:
		return nvmePowers
	case *tab == *ECMA:
		return ecmaPowers
	}
	return makePowers(tab)
}

// Combine returns the CRC of the concatenation A||B given crc1 = CRC(A),
// crc2 = CRC(B) and len2 = len(B), for the CRC-64 that tab was made for
// (with initial value and final XOR all ones, as hash/crc64 computes).
// A len2 of zero or less returns crc1.
func Combine(tab *crc64.Table, crc1, crc2 uint64, len2 int64) uint64 {
	if len2 <= 0 {
		return crc1
	}
	pw := powersOf(tab)
	poly := polyOf(tab)
	// x^(8·len2) = x^(len2·2^3): walk len2's bits starting at power 3.
	xn := one
	n := uint64(len2)
	for k := 3; n != 0; k++ {
		if n&1 != 0 {
			xn = mulMod(pw[k], xn, poly)
		}
		n >>= 1
	}
	return mulMod(xn, crc1, poly) ^ crc2
}
