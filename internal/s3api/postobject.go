package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/postpolicy"
	"github.com/strata-cdn/strata/internal/sigv4"
)

// PostObject: browser form uploads (POST /bucket, multipart/form-data).
// The form's fields come first and are small (each at most 20 KiB); the
// file comes last, in the field "file", and streams to the store without
// being held in memory. The form is authenticated by its policy and the
// SigV4 signature of the policy, not by a signed request, so the operation
// runs for anonymous requests and checks the form itself.

const (
	maxFormField   = 20 << 10  // one non-file field
	maxFormPreData = 256 << 10 // all fields before the file
	maxFormFields  = 256
	// maxFieldCount is how far an oversized field is read to say how big
	// it was.
	maxFieldCount = 1 << 20
	// maxFormDrain is how much of a refused form is read and discarded.
	maxFormDrain = 16 << 20
)

const fileFieldHint = `the file must be sent in the field "file", last in the form`

// knownFormFields are the fields PostObject understands (lower case);
// x-amz-meta-*, x-amz-checksum-*, x-amz-server-side-encryption*, x-ignore-*
// and the callback variables x:* are recognised by prefix.
var knownFormFields = map[string]bool{
	"key": true, "bucket": true, "policy": true, "acl": true, "tagging": true,
	"x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-signature": true, "x-amz-security-token": true,
	"content-type": true, "cache-control": true, "content-disposition": true,
	"content-encoding": true, "content-language": true, "expires": true,
	"content-md5": true, "success_action_status": true,
	"success_action_redirect": true, "redirect": true,
	"x-amz-storage-class": true, "x-amz-website-redirect-location": true,
	"callback": true, "awsaccesskeyid": true, "signature": true,
}

func knownFormField(name string) bool {
	if knownFormFields[name] {
		return true
	}
	for _, p := range []string{"x-amz-meta-", "x-amz-checksum-", "x-amz-server-side-encryption", "x-ignore-", "x:"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// postForm is a form read up to its file part.
type postForm struct {
	fields   map[string]string // lower-case names; x:* as sent
	file     *multipart.Part
	filename string
	mr       *multipart.Reader
}

func formError(field, format string, args ...any) *apiError {
	return errInvalidArgument(format, args...).with("ArgumentName", field)
}

// readForm reads the form's fields up to the file part.
func (req *request) readForm() (*postForm, error) {
	ct := req.r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" {
		return nil, newError(http.StatusPreconditionFailed, "PreconditionFailed",
			"Bucket POST must be of the enclosure-type multipart/form-data (the request's Content-Type is %q); to upload with a signed request use PUT.", ct)
	}
	if params["boundary"] == "" {
		return nil, errInvalidArgument("The multipart/form-data Content-Type has no boundary parameter.")
	}
	f := &postForm{fields: map[string]string{}, mr: multipart.NewReader(req.body, params["boundary"])}
	var unknown []string
	total := 0
	for i := 0; ; i++ {
		part, err := f.mr.NextPart()
		if err == io.EOF {
			msg := `the form has no "file" field; ` + fileFieldHint
			if len(unknown) > 0 {
				msg = fmt.Sprintf(`the form has no "file" field (it has the unknown field %q); `, unknown[0]) + fileFieldHint
			}
			return nil, formError("file", "%s.", msg)
		}
		if err != nil {
			return nil, errMalformedPost("reading form part %d: %v", i+1, err)
		}
		raw := part.FormName()
		if raw == "" {
			return nil, errMalformedPost("form part %d has no name (Content-Disposition: form-data; name=\"...\")", i+1)
		}
		name := strings.ToLower(raw)
		if name == "file" {
			f.file, f.filename = part, part.FileName()
			if ct := part.Header.Get("Content-Type"); ct != "" && f.fields["content-type"] == "" {
				f.fields["\x00part-content-type"] = ct
			}
			return f, nil
		}
		if !knownFormField(name) && part.FileName() != "" {
			return nil, formError(raw, "unknown form field %q; %s.", raw, fileFieldHint)
		}
		if part.FileName() != "" {
			return nil, formError(raw, "form field %q carries a file (%q); %s.", raw, part.FileName(), fileFieldHint)
		}
		if i >= maxFormFields {
			return nil, formError(raw, "the form has more than %d fields before \"file\".", maxFormFields)
		}
		v, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
		if err != nil {
			return nil, errMalformedPost("reading form field %q: %v", raw, err)
		}
		if len(v) > maxFormField {
			if !knownFormField(name) {
				// Typically a file sent in a misnamed field (case C26).
				return nil, formError(raw, "unknown form field %q; %s.", raw, fileFieldHint)
			}
			n, _ := io.Copy(io.Discard, io.LimitReader(part, maxFieldCount))
			size := fmt.Sprintf("%d bytes", int64(len(v))+n)
			if int64(len(v))+n > maxFieldCount {
				size = fmt.Sprintf("more than %d bytes", maxFieldCount)
			}
			return nil, newError(http.StatusBadRequest, "MaxPostPreDataLengthExceededError",
				"form field %q is %s, over the 20 KiB limit for a form field.", raw, size).
				with("ArgumentName", raw).with("MaxSizeAllowed", fmt.Sprint(maxFormField))
		}
		total += len(v)
		if total > maxFormPreData {
			return nil, newError(http.StatusBadRequest, "MaxPostPreDataLengthExceededError",
				"the form's fields before \"file\" total more than %d bytes (at field %q).", maxFormPreData, raw)
		}
		if !knownFormField(name) {
			unknown = append(unknown, raw)
		}
		if strings.HasPrefix(name, "x:") {
			name = raw // callback variable names are case-sensitive
		}
		if _, dup := f.fields[name]; dup {
			return nil, formError(raw, "form field %q appears more than once; POST requires exactly one value for each form field.", raw)
		}
		f.fields[name] = string(v)
	}
}

func errMalformedPost(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "MalformedPOSTRequest",
		"The body of your POST request is not well-formed multipart/form-data: %s.", fmt.Sprintf(format, args...))
}

// policyFields is the form as the policy judges it: every field but the
// file's part Content-Type, which the browser chose.
func (f *postForm) policyFields() map[string]string {
	m := make(map[string]string, len(f.fields))
	for k, v := range f.fields {
		if !strings.HasPrefix(k, "\x00") {
			m[strings.ToLower(k)] = v
		}
	}
	return m
}

// authenticateForm verifies the form's policy signature and returns the
// parsed policy.
func (req *request) authenticateForm(f *postForm) (*postpolicy.Policy, error) {
	fl := f.fields
	if fl["awsaccesskeyid"] != "" || fl["signature"] != "" {
		return nil, formError("AWSAccessKeyId", "Signature Version 2 forms (AWSAccessKeyId, signature) are not supported; sign the policy with AWS4-HMAC-SHA256 (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature).")
	}
	b64, hasPolicy := fl["policy"]
	if !hasPolicy {
		return nil, newError(http.StatusForbidden, "AccessDenied",
			"Access Denied: the form has no \"policy\" field. A POST upload needs a policy and its signature (x-amz-signature); Strata does not allow anonymous writes, even to public-read buckets.")
	}
	for _, name := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"} {
		if fl[name] == "" {
			return nil, formError(name, "The form has a policy but no %q field; a signed form needs x-amz-algorithm, x-amz-credential, x-amz-date and x-amz-signature.", name)
		}
	}
	if a := fl["x-amz-algorithm"]; a != postpolicy.Algorithm {
		return nil, formError("x-amz-algorithm", "x-amz-algorithm %q is not supported; use %s.", a, postpolicy.Algorithm)
	}
	cred, err := postpolicy.ParseCredential(fl["x-amz-credential"])
	if err != nil {
		return nil, formError("x-amz-credential", "%v.", err)
	}
	if cred.Region != req.h.region() {
		return nil, formError("x-amz-credential", "x-amz-credential is scoped to region %q, but this node serves region %q.", cred.Region, req.h.region())
	}
	if d := fl["x-amz-date"]; len(d) < 8 || d[:8] != cred.Date {
		return nil, formError("x-amz-date", "x-amz-date %q is not on the day of the credential scope (%s).", d, cred.Date)
	}
	if _, err := time.Parse("20060102T150405Z", fl["x-amz-date"]); err != nil {
		return nil, formError("x-amz-date", "x-amz-date %q is not in the form 20060102T150405Z.", fl["x-amz-date"])
	}
	lookup := req.h.Credentials
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	secret, ok := lookup(cred.AccessKey)
	if !ok {
		return nil, newError(http.StatusForbidden, "InvalidAccessKeyId",
			"The AWS Access Key Id you provided does not exist in our records (x-amz-credential %q).", fl["x-amz-credential"])
	}
	if want := postpolicy.Signature(secret, cred, b64); !postpolicy.SignatureEqual(want, fl["x-amz-signature"]) {
		return nil, newError(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided: x-amz-signature must be the hex HMAC-SHA256 of the base64 policy field, exactly as sent, under the signing key of the credential scope.").
			with("StringToSign", b64)
	}
	p, err := postpolicy.Decode(b64)
	if err != nil {
		return nil, newError(http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: %v.", err)
	}
	form := postpolicy.Form{Bucket: req.bucket, Fields: f.policyFields(), Filename: f.filename}
	if err := p.Check(form, req.h.now()); err != nil {
		return nil, newError(http.StatusForbidden, "AccessDenied", "Invalid according to Policy: %v.", err)
	}
	return p, nil
}

// postObject stores the file of a browser form upload.
func (req *request) postObject() (err error) {
	defer func() {
		if err != nil {
			req.drainForm()
		}
	}()
	f, err := req.readForm()
	if err != nil {
		return err
	}
	fl := f.fields
	if b, ok := fl["bucket"]; ok && b != req.bucket {
		return formError("bucket", "The form's bucket field %q does not match the bucket %q it was posted to.", b, req.bucket)
	}
	if _, ok := fl["key"]; !ok {
		return formError("key", "Bucket POST must contain a field named 'key'.")
	}
	policy, err := req.authenticateForm(f)
	if err != nil {
		return err
	}
	key := postpolicy.Key(fl["key"], f.filename)
	req.key = key
	if key == "" {
		return formError("key", "The object key is empty (key field %q, file name %q).", fl["key"], f.filename)
	}
	bucket, err := req.h.Store.GetBucket(req.ctx, req.bucket)
	if err != nil {
		return err
	}
	meta, err := formMeta(f)
	if err != nil {
		return err
	}
	if v, ok := fl["acl"]; ok {
		public, err := cannedACL(v)
		if err != nil {
			return err
		}
		if public && !bucket.PublicRead {
			return newError(http.StatusNotImplemented, "NotImplemented",
				"acl %q on an object is not supported: Strata grants public read per bucket (PutBucketAcl public-read) or per key prefix (a bucket policy).", v)
		}
	}
	redirect, err := successRedirect(fl)
	if err != nil {
		return err
	}
	var cb *callbackSpec
	if v := fl["callback"]; v != "" {
		if cb, err = parseCallback("the callback form field", v, formCallbackVars(fl)); err != nil {
			return err
		}
	}
	var md5 []byte
	if v := fl["content-md5"]; v != "" {
		if md5, err = parseContentMD5(&http.Request{Header: http.Header{"Content-Md5": {v}}}); err != nil {
			return err
		}
	}
	fr, err := newFormFileReader(f, policy)
	if err != nil {
		return err
	}
	info, err := req.h.Store.PutObject(req.ctx, req.bucket, key, fr, objstore.PutOptions{Size: -1, Meta: meta, ContentMD5: md5})
	if err != nil {
		return fr.cause(err)
	}
	return req.postResponse(info, fr, fl, redirect, cb)
}

// drainForm reads on, up to maxFormDrain, after a refused form, so that
// the browser still sending its file reads the error instead of seeing
// the connection reset (the server closes a connection with unread data).
func (req *request) drainForm() {
	_, _ = io.CopyN(io.Discard, req.body, maxFormDrain)
}

// formMeta collects the object metadata from the form's fields, with the
// same rules and limits as PUT headers.
func formMeta(f *postForm) (objstore.Meta, error) {
	hdr := http.Header{}
	for k, v := range f.fields {
		switch {
		case k == "content-type", k == "cache-control", k == "content-disposition",
			k == "content-encoding", k == "content-language", k == "expires",
			strings.HasPrefix(k, "x-amz-meta-"):
			hdr.Set(k, v)
		}
	}
	if hdr.Get("Content-Type") == "" {
		// The browser's type for the chosen file.
		if ct := f.fields["\x00part-content-type"]; ct != "" {
			hdr.Set("Content-Type", ct)
		}
	}
	return metaFromRequest(&http.Request{Header: hdr})
}

// successRedirect validates success_action_redirect (or the older
// "redirect"); "" when the form has none.
func successRedirect(fl map[string]string) (string, error) {
	name := "success_action_redirect"
	v := fl[name]
	if v == "" {
		name, v = "redirect", fl["redirect"]
	}
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", formError(name, "%s %q is not an absolute http or https URL.", name, v)
	}
	return v, nil
}

// postResponse answers a stored form upload: the callback's answer when
// the form has one, else a 303 to success_action_redirect, else the
// success_action_status (204 by default; 201 with a PostResponse body).
func (req *request) postResponse(info objstore.ObjectInfo, fr *formFileReader, fl map[string]string, redirect string, cb *callbackSpec) error {
	hdr := req.w.Header()
	hdr.Set("ETag", quoteETag(info.ETag))
	location := req.objectURL(info.Key)
	hdr.Set("Location", location)
	if info.VersionID != "" {
		hdr.Set("x-amz-version-id", info.VersionID)
	}
	fr.setChecksumHeaders(hdr)
	if cb != nil {
		return req.runCallback(cb, info)
	}
	if redirect != "" {
		q := url.Values{"bucket": {req.bucket}, "key": {info.Key}, "etag": {quoteETag(info.ETag)}}
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		hdr.Set("Location", redirect+sep+q.Encode())
		hdr.Set("Content-Length", "0")
		req.w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	switch fl["success_action_status"] {
	case "200":
		hdr.Set("Content-Length", "0")
		req.w.WriteHeader(http.StatusOK)
	case "201":
		req.writeXML(http.StatusCreated, postResponse{
			Location: location, Bucket: req.bucket, Key: info.Key, ETag: quoteETag(info.ETag),
		})
	default:
		// S3 answers 204 to a missing or unsupported value.
		req.w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// postResponse is the body S3 sends for success_action_status 201.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

// objectURL is the absolute URL of key in the request's bucket, in the
// style (path or virtual host) the request used.
func (req *request) objectURL(key string) string {
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	path := strings.TrimSuffix(req.r.URL.EscapedPath(), "/")
	return scheme + "://" + req.r.Host + path + "/" + sigv4.EncodePath(key)
}

// formFileReader streams the file part to the store, enforcing the
// policy's content-length-range, computing declared x-amz-checksum-*
// values, and at the end checking that nothing but x-ignore-* fields
// follows the file. Any failure is returned by Read before io.EOF, so the
// store keeps nothing.
type formFileReader struct {
	f       *postForm
	n       int64
	lo, hi  int64
	ranged  bool
	sums    []*checksumState
	done    bool
	final   error
	failure error
}

func newFormFileReader(f *postForm, p *postpolicy.Policy) (*formFileReader, error) {
	fr := &formFileReader{f: f}
	fr.lo, fr.hi, fr.ranged = p.LengthRange()
	names := make([]string, 0)
	for k := range f.fields {
		if strings.HasPrefix(k, "x-amz-checksum-") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		v := f.fields[k]
		if k == "x-amz-checksum-algorithm" {
			a, ok := findAlgo(v)
			if !ok {
				return nil, formError(k, "x-amz-checksum-algorithm %q is not one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256.", v)
			}
			fr.addSum(a, "")
			continue
		}
		a, ok := findAlgo(k)
		if !ok {
			return nil, formError(k, "form field %q names an unknown checksum algorithm.", k)
		}
		if !validChecksum(a, v) {
			return nil, formError(k, "Value for %s is invalid: it must be the base64 of a %d-byte digest.", k, a.size)
		}
		fr.addSum(a, v)
	}
	return fr, nil
}

func (fr *formFileReader) addSum(a checksumAlgo, expected string) {
	for _, s := range fr.sums {
		if s.algo.name == a.name {
			if expected != "" {
				s.expected = expected
			}
			return
		}
	}
	fr.sums = append(fr.sums, &checksumState{algo: a, h: a.newHash(), expected: expected})
}

func (fr *formFileReader) fail(err error) error {
	if fr.failure == nil {
		fr.failure = err
	}
	fr.done, fr.final = true, err
	return err
}

func (fr *formFileReader) Read(p []byte) (int, error) {
	if fr.done {
		return 0, fr.final
	}
	n, err := fr.f.file.Read(p)
	fr.n += int64(n)
	for _, s := range fr.sums {
		s.h.Write(p[:n])
	}
	if fr.ranged && fr.n > fr.hi {
		le := &postpolicy.LengthError{Size: fr.n, AtLeast: true, Min: fr.lo, Max: fr.hi}
		return 0, fr.fail(newError(http.StatusBadRequest, "EntityTooLarge",
			"Your proposed upload exceeds the maximum allowed size: %v.", le).with("MaxSizeAllowed", fmt.Sprint(fr.hi)))
	}
	switch {
	case err == io.EOF:
		return n, fr.finish()
	case err != nil:
		return n, fr.fail(errMalformedPost("the form ended inside the file, after %d bytes (%v)", fr.n, err))
	}
	return n, nil
}

// finish runs the end-of-file checks and returns io.EOF or the failure.
func (fr *formFileReader) finish() error {
	if fr.ranged && fr.n < fr.lo {
		le := &postpolicy.LengthError{Size: fr.n, Min: fr.lo, Max: fr.hi}
		return fr.fail(newError(http.StatusBadRequest, "EntityTooSmall",
			"Your proposed upload is smaller than the minimum allowed size: %v.", le).with("MinSizeAllowed", fmt.Sprint(fr.lo)))
	}
	for _, s := range fr.sums {
		if s.expected == "" {
			continue
		}
		want, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(s.expected))
		if string(want) != string(s.h.Sum(nil)) {
			return fr.fail(&checksumMismatch{algorithm: s.algo.name})
		}
	}
	for {
		next, err := fr.f.mr.NextPart()
		if err == io.EOF {
			fr.done, fr.final = true, io.EOF
			return io.EOF
		}
		if err != nil {
			return fr.fail(errMalformedPost("after the file: %v", err))
		}
		name := next.FormName()
		if strings.HasPrefix(strings.ToLower(name), "x-ignore-") {
			_, _ = io.Copy(io.Discard, io.LimitReader(next, maxFormField))
			continue
		}
		return fr.fail(formError(name, "form field %q comes after \"file\"; %s.", name, fileFieldHint))
	}
}

// cause prefers what went wrong with the form to the store's wrapped
// error.
func (fr *formFileReader) cause(storeErr error) error {
	var ae *apiError
	var cm *checksumMismatch
	if fr.failure != nil && (errors.As(fr.failure, &ae) || errors.As(fr.failure, &cm)) {
		return fr.failure
	}
	return storeErr
}

func (fr *formFileReader) setChecksumHeaders(hdr http.Header) {
	for _, s := range fr.sums {
		hdr.Set("x-amz-checksum-"+s.algo.name, base64.StdEncoding.EncodeToString(s.h.Sum(nil)))
	}
}
