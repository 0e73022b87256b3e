//go:build amd64 && !purego

package checksum

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// The folding code needs SSE4.1 (PINSRQ, PEXTRQ) and PCLMULQDQ; its
// 512-bit variant AVX-512 with VPCLMULQDQ (x/sys/cpu reports AVX-512 only
// when the OS saves its registers).
var (
	hasCLMUL   = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41 && cpu.X86.HasSSE2
	hasVPCLMUL = hasCLMUL && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VPCLMULQDQ
)

// alignHead returns how many bytes precede p's first 16-byte boundary: the
// SSE code loads aligned blocks.
func alignHead(p []byte) int {
	ptr := uintptr(unsafe.Pointer(&p[0]))
	return int((ptr+15)&^15 - ptr)
}

// ecmaUpdateAsm folds p, a whole number of 128-byte blocks starting
// 16-byte aligned, into crc (crc64.Update's convention).
//
//go:noescape
func ecmaUpdateAsm(crc uint64, p []byte) uint64

// ecmaUpdateAsm512 is ecmaUpdateAsm with 512-bit vectors; p holds at least
// 8 blocks.
//
//go:noescape
func ecmaUpdateAsm512(crc uint64, p []byte) uint64
