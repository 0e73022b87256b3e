package objstore

import (
	"context"
	"strings"
)

// The listing algorithm, shared by objects and uploads. Keys are visited in
// byte order through Catalog scans that read rows lazily. A key holding the
// delimiter after the prefix rolls up into a common prefix; once one is
// emitted, the scan restarts at the prefix's successor (the least string
// greater than every string starting with it), so the keys below it are
// never read. A page thus costs one seek per common prefix plus one row per
// object listed, whatever the bucket holds.

// upperBound returns the least string greater than every string with
// prefix p, or "" if there is none (p is empty or all 0xff bytes).
func upperBound(p string) string {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return ""
	}
	b[len(b)-1]++
	return string(b)
}

// commonPrefix returns the common prefix key rolls up into: prefix plus
// the rest of key up to and including the first delimiter.
func commonPrefix(key, prefix, delim string) (string, bool) {
	if delim == "" || !strings.HasPrefix(key, prefix) {
		return "", false
	}
	i := strings.Index(key[len(prefix):], delim)
	if i < 0 {
		return "", false
	}
	return key[:len(prefix)+i+len(delim)], true
}

// listQuery is one listing request.
type listQuery struct {
	prefix, delim    string
	marker, idMarker string // exclusive start; idMarker for uploads only
	max              int
}

// page is one page of a listing.
type page[T any] struct {
	items     []T
	prefixes  []string
	truncated bool
	nextKey   string // last key or common prefix, when truncated
	nextID    string // upload ID of the last upload, when truncated
}

// scanFunc runs a Catalog scan, passing each row's key and ID (empty for
// objects) with the row.
type scanFunc[T any] func(r KeyRange, fn func(key, id string, item T) bool) error

// startRange returns where a listing starts, and false if nothing can
// follow the marker.
func (q listQuery) startRange() (KeyRange, bool) {
	start := KeyRange{From: q.prefix, Inclusive: true}
	if q.marker == "" || q.marker < q.prefix {
		return start, true
	}
	// A marker inside a common prefix (or the prefix itself, as NextMarker
	// returns it) means the whole group was listed: skip past it.
	if cp, ok := commonPrefix(q.marker, q.prefix, q.delim); ok {
		succ := upperBound(cp)
		return KeyRange{From: succ, Inclusive: true}, succ != ""
	}
	return KeyRange{From: q.marker, FromID: q.idMarker}, true
}

func listPage[T any](q listQuery, scan scanFunc[T]) (page[T], error) {
	var pg page[T]
	if q.max <= 0 {
		q.max = 1000
	}
	r, ok := q.startRange()
	if !ok {
		return pg, nil
	}
	r.To = upperBound(q.prefix)
	count := 0
	for {
		r.Limit = q.max - count + 1 // one more, to tell if the page is truncated
		var next *KeyRange
		stop := false
		err := scan(r, func(key, id string, item T) bool {
			if count == q.max {
				pg.truncated, stop = true, true
				return false
			}
			if cp, ok := commonPrefix(key, q.prefix, q.delim); ok {
				pg.prefixes = append(pg.prefixes, cp)
				count++
				pg.nextKey, pg.nextID = cp, ""
				if succ := upperBound(cp); succ != "" {
					next = &KeyRange{From: succ, Inclusive: true, To: r.To}
				} else {
					stop = true
				}
				return false
			}
			pg.items = append(pg.items, item)
			count++
			pg.nextKey, pg.nextID = key, id
			return true
		})
		if err != nil {
			return page[T]{}, err
		}
		if stop || next == nil {
			break
		}
		r = *next
	}
	if !pg.truncated {
		pg.nextKey, pg.nextID = "", ""
	}
	return pg, nil
}

// ListObjects lists one page of a bucket's objects in UTF-8 byte order of
// keys. It fails with ErrNoSuchBucket.
//
// With a delimiter, keys that hold it after the prefix are rolled up into
// CommonPrefixes. The Marker is exclusive; a Marker that falls inside a
// common prefix (such as a NextMarker that is one) resumes after that whole
// prefix, which was already listed.
func (s *Store) ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error) {
	if _, err := s.cat.GetBucket(ctx, bucket); err != nil {
		return ListResult{}, err
	}
	q := listQuery{prefix: opts.Prefix, delim: opts.Delimiter, marker: opts.Marker, max: opts.MaxKeys}
	pg, err := listPage(q, func(r KeyRange, fn func(key, id string, item ObjectInfo) bool) error {
		return s.cat.ScanObjects(ctx, bucket, r, func(rec ObjectRecord) bool {
			return fn(rec.Key, "", rec.ObjectInfo)
		})
	})
	if err != nil {
		return ListResult{}, err
	}
	return ListResult{
		Objects:        pg.items,
		CommonPrefixes: pg.prefixes,
		IsTruncated:    pg.truncated,
		NextMarker:     pg.nextKey,
	}, nil
}

// ListMultipartUploads lists a bucket's in-progress uploads, ordered by key
// and then by initiation (upload IDs sort in creation order). KeyMarker
// alone resumes after every upload of that key; with UploadIDMarker, after
// that upload. Delimiter and the markers behave as in ListObjects.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error) {
	if _, err := s.cat.GetBucket(ctx, bucket); err != nil {
		return ListUploadsResult{}, err
	}
	q := listQuery{
		prefix: opts.Prefix, delim: opts.Delimiter,
		marker: opts.KeyMarker, idMarker: opts.UploadIDMarker,
		max: opts.MaxUploads,
	}
	pg, err := listPage(q, func(r KeyRange, fn func(key, id string, item Upload) bool) error {
		return s.cat.ScanUploads(ctx, bucket, r, func(u Upload) bool {
			return fn(u.Key, u.UploadID, u)
		})
	})
	if err != nil {
		return ListUploadsResult{}, err
	}
	return ListUploadsResult{
		Uploads:            pg.items,
		CommonPrefixes:     pg.prefixes,
		IsTruncated:        pg.truncated,
		NextKeyMarker:      pg.nextKey,
		NextUploadIDMarker: pg.nextID,
	}, nil
}
