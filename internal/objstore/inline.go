package objstore

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/strata-cdn/strata/internal/checksum"
)

// Small objects are kept inside the catalog, as MinIO keeps objects
// under 128 KiB inside their xl.meta: the data is written in the same
// transaction as the object's row, so the one commit that makes the row
// durable (a WAL fsync, shared by concurrent writes through group commit)
// makes the data durable too. A data file costs the file's fsync and its
// directory's fsync on top of that commit, each a disk flush a PUT waits
// for. The promise is unchanged: a PUT is answered only once data and
// metadata would survive power loss.

// InlineCatalog is a [Catalog] that can hold small objects' data with
// their metadata. A Store whose catalog implements it stores objects up to
// Options.InlineMax bytes that way; others always use data files.
type InlineCatalog interface {
	Catalog
	// PutInlineObject is PutObject for a record whose only segment is
	// Inline and as long as data: data is stored under the segment's
	// FileID in the same transaction as the row. The catalog deletes it
	// in the transaction that drops the last version referencing it.
	PutInlineObject(ctx context.Context, rec ObjectRecord, data []byte) (Change, error)
	// ReadInline returns the data of an inline segment. It fails with
	// ErrNoInlineData when there is none (its version was replaced or
	// deleted after its row was read).
	ReadInline(ctx context.Context, id string) ([]byte, error)
}

// ErrNoInlineData reports an inline segment whose data is gone: the
// version that referenced it was removed since its row was read.
var ErrNoInlineData = errors.New("inline object data does not exist")

// maxInlineRetries bounds how often a read retries when the version it
// read was removed before its inline data could be read; each retry reads
// the key's row anew, so only a key rewritten that often in a row fails.
const maxInlineRetries = 8

// putInline receives a body announced as at most s.inlineMax bytes (or of
// unknown size) into memory and commits it with its row. If a body of
// unknown size turns out larger, it is not kept (inlined false): *spilled
// is what was read of it, and the caller stores spill(*spilled, r) in a
// data file as usual.
func (s *Store) putInline(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions, spilled *[]byte) (info ObjectInfo, inlined bool, err error) {
	max := min(s.inlineMax, s.maxObject)
	if opts.Size >= 0 {
		max = opts.Size // the caller checked that it is at most both
	}
	bp := s.smallBufs.Get().(*[]byte)
	defer s.smallBufs.Put(bp)
	if int64(cap(*bp)) < max+1 {
		*bp = make([]byte, s.inlineMax+1)
	}
	buf := (*bp)[:max+1]
	// Read one byte past what may arrive, to tell "exactly enough" from
	// "too much" without reading on.
	n, err := io.ReadFull(ctxReader{ctx, r}, buf)
	switch {
	case err == nil && opts.Size >= 0:
		return info, true, fmt.Errorf("%w: received more than the %d bytes announced", ErrIncompleteBody, opts.Size)
	case err == nil && max == s.maxObject:
		return info, true, &TooLargeError{What: "object", Limit: s.maxObject}
	case err == nil:
		// Unknown size, larger than inlineMax: stream it to a file,
		// starting with what was read (copied: buf goes back to the
		// pool).
		*spilled = bytes.Clone(buf)
		return info, false, nil
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// The body ended: n bytes in all.
	default:
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return info, true, err
		}
		return info, true, fmt.Errorf("receive object data: %w", err)
	}
	if opts.Size >= 0 && int64(n) < opts.Size {
		return info, true, fmt.Errorf("%w: received %d of the %d bytes announced", ErrIncompleteBody, n, opts.Size)
	}
	data := buf[:n]
	sum := md5.Sum(data)
	if opts.ContentMD5 != nil && !bytes.Equal(opts.ContentMD5, sum[:]) {
		return info, true, fmt.Errorf("%w: computed %x, Content-MD5 says %x", ErrBadDigest, sum[:], opts.ContentMD5)
	}
	rec := ObjectRecord{
		ObjectInfo: ObjectInfo{
			Bucket:    bucket,
			Key:       key,
			Size:      int64(n),
			ModTime:   now(),
			ETag:      hex.EncodeToString(sum[:]),
			MD5:       sum[:],
			CRC64NVME: checksum.ChecksumNVME(data),
			CRC64ECMA: checksum.ChecksumECMA(data),
			Meta:      normMeta(opts.Meta),
		},
		Segments: []Segment{{FileID: newFileID(), Size: int64(n), Inline: true}},
	}
	info, err = s.commitInline(ctx, rec, data)
	return info, true, err
}

// spill is what putInline read of a body it did not keep: the body to
// store in a file is spill followed by the rest of r.
func spill(buf []byte, r io.Reader) io.Reader {
	return io.MultiReader(bytes.NewReader(buf), r)
}

// commitInline commits rec, whose one segment is inline data, as the
// key's new current version.
func (s *Store) commitInline(ctx context.Context, rec ObjectRecord, data []byte) (ObjectInfo, error) {
	if s.inl == nil {
		return ObjectInfo{}, fmt.Errorf("put %s/%s: the catalog cannot hold inline data", rec.Bucket, rec.Key)
	}
	rec.VersionKey = newVersionKey(time.Now())
	ch, err := s.inl.PutInlineObject(ctx, rec, data)
	if err != nil {
		return ObjectInfo{}, err
	}
	s.collect(ctx, ch.Garbage)
	info := rec.ObjectInfo
	info.VersionID = ch.VersionID
	return info, nil
}

// recordData reads a version's row (see getRecord) and, when its data is
// inline, the data, in a consistent pair: if the version was removed in
// between, it reads the row again. inline reports inline data.
func (s *Store) recordData(ctx context.Context, bucket, key, versionID string) (rec ObjectRecord, data []byte, inline bool, err error) {
	for try := 0; ; try++ {
		rec, err = s.getRecord(ctx, bucket, key, versionID)
		if err != nil {
			return rec, nil, false, err
		}
		id, ok := inlineID(rec.Segments)
		if !ok {
			return rec, nil, false, nil
		}
		if s.inl == nil {
			return rec, nil, false, fmt.Errorf("read %s/%s: the catalog holds inline data it cannot read", bucket, key)
		}
		data, err = s.inl.ReadInline(ctx, id)
		if err == nil {
			if int64(len(data)) != rec.Size {
				return rec, nil, false, fmt.Errorf("read %s/%s: inline data of %d bytes, the row says %d: %w", bucket, key, len(data), rec.Size, io.ErrUnexpectedEOF)
			}
			return rec, data, true, nil
		}
		if !errors.Is(err, ErrNoInlineData) || try == maxInlineRetries {
			return rec, nil, false, fmt.Errorf("read %s/%s: %w", bucket, key, err)
		}
	}
}
