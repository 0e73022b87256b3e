package objstore

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/checksum"
)

// newUploadID returns an upload ID that cannot be guessed (128 random bits)
// and sorts in creation order (it starts with the creation time), so that
// ordering uploads by ID orders them by initiation. Hex is URL-safe.
func newUploadID(t time.Time) string {
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixNano()))
	rand.Read(b[8:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// CreateMultipartUpload starts a multipart upload and returns its ID. It
// fails with ErrNoSuchBucket or ErrInvalidKey.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, meta Meta) (string, error) {
	if err := CheckKey(key); err != nil {
		return "", err
	}
	t := now()
	u := Upload{Bucket: bucket, Key: key, UploadID: newUploadID(time.Now()), Initiated: t, Meta: normMeta(meta)}
	if err := s.cat.CreateUpload(ctx, u); err != nil {
		return "", err
	}
	return u.UploadID, nil
}

// getUpload returns the upload, telling a missing bucket from a missing
// upload.
func (s *Store) getUpload(ctx context.Context, bucket, key, uploadID string) (Upload, error) {
	u, err := s.cat.GetUpload(ctx, bucket, key, uploadID)
	if errors.Is(err, ErrNoSuchUpload) {
		if _, berr := s.cat.GetBucket(ctx, bucket); berr != nil {
			return u, berr
		}
	}
	return u, err
}

// UploadPart stores one part (1..10000) of an upload, replacing a previous
// part with the same number. It fails with ErrNoSuchUpload,
// ErrInvalidPartNumber, ErrIncompleteBody, ErrBadDigest or a *TooLargeError
// (What "part").
func (s *Store) UploadPart(ctx context.Context, bucket, key, uploadID string, partNumber int, r io.Reader, opts PutOptions) (PartInfo, error) {
	if partNumber < 1 || partNumber > MaxParts {
		return PartInfo{}, fmt.Errorf("%w: got %d", ErrInvalidPartNumber, partNumber)
	}
	if _, err := s.getUpload(ctx, bucket, key, uploadID); err != nil {
		return PartInfo{}, err
	}
	w, err := s.writeData(ctx, r, opts.Size, s.maxPart, "part", opts.ContentMD5)
	if err != nil {
		return PartInfo{}, err
	}
	p := PartRecord{
		PartInfo: PartInfo{
			PartNumber: partNumber,
			ETag:       hex.EncodeToString(w.md5),
			Size:       w.size,
			ModTime:    now(),
		},
		MD5:       w.md5,
		CRC64NVME: w.nvme,
		CRC64ECMA: w.ecma,
		FileID:    w.id,
	}
	garbage, err := s.cat.PutPart(ctx, bucket, key, uploadID, p)
	if err != nil {
		s.removeFiles(w.id)
		return PartInfo{}, err
	}
	s.collect(ctx, garbage)
	return p.PartInfo, nil
}

// CompleteMultipartUpload assembles the listed parts into the object,
// without copying: the object reads from the parts' files. The list must
// be in ascending part order (ErrInvalidPartOrder), name existing parts by
// their ETags, quoted or not (ErrInvalidPart), and every part but the last
// must be at least MinPartSize (ErrEntityTooSmall). The object's ETag is
// the hex MD5 of the parts' binary MD5s, "-", and the part count; its
// CRC64s are combined from the parts'. Parts not listed are deleted.
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart) (ObjectInfo, error) {
	u, err := s.getUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return ObjectInfo{}, err
	}
	if len(parts) == 0 {
		return ObjectInfo{}, fmt.Errorf("%w: the request lists no parts", ErrInvalidPart)
	}
	for i := 1; i < len(parts); i++ {
		if parts[i].PartNumber <= parts[i-1].PartNumber {
			return ObjectInfo{}, fmt.Errorf("%w: part %d follows part %d", ErrInvalidPartOrder, parts[i].PartNumber, parts[i-1].PartNumber)
		}
	}
	stored, err := s.cat.ListParts(ctx, bucket, key, uploadID, 0, 0)
	if err != nil {
		return ObjectInfo{}, err
	}
	byNum := make(map[int]PartRecord, len(stored))
	for _, p := range stored {
		byNum[p.PartNumber] = p
	}

	rec := ObjectRecord{
		ObjectInfo: ObjectInfo{
			Bucket:     bucket,
			Key:        key,
			ModTime:    now(),
			PartsCount: len(parts),
			Meta:       u.Meta,
		},
		Segments: make([]Segment, 0, len(parts)),
	}
	md5s := md5.New()
	for i, cp := range parts {
		p, ok := byNum[cp.PartNumber]
		if !ok {
			return ObjectInfo{}, fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, cp.PartNumber)
		}
		if etag := strings.Trim(cp.ETag, `"`); !strings.EqualFold(etag, p.ETag) {
			return ObjectInfo{}, fmt.Errorf("%w: part %d has ETag %q, the request says %q", ErrInvalidPart, cp.PartNumber, p.ETag, cp.ETag)
		}
		if i < len(parts)-1 && p.Size < s.minPart {
			return ObjectInfo{}, fmt.Errorf("%w: part %d is %d bytes, under the minimum of %d for all parts but the last", ErrEntityTooSmall, cp.PartNumber, p.Size, s.minPart)
		}
		if i == 0 {
			rec.CRC64NVME, rec.CRC64ECMA = p.CRC64NVME, p.CRC64ECMA
		} else {
			rec.CRC64NVME = checksum.Combine(checksum.NVME, rec.CRC64NVME, p.CRC64NVME, p.Size)
			rec.CRC64ECMA = checksum.Combine(checksum.ECMA, rec.CRC64ECMA, p.CRC64ECMA, p.Size)
		}
		md5s.Write(p.MD5)
		rec.Size += p.Size
		rec.Segments = append(rec.Segments, Segment{FileID: p.FileID, Size: p.Size})
	}
	if rec.Size > s.maxObject {
		return ObjectInfo{}, &TooLargeError{What: "object", Limit: s.maxObject}
	}
	rec.ETag = fmt.Sprintf("%x-%d", md5s.Sum(nil), len(parts))

	rec.VersionKey = newVersionKey(time.Now())
	ch, err := s.cat.CompleteUpload(ctx, uploadID, rec)
	if err != nil {
		return ObjectInfo{}, err
	}
	s.collect(ctx, ch.Garbage)
	info := rec.ObjectInfo
	info.VersionID = ch.VersionID
	return info, nil
}

// AbortMultipartUpload discards an upload and its parts. It fails with
// ErrNoSuchUpload.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	if _, err := s.getUpload(ctx, bucket, key, uploadID); err != nil {
		return err
	}
	garbage, err := s.cat.AbortUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return err
	}
	s.collect(ctx, garbage)
	return nil
}

// ListParts lists the parts of an upload after partNumberMarker, at most
// maxParts (0 means 1000). It fails with ErrNoSuchUpload.
func (s *Store) ListParts(ctx context.Context, bucket, key, uploadID string, partNumberMarker, maxParts int) (ListPartsResult, error) {
	u, err := s.getUpload(ctx, bucket, key, uploadID)
	if err != nil {
		return ListPartsResult{}, err
	}
	if maxParts <= 0 {
		maxParts = 1000
	}
	recs, err := s.cat.ListParts(ctx, bucket, key, uploadID, partNumberMarker, maxParts+1)
	if err != nil {
		return ListPartsResult{}, err
	}
	res := ListPartsResult{Upload: u}
	if len(recs) > maxParts {
		recs = recs[:maxParts]
		res.IsTruncated = true
		res.NextPartNumberMarker = recs[len(recs)-1].PartNumber
	}
	res.Parts = make([]PartInfo, len(recs))
	for i, p := range recs {
		res.Parts[i] = p.PartInfo
	}
	return res, nil
}
