package s3api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/objstore"
	"github.com/strata-cdn/strata/internal/respcount"
	"github.com/strata-cdn/strata/internal/sigv4"
)

// Handler serves the S3 API. Set its fields before the first request; the
// zero value of each optional field works as documented.
type Handler struct {
	// Store holds the buckets and objects. Required.
	Store *objstore.Store
	// Credentials returns the secret key for an access key. Required.
	Credentials func(accessKey string) (secret string, ok bool)
	// Region is the region in signatures and GetBucketLocation.
	// If empty, "us-east-1" is used.
	Region string
	// NodeID names this node in the Server header and error bodies (HostId).
	NodeID string
	// Domains are the base domains for virtual-host style requests: a Host
	// of "bucket.<domain>" addresses bucket. Path style always works.
	Domains []string
	// SendTimeout is how long a client may go without reading before the
	// response is abandoned and the log says "client did not read for ...".
	// If zero, 30s is used.
	SendTimeout time.Duration
	// MinSendRate, in bytes per second, is the slowest sustained download
	// rate allowed (measured over SendTimeout); 0 disables the check.
	MinSendRate int64
	// Logger receives one DEBUG line per request, failures at WARN (client
	// errors) or ERROR (server errors), and a WARN line when a client is
	// cut off for not reading (SendTimeout, MinSendRate). Nil means discard.
	Logger *slog.Logger
	// Now returns the current time for signature checks (expiry, clock
	// skew); nil means time.Now. Write deadlines always use the real clock.
	Now func() time.Time
	// MaxXMLBodySize bounds the XML request bodies that are read into memory
	// (CompleteMultipartUpload, DeleteObjects, CreateBucket, PutBucketAcl).
	// If zero, 1 MiB is used.
	MaxXMLBodySize int64
	// Callback configures upload callbacks (x-oss-callback): timeout,
	// retry backoff, TLS roots and resolver. The zero value works.
	Callback CallbackOptions
}

const (
	defaultRegion      = "us-east-1"
	defaultSendTimeout = 30 * time.Second
	defaultMaxXMLBody  = 1 << 20
	s3Namespace        = "http://s3.amazonaws.com/doc/2006-03-01/"
)

func (h *Handler) region() string {
	if h.Region == "" {
		return defaultRegion
	}
	return h.Region
}

func (h *Handler) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h *Handler) sendTimeout() time.Duration {
	if h.SendTimeout <= 0 {
		return defaultSendTimeout
	}
	return h.SendTimeout
}

func (h *Handler) maxXMLBody() int64 {
	if h.MaxXMLBodySize <= 0 {
		return defaultMaxXMLBody
	}
	return h.MaxXMLBodySize
}

var discardLogger = slog.New(slog.DiscardHandler)

func (h *Handler) logger() *slog.Logger {
	if h.Logger == nil {
		return discardLogger
	}
	return h.Logger
}

// request is the state of one S3 request as it passes through the handler.
type request struct {
	h      *Handler
	w      *respcount.Writer
	r      *http.Request
	ctx    context.Context
	id     string // x-amz-request-id
	op     operation
	bucket string
	key    string
	auth   *sigv4.Result
	// body is the verified payload (auth.Body), or http.NoBody before auth.
	body io.ReadCloser
}

// ServeHTTP serves one S3 request.
func (h *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &respcount.Writer{ResponseWriter: rw}
	req := &request{h: h, w: sw, r: r, ctx: r.Context(), id: newRequestID(), body: http.NoBody}
	hdr := rw.Header()
	hdr.Set("x-amz-request-id", req.id)
	hdr.Set("x-amz-id-2", newHostID())
	hdr.Set("Server", h.serverName())

	err := req.serve()
	if err != nil {
		req.writeError(err)
	}
	h.logRequest(req, err, time.Since(start))
}

func (h *Handler) serverName() string {
	if h.NodeID == "" {
		return "Strata"
	}
	return "Strata/" + h.NodeID
}

// serve routes, authenticates and runs the operation; an error it returns
// has not been written yet.
func (req *request) serve() error {
	bucket, key := req.h.bucketKey(req.r)
	req.bucket, req.key = bucket, key
	op, err := route(req.r, bucket, key)
	if err != nil {
		// Authenticate first all the same: an unsigned or badly signed
		// request learns nothing about what the node supports.
		op = operation{name: "Unsupported", run: func(*request) error { return err }}
	}
	req.op = op
	req.applyCORS()
	if err := req.authenticate(); err != nil {
		return err
	}
	defer req.body.Close()
	return op.run(req)
}

func (h *Handler) logRequest(req *request, err error, d time.Duration) {
	log := h.logger()
	status := req.w.Status
	if status == 0 {
		status = http.StatusOK
	}
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case err != nil && status >= 400 && status != http.StatusNotFound && status != statusClientClosed &&
		status != http.StatusPreconditionFailed && status != http.StatusRequestedRangeNotSatisfiable:
		level = slog.LevelWarn
	}
	if !log.Enabled(req.ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", req.id),
		slog.String("method", req.r.Method),
		slog.String("op", req.op.name),
		slog.String("bucket", req.bucket),
		slog.String("key", req.key),
		slog.Int("status", status),
		slog.Int64("bytes", req.w.Bytes),
		slog.Duration("duration", d),
		slog.String("remote", req.r.RemoteAddr),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	log.LogAttrs(req.ctx, level, "s3 request", attrs...)
}

// newRequestID returns 16 upper-case hex digits, like S3's request IDs.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// newHostID returns an opaque x-amz-id-2 value.
func newHostID() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}
