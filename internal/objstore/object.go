package objstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// PutObject stores r as bucket/key, replacing any existing object. The data
// streams to disk (memory use does not grow with the object), or, up to
// Options.InlineMax bytes, is received into memory and committed with the
// metadata; the object becomes visible, atomically, once data and
// metadata are durable. It fails
// with ErrNoSuchBucket, ErrInvalidKey, ErrIncompleteBody, ErrBadDigest or a
// *TooLargeError, and then nothing is stored.
func (s *Store) PutObject(ctx context.Context, bucket, key string, r io.Reader, opts PutOptions) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if s.inlineMax > 0 && opts.Size <= s.inlineMax && opts.Size <= s.maxObject {
		// No bucket check first: the body is small, and the commit
		// checks the bucket (a read less per small PUT, 6% of the
		// server's CPU on 4 KiB PUTs).
		var sp []byte
		info, inlined, err := s.putInline(ctx, bucket, key, r, opts, &sp)
		if inlined || err != nil {
			return info, err
		}
		r = spill(sp, r)
	}
	// Refuse before reading a large body that has nowhere to go.
	if _, err := s.cat.GetBucket(ctx, bucket); err != nil {
		return ObjectInfo{}, err
	}
	w, err := s.writeData(ctx, r, opts.Size, s.maxObject, "object", opts.ContentMD5)
	if err != nil {
		return ObjectInfo{}, err
	}
	rec := ObjectRecord{
		ObjectInfo: ObjectInfo{
			Bucket:    bucket,
			Key:       key,
			Size:      w.size,
			ModTime:   now(),
			ETag:      hex.EncodeToString(w.md5),
			MD5:       w.md5,
			CRC64NVME: w.nvme,
			CRC64ECMA: w.ecma,
			Meta:      normMeta(opts.Meta),
		},
		Segments: []Segment{{FileID: w.id, Size: w.size}},
	}
	return s.commitObject(ctx, rec)
}

// commitObject commits rec, whose files are durable, as the key's new
// current version, and collects what it replaced. If the commit fails,
// rec's files are removed.
func (s *Store) commitObject(ctx context.Context, rec ObjectRecord) (ObjectInfo, error) {
	rec.VersionKey = newVersionKey(time.Now())
	ch, err := s.cat.PutObject(ctx, rec)
	if err != nil {
		for _, seg := range rec.Segments {
			s.removeFiles(seg.FileID)
		}
		return ObjectInfo{}, err
	}
	s.collect(ctx, ch.Garbage)
	info := rec.ObjectInfo
	info.VersionID = ch.VersionID
	return info, nil
}

// normMeta makes an empty User map nil, so Meta values compare equal however
// they were built.
func normMeta(m Meta) Meta {
	if len(m.User) == 0 {
		m.User = nil
	}
	if len(m.Tags) == 0 {
		m.Tags = nil
	}
	return m
}

// Object is an open object: a consistent snapshot of its data even if it is
// overwritten or deleted while open (it holds its data files open, or,
// for an object the catalog holds, its data in memory). Its
// methods are safe for concurrent use. Close it when done.
type Object struct {
	Info ObjectInfo
	segs []openSegment // in order; segs[i].off is where segment i starts
	// data is the object's data when the catalog holds it (inline is
	// set); segs is then empty.
	data   []byte
	inline bool

	closeOnce sync.Once
	closeErr  error
}

type openSegment struct {
	f         *os.File
	off, size int64
}

// Size returns the object's length in bytes.
func (o *Object) Size() int64 { return o.Info.Size }

// ReadAt reads len(p) bytes at offset off of the object's data, across
// segment files. Per io.ReaderAt it returns io.EOF only when fewer than
// len(p) bytes remain (off+len(p) passes the end).
func (o *Object) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read object %s/%s: negative offset %d", o.Info.Bucket, o.Info.Key, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= o.Info.Size {
		return 0, io.EOF
	}
	if o.inline {
		n := copy(p, o.data[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	i := sort.Search(len(o.segs), func(i int) bool { return o.segs[i].off+o.segs[i].size > off })
	n := 0
	for ; n < len(p) && i < len(o.segs); i++ {
		sg := o.segs[i]
		rel := off + int64(n) - sg.off
		want := int64(len(p) - n)
		if rest := sg.size - rel; want > rest {
			want = rest
		}
		m, err := sg.f.ReadAt(p[n:n+int(want)], rel)
		n += m
		if err != nil && !(errors.Is(err, io.EOF) && int64(m) == want) {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // the file is shorter than its row says
			}
			return n, fmt.Errorf("read object %s/%s: %w", o.Info.Bucket, o.Info.Key, err)
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// NewReader returns a reader of n bytes from offset off (a Range request's
// body). n < 0 means to the end.
func (o *Object) NewReader(off, n int64) io.Reader {
	if n < 0 || off+n > o.Info.Size {
		n = o.Info.Size - off
	}
	return io.NewSectionReader(o, off, n)
}

// FileRange is a stretch of an object's data inside one of its data
// files: Len bytes of File from offset Off.
type FileRange struct {
	File     *os.File
	Off, Len int64
}

// FileRanges returns where the n bytes from offset off of the object's
// data lie (n < 0: to the end), in order, so that a caller can hand the
// files to the kernel (sendfile(2) through io.ReaderFrom) instead of
// copying the data through memory. The files belong to the Object: do not
// close them, and use them only until Close. ReadAt (pread) leaves their
// offsets alone, but anything that reads from the file offset, such as
// sendfile after a Seek, must not run on the same Object from two
// goroutines at once.
//
// It returns nil when the data is not in files (an object the catalog
// holds; see Options.InlineMax): read it with ReadAt.
func (o *Object) FileRanges(off, n int64) []FileRange {
	if o.inline {
		return nil
	}
	if off < 0 {
		off = 0
	}
	if n < 0 || off+n > o.Info.Size {
		n = o.Info.Size - off
	}
	if n <= 0 {
		return nil
	}
	i := sort.Search(len(o.segs), func(i int) bool { return o.segs[i].off+o.segs[i].size > off })
	var out []FileRange
	for ; n > 0 && i < len(o.segs); i++ {
		sg := o.segs[i]
		rel := off - sg.off
		k := min(n, sg.size-rel)
		out = append(out, FileRange{File: sg.f, Off: rel, Len: k})
		off += k
		n -= k
	}
	return out
}

// Close releases the object's files.
func (o *Object) Close() error {
	o.closeOnce.Do(func() {
		for _, sg := range o.segs {
			if err := sg.f.Close(); err != nil && o.closeErr == nil {
				o.closeErr = err
			}
		}
	})
	return o.closeErr
}

// OpenObject opens bucket/key's current version for reading. It fails
// with ErrNoSuchBucket or ErrNoSuchKey (a *DeleteMarkerError when the
// current version is a delete marker).
func (s *Store) OpenObject(ctx context.Context, bucket, key string) (*Object, error) {
	return s.OpenObjectVersion(ctx, bucket, key, "")
}

// OpenObjectVersion opens one version of bucket/key for reading; an empty
// versionID means the current version. A version ID that names no
// version fails with ErrNoSuchVersion, one that names a delete marker
// with a *DeleteMarkerError (ErrVersionIsDeleteMarker).
func (s *Store) OpenObjectVersion(ctx context.Context, bucket, key, versionID string) (*Object, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	rec, data, inline, err := s.recordData(ctx, bucket, key, versionID)
	if err != nil {
		return nil, err
	}
	if inline {
		return &Object{Info: rec.ObjectInfo, data: data, inline: true}, nil
	}
	o := &Object{Info: rec.ObjectInfo, segs: make([]openSegment, 0, len(rec.Segments))}
	var off int64
	for _, sg := range rec.Segments {
		f, err := os.Open(s.dataPath(sg.FileID))
		if err != nil {
			o.Close()
			return nil, fmt.Errorf("open object %s/%s: data file: %w", bucket, key, err)
		}
		o.segs = append(o.segs, openSegment{f: f, off: off, size: sg.Size})
		off += sg.Size
	}
	return o, nil
}

// StatObject returns the metadata of an object's current version. It
// fails with ErrNoSuchBucket or ErrNoSuchKey (a *DeleteMarkerError when
// the current version is a delete marker).
func (s *Store) StatObject(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	return s.StatObjectVersion(ctx, bucket, key, "")
}

// StatObjectVersion is StatObject for one version, as OpenObjectVersion
// selects it.
func (s *Store) StatObjectVersion(ctx context.Context, bucket, key, versionID string) (ObjectInfo, error) {
	if err := CheckKey(key); err != nil {
		return ObjectInfo{}, err
	}
	rec, err := s.getRecord(ctx, bucket, key, versionID)
	return rec.ObjectInfo, err
}

// getRecord reads the current version (versionID "") or one version; a
// delete marker asked for by ID is a *DeleteMarkerError.
func (s *Store) getRecord(ctx context.Context, bucket, key, versionID string) (ObjectRecord, error) {
	if versionID == "" {
		return s.cat.GetObject(ctx, bucket, key)
	}
	rec, err := s.cat.GetObjectVersion(ctx, bucket, key, versionID)
	if err == nil && rec.DeleteMarker {
		return ObjectRecord{}, &DeleteMarkerError{Bucket: bucket, Key: key, VersionID: rec.VersionID, ByID: true}
	}
	return rec, err
}

// DeleteObject deletes bucket/key as DeleteObjectVersion does with no
// version ID.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := s.DeleteObjectVersion(ctx, bucket, key, "")
	return err
}

// DeleteResult says what a delete did.
type DeleteResult struct {
	// VersionID is the delete marker added, or the version removed; empty
	// in a bucket that never had versioning enabled.
	VersionID string
	// DeleteMarker reports that a delete marker was added or removed.
	DeleteMarker bool
}

// DeleteObjectVersion deletes as S3's DeleteObject does. With no version
// ID it removes the object in an unversioned bucket and adds a delete
// marker in a versioned one (the null one when versioning is suspended).
// With a version ID it removes that version for good; if it was the
// current one, the next newest becomes current. Deleting a missing key or
// version is not an error; a missing bucket is ErrNoSuchBucket. Objects
// already open stay readable.
func (s *Store) DeleteObjectVersion(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	if err := CheckKey(key); err != nil {
		return DeleteResult{}, err
	}
	var ch Change
	var err error
	if versionID == "" {
		t := time.Now()
		ch, err = s.cat.DeleteObject(ctx, DeleteRequest{Bucket: bucket, Key: key, MarkerKey: newVersionKey(t), Time: t.UTC().Truncate(time.Millisecond)})
	} else {
		ch, err = s.cat.DeleteVersion(ctx, DeleteRequest{Bucket: bucket, Key: key, VersionID: versionID})
	}
	if err != nil {
		return DeleteResult{}, err
	}
	s.collect(ctx, ch.Garbage)
	return DeleteResult{VersionID: ch.VersionID, DeleteMarker: ch.DeleteMarker}, nil
}

// CopyObject copies src to dst within the store without reading the data:
// the destination gets hard links to the source's data files (a copy where
// the file system cannot link). Size, ETag and checksums are preserved; the
// metadata is the source's or, with ReplaceMeta, opts.Meta. Copying an
// object onto itself with ReplaceMeta changes its metadata.
func (s *Store) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error) {
	if err := CheckKey(srcKey); err != nil {
		return ObjectInfo{}, err
	}
	if err := CheckKey(dstKey); err != nil {
		return ObjectInfo{}, err
	}
	if _, err := s.cat.GetBucket(ctx, dstBucket); err != nil {
		return ObjectInfo{}, err
	}
	rec, ids, data, inline, err := s.linkObject(ctx, srcBucket, srcKey, opts.SourceVersionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	if err := s.syncDataDirs(ids); err != nil {
		s.removeFiles(ids...)
		return ObjectInfo{}, err
	}
	rec.Bucket, rec.Key = dstBucket, dstKey
	rec.ModTime = now()
	rec.VersionID, rec.IsLatest, rec.NoncurrentSince = "", false, time.Time{}
	if opts.ReplaceMeta {
		rec.Meta = normMeta(opts.Meta)
	}
	if inline {
		return s.commitInline(ctx, rec, data)
	}
	return s.commitObject(ctx, rec)
}

// linkObject reads src's row and links its data files to new IDs, under
// gcMu so the files cannot be unlinked in between. It returns the row with
// the new segments. Inline data is returned instead (inline set), to be
// stored anew under the row's new segment ID.
func (s *Store) linkObject(ctx context.Context, bucket, key, versionID string) (rec ObjectRecord, ids []string, data []byte, inline bool, err error) {
	s.gcMu.RLock()
	defer s.gcMu.RUnlock()
	rec, data, inline, err = s.recordData(ctx, bucket, key, versionID)
	if err != nil {
		return rec, nil, nil, false, err
	}
	if inline {
		rec.Segments = []Segment{{FileID: newFileID(), Size: rec.Size, Inline: true}}
		return rec, nil, data, true, nil
	}
	rec, ids, err = s.linkFiles(ctx, bucket, key, rec)
	return rec, ids, nil, false, err
}

// linkFiles links rec's data files to new IDs (see linkObject).
func (s *Store) linkFiles(ctx context.Context, bucket, key string, rec ObjectRecord) (ObjectRecord, []string, error) {
	ids := make([]string, 0, len(rec.Segments))
	segs := make([]Segment, len(rec.Segments))
	for i, sg := range rec.Segments {
		id, err := s.linkData(ctx, sg.FileID)
		if err != nil {
			s.removeFiles(ids...)
			return rec, nil, fmt.Errorf("copy %s/%s: %w", bucket, key, err)
		}
		ids = append(ids, id)
		segs[i] = Segment{FileID: id, Size: sg.Size}
	}
	rec.Segments = segs
	return rec, ids, nil
}
