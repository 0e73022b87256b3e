package s3api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/strata-cdn/strata/internal/httphdr"
	"github.com/strata-cdn/strata/internal/objstore"
)

var errPreconditionFailed = newError(http.StatusPreconditionFailed, "PreconditionFailed",
	"At least one of the pre-conditions you specified did not hold.")

// getObject serves GetObject and HeadObject: conditionals (RFC 9110
// §13.2.2), If-Range (§13.1.5), single and multiple ranges (§14), and the
// whole-object integrity headers on full responses only (C07).
func (req *request) getObject() error {
	head := req.r.Method == http.MethodHead
	versionID, err := req.versionID()
	if err != nil {
		return err
	}
	var (
		info objstore.ObjectInfo
		obj  *objstore.Object
	)
	if head {
		info, err = req.h.Store.StatObjectVersion(req.ctx, req.bucket, req.key, versionID)
	} else {
		obj, err = req.h.Store.OpenObjectVersion(req.ctx, req.bucket, req.key, versionID)
		if err == nil {
			defer obj.Close()
			info = obj.Info
		}
	}
	if err != nil {
		return err
	}
	setVersionHeaders(req.w.Header(), info)

	v := validators(info)
	switch httphdr.Evaluate(req.r.Method, req.r.Header, v) {
	case httphdr.PreconditionFailed:
		return errPreconditionFailed
	case httphdr.NotModified:
		// RFC 9110 §15.4.5: a 304 carries the fields a 200 would have
		// that a cache needs to update its stored response.
		hdr := req.w.Header()
		hdr.Set("ETag", v.ETag)
		hdr.Set("Last-Modified", httphdr.FormatHTTPDate(info.ModTime))
		setIf(hdr, "Cache-Control", info.Meta.CacheControl)
		setIf(hdr, "Expires", info.Meta.Expires)
		req.w.WriteHeader(http.StatusNotModified)
		return nil
	}

	ranges, err := req.requestedRanges(info, v)
	if err != nil {
		return err
	}
	hdr := req.w.Header()
	switch len(ranges) {
	case 0:
		req.setObjectHeaders(info, true)
		hdr.Set("Content-Length", strconv.FormatInt(info.Size, 10))
		req.w.WriteHeader(http.StatusOK)
		if head {
			return nil
		}
		return req.sendObject(obj, 0, info.Size)
	case 1:
		rg := ranges[0]
		req.setObjectHeaders(info, false)
		hdr.Set("Content-Range", rg.ContentRange(info.Size))
		hdr.Set("Content-Length", strconv.FormatInt(rg.Length, 10))
		req.w.WriteHeader(http.StatusPartialContent)
		if head {
			return nil
		}
		return req.sendObject(obj, rg.Start, rg.Length)
	default:
		req.setObjectHeaders(info, false)
		mb := httphdr.NewMultipartByteranges(ranges, info.Size, hdr.Get("Content-Type"), req.id)
		if err := mb.Err(); err != nil {
			// Ranges were validated against the size and the boundary is
			// the request id, so this is a bug, not a client error.
			return fmt.Errorf("multipart/byteranges for %d ranges: %w", len(ranges), err)
		}
		hdr.Set("Content-Type", mb.ContentType())
		hdr.Set("Content-Length", strconv.FormatInt(mb.Length(), 10))
		req.w.WriteHeader(http.StatusPartialContent)
		if head {
			return nil
		}
		sw := req.newSendWriter(mb.Length())
		if _, err := mb.Copy(sw, obj); err != nil {
			return err
		}
		return sw.finish()
	}
}

// requestedRanges returns the ranges to serve: none for a full response.
// An invalid Range field is ignored (RFC 9110 §14.2); an unsatisfiable one
// is 416 with "Content-Range: bytes */size" (§15.5.17). The partNumber
// query selects the whole of a single-part object as part 1.
func (req *request) requestedRanges(info objstore.ObjectInfo, v httphdr.Validators) ([]httphdr.ByteRange, error) {
	if pn := req.r.URL.Query().Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > maxPartNumber {
			return nil, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive.", maxPartNumber)
		}
		if info.PartsCount > 0 {
			return nil, newError(http.StatusNotImplemented, "NotImplemented",
				"GET by partNumber of a multipart object is not implemented by Strata; use a Range header.")
		}
		if n != 1 {
			return nil, newError(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber",
				"The requested partnumber is not satisfiable: the object has 1 part.")
		}
		if info.Size == 0 {
			return nil, nil
		}
		return []httphdr.ByteRange{{Start: 0, Length: info.Size}}, nil
	}
	field := req.r.Header.Get("Range")
	if field == "" || !httphdr.IfRangeMatches(req.r.Header, v) {
		return nil, nil
	}
	ranges, err := httphdr.ParseRange(field, info.Size)
	switch {
	case errors.Is(err, httphdr.ErrUnsatisfiable):
		e := newError(http.StatusRequestedRangeNotSatisfiable, "InvalidRange",
			"The requested range %q is not satisfiable for an object of %d bytes.", field, info.Size).
			with("RangeRequested", field).
			with("ActualObjectSize", strconv.FormatInt(info.Size, 10))
		e.Header = http.Header{"Content-Range": {"bytes */" + strconv.FormatInt(info.Size, 10)}}
		return nil, e
	case err != nil:
		return nil, nil
	}
	return ranges, nil
}
