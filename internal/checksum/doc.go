// Package checksum provides the 64-bit CRCs that object stores publish for
// end-to-end integrity checks, and the arithmetic to combine them.
//
// Two CRC-64 flavours are in use:
//
//   - CRC-64/NVME, sent by S3 as x-amz-checksum-crc64nvme: reflected
//     polynomial 0x9a6c9329ac4bc9b5, initial value and final XOR all ones,
//     check value 0xae8b14860a799888.
//   - CRC-64/XZ, sent by Alibaba OSS as x-oss-hash-crc64ecma: reflected
//     ECMA-182 polynomial (Go's crc64.ECMA), initial value and final XOR all
//     ones, check value 0x995dc9bbdf1939fa.
//
// [Combine] computes the CRC of a concatenation from the CRCs of its pieces
// (the method of zlib's crc32_combine), which is how a multipart object gets a
// whole-object CRC without re-reading its parts.
//
// The package is pure: no I/O, no logging, no clock.
package checksum
