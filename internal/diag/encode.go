package diag

import (
	"encoding/base64"
	"encoding/binary"
)

// b64 is the base64 form integrity headers use (RFC 1864, S3 checksums).
func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// b64u32 encodes a CRC32 as S3 does: its 4 big-endian bytes in base64.
func b64u32(v uint32) string {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return b64(b[:])
}
