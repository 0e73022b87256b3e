package s3api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/objstore"
)

const maxPartNumber = 10000

func (req *request) uploadID() string { return req.r.URL.Query().Get("uploadId") }

func (req *request) partNumber() (int, error) {
	v := req.r.URL.Query().Get("partNumber")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, errInvalidArgument("Part number must be an integer between 1 and %d, inclusive (got %q).", maxPartNumber, v)
	}
	return n, nil
}

func (req *request) createMultipartUpload() error {
	meta, err := metaFromRequest(req.r)
	if err != nil {
		return err
	}
	id, err := req.h.Store.CreateMultipartUpload(req.ctx, req.bucket, req.key, meta)
	if err != nil {
		return err
	}
	if a, ok := findAlgo(req.r.Header.Get("x-amz-checksum-algorithm")); ok {
		req.w.Header().Set("x-amz-checksum-algorithm", strings.ToUpper(a.name))
	}
	req.writeXML(http.StatusOK, initiateMultipartUploadResult{Bucket: req.bucket, Key: req.key, UploadID: id})
	return nil
}

// uploadPart streams one part to the store, verifying declared checksums
// as it goes.
func (req *request) uploadPart() error {
	n, err := req.partNumber()
	if err != nil {
		return err
	}
	pr, opts, err := req.upload()
	if err != nil {
		return err
	}
	part, err := req.h.Store.UploadPart(req.ctx, req.bucket, req.key, req.uploadID(), n, pr, opts)
	if err != nil {
		return pr.cause(err)
	}
	hdr := req.w.Header()
	hdr.Set("ETag", quoteETag(part.ETag))
	pr.setChecksumHeaders(hdr)
	hdr.Set("Content-Length", "0")
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// uploadPartCopy copies a byte range of an existing object into a part:
// the source is opened (a consistent snapshot) and streamed to the store.
func (req *request) uploadPartCopy() error {
	n, err := req.partNumber()
	if err != nil {
		return err
	}
	srcBucket, srcKey, err := copySource(req.r)
	if err != nil {
		return err
	}
	srcVersion, err := copySourceVersion(req.r)
	if err != nil {
		return err
	}
	src, err := req.h.Store.OpenObjectVersion(req.ctx, srcBucket, srcKey, srcVersion)
	if err != nil {
		return copySourceError(err)
	}
	setIf(req.w.Header(), "x-amz-copy-source-version-id", src.Info.VersionID)
	defer src.Close()
	if err := checkCopyConditions(req.r, src.Info); err != nil {
		return err
	}
	start, length := int64(0), src.Info.Size
	if rv := req.r.Header.Get("x-amz-copy-source-range"); rv != "" {
		if start, length, err = parseCopyRange(rv, src.Info.Size); err != nil {
			return err
		}
	}
	part, err := req.h.Store.UploadPart(req.ctx, req.bucket, req.key, req.uploadID(), n,
		io.NewSectionReader(src, start, length), objstore.PutOptions{Size: length})
	if err != nil {
		return err
	}
	req.writeXML(http.StatusOK, copyPartResult{LastModified: xmlTime(part.ModTime), ETag: quoteETag(part.ETag)})
	return nil
}

// parseCopyRange parses x-amz-copy-source-range: "bytes=first-last", both
// required and inside the source.
func parseCopyRange(v string, size int64) (start, length int64, err error) {
	bad := errInvalidArgument("The x-amz-copy-source-range %q is not valid for a source object of %d bytes: use bytes=first-last within the object.", v, size)
	spec, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !ok {
		return 0, 0, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first || last >= size {
		return 0, 0, bad
	}
	return first, last - first + 1, nil
}

func (req *request) completeMultipartUpload() error {
	var in completeMultipartUpload
	if err := req.readXML(&in); err != nil {
		return err
	}
	if len(in.Parts) == 0 {
		return errMalformedXML(errors.New("no parts"))
	}
	cb, err := req.callbackFromHeader() // callback.go; checked before completing
	if err != nil {
		return err
	}
	parts := make([]objstore.CompletePart, 0, len(in.Parts))
	for _, p := range in.Parts {
		parts = append(parts, objstore.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	info, err := req.h.Store.CompleteMultipartUpload(req.ctx, req.bucket, req.key, req.uploadID(), parts)
	if err != nil {
		return err
	}
	setVersionHeader(req.w.Header(), info.VersionID)
	if cb != nil {
		return req.runCallback(cb, info)
	}
	req.writeXML(http.StatusOK, completeMultipartUploadResult{
		Location: "/" + req.bucket + "/" + req.key,
		Bucket:   req.bucket,
		Key:      req.key,
		ETag:     quoteETag(info.ETag),
	})
	return nil
}

func (req *request) abortMultipartUpload() error {
	if err := req.h.Store.AbortMultipartUpload(req.ctx, req.bucket, req.key, req.uploadID()); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (req *request) listParts() error {
	q := req.r.URL.Query()
	maxParts, err := parseMax(q, "max-parts", maxListKeys)
	if err != nil {
		return err
	}
	marker := 0
	if v := q.Get("part-number-marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return errInvalidArgument("part-number-marker %q is not a non-negative integer.", v)
		}
	}
	if maxParts == 0 {
		maxParts = 1
	}
	res, err := req.h.Store.ListParts(req.ctx, req.bucket, req.key, req.uploadID(), marker, maxParts)
	if err != nil {
		return err
	}
	out := listPartsResult{
		Bucket:               req.bucket,
		Key:                  req.key,
		UploadID:             req.uploadID(),
		Initiator:            theOwner,
		Owner:                theOwner,
		StorageClass:         "STANDARD",
		PartNumberMarker:     marker,
		NextPartNumberMarker: res.NextPartNumberMarker,
		MaxParts:             maxParts,
		IsTruncated:          res.IsTruncated,
	}
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, partXML{PartNumber: p.PartNumber, LastModified: xmlTime(p.ModTime), ETag: quoteETag(p.ETag), Size: p.Size})
	}
	req.writeXML(http.StatusOK, out)
	return nil
}

func (req *request) listMultipartUploads() error {
	q := req.r.URL.Query()
	lq, err := parseListQuery(q, "max-uploads")
	if err != nil {
		return err
	}
	out := listMultipartUploadsResult{
		Bucket:         req.bucket,
		KeyMarker:      lq.enc(q.Get("key-marker")),
		UploadIDMarker: q.Get("upload-id-marker"),
		Delimiter:      lq.enc(lq.delimiter),
		Prefix:         lq.enc(lq.prefix),
		EncodingType:   lq.encodingType(),
		MaxUploads:     lq.maxKeys,
	}
	if lq.maxKeys > 0 {
		res, err := req.h.Store.ListMultipartUploads(req.ctx, req.bucket, objstore.ListUploadsOptions{
			Prefix: lq.prefix, Delimiter: lq.delimiter, KeyMarker: q.Get("key-marker"),
			UploadIDMarker: q.Get("upload-id-marker"), MaxUploads: lq.maxKeys,
		})
		if err != nil {
			return err
		}
		out.IsTruncated = res.IsTruncated
		out.NextKeyMarker = lq.enc(res.NextKeyMarker)
		out.NextUploadIDMarker = res.NextUploadIDMarker
		for _, u := range res.Uploads {
			out.Uploads = append(out.Uploads, uploadXML{
				Key: lq.enc(u.Key), UploadID: u.UploadID, Initiator: theOwner, Owner: theOwner,
				StorageClass: "STANDARD", Initiated: xmlTime(u.Initiated),
			})
		}
		out.CommonPrefixes = lq.prefixes(res.CommonPrefixes)
	} else if _, err := req.h.Store.GetBucket(req.ctx, req.bucket); err != nil {
		return err
	}
	req.writeXML(http.StatusOK, out)
	return nil
}
