package objstore

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// Version keys (and so version IDs) are 32 hex digits: 64 bits of the
// bitwise complement of the creation time in nanoseconds, then 64 random
// bits. Byte order is thus newest first, which is the order S3 lists a
// key's versions in, and the random half makes IDs unguessable. Hex is
// URL-safe and never collides with "null".

// lastVersionNanos keeps version keys made by this process strictly
// increasing in time, so two writes in the same nanosecond (or across a
// clock step back) still order by when they were made. Across restarts,
// the catalog's newestKey covers a clock that stepped back.
var lastVersionNanos atomic.Int64

// newVersionKey returns a fresh version key for a version made at t.
func newVersionKey(t time.Time) string {
	n := t.UnixNano()
	for {
		last := lastVersionNanos.Load()
		if n <= last {
			n = last + 1
		}
		if lastVersionNanos.CompareAndSwap(last, n) {
			break
		}
	}
	var tail [8]byte
	rand.Read(tail[:]) // never fails (crypto/rand, Go 1.24+)
	return versionKeyAt(time.Unix(0, n), binary.BigEndian.Uint64(tail[:]))
}

// versionKeyAt returns the version key of time t with the given random
// half.
func versionKeyAt(t time.Time, tail uint64) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ^uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(b[8:], tail)
	return hex.EncodeToString(b[:])
}

// keyBefore returns a fresh version key that sorts just before k (one
// nanosecond newer). A k not made by versionKeyAt gets a key from now.
func keyBefore(k string) string {
	if len(k) != 32 {
		return newVersionKey(time.Now())
	}
	inv, err := strconv.ParseUint(k[:16], 16, 64)
	if err != nil || inv == 0 {
		return newVersionKey(time.Now())
	}
	var tail [8]byte
	rand.Read(tail[:])
	return versionKeyAt(time.Unix(0, int64(^(inv-1))), binary.BigEndian.Uint64(tail[:]))
}
