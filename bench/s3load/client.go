package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// unsignedPayload is the x-amz-content-sha256 value that leaves the body
// out of the signature (AWS SigV4 for S3, "Unsigned payload option"), so
// the client spends no CPU hashing bodies and both servers see identical
// requests.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// errMismatch reports a GET body that differs from what was stored.
var errMismatch = errors.New("body mismatch")

// client sends path-style SigV4-signed S3 requests over plain HTTP to one
// server. It is safe for concurrent use.
type client struct {
	base   *url.URL
	region string
	creds  aws.Credentials
	signer *v4.Signer
	http   *http.Client
}

// checkLoopback refuses any endpoint that is not on this machine's
// loopback interface: the load generator must never send traffic
// elsewhere.
func checkLoopback(u *url.URL) error {
	if u.Scheme != "http" {
		return fmt.Errorf("endpoint %q: scheme must be http", u.String())
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("endpoint %q: host must be a loopback address (127.0.0.0/8, ::1, localhost)", u.String())
	}
	return nil
}

// newClient returns a client for endpoint, which must be a loopback URL.
// conns bounds the idle keep-alive connections kept to the server.
func newClient(endpoint, access, secret, region string, conns int) (*client, error) {
	u, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("parse endpoint: %w", err)
	}
	if err := checkLoopback(u); err != nil {
		return nil, err
	}
	tr := &http.Transport{
		// No proxy from the environment: traffic stays on loopback.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// Large writes per syscall, as a real SDK upload would do.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	return &client{
		base:   u,
		region: region,
		creds:  aws.Credentials{AccessKeyID: access, SecretAccessKey: secret},
		signer: v4.NewSigner(func(o *v4.SignerOptions) {
			// S3 signs the path as sent, without a second escaping.
			o.DisableURIPathEscaping = true
		}),
		http: &http.Client{Transport: tr, Timeout: 5 * time.Minute},
	}, nil
}

// close drops the client's idle connections.
func (c *client) close() { c.http.CloseIdleConnections() }

// do signs and sends one request. body may be nil.
func (c *client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + path
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("new request: %w", err)
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	if err := c.signer.SignHTTP(ctx, c.creds, req, unsignedPayload, "s3", c.region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return resp, nil
}

// statusError drains resp and describes a non-success status with the
// start of the server's error body.
func statusError(method, path string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_ = resp.Body.Close()
	return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, strings.TrimSpace(string(b)))
}

// createBucket creates bucket; one that this account already owns is fine.
func (c *client) createBucket(ctx context.Context, bucket string) error {
	resp, err := c.do(ctx, http.MethodPut, "/"+bucket, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	if resp.StatusCode == http.StatusConflict {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		if bytes.Contains(b, []byte("BucketAlreadyOwnedByYou")) {
			return nil
		}
		return fmt.Errorf("create bucket %s: status 409: %s", bucket, strings.TrimSpace(string(b)))
	}
	return statusError(http.MethodPut, "/"+bucket, resp)
}

// put stores body at bucket/key.
func (c *client) put(ctx context.Context, bucket, key string, body []byte) error {
	path := "/" + bucket + "/" + key
	resp, err := c.do(ctx, http.MethodPut, path, body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(http.MethodPut, path, resp)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// get reads bucket/key and checks, chunk by chunk as it arrives, that the
// body is exactly want: a server that answers fast with the wrong bytes,
// or too few, fails the run instead of looking fast. buf is scratch space
// (any size > 0) owned by the caller.
func (c *client) get(ctx context.Context, bucket, key string, want, buf []byte) error {
	path := "/" + bucket + "/" + key
	resp, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return statusError(http.MethodGet, path, resp)
	}
	defer resp.Body.Close()
	if resp.ContentLength >= 0 && resp.ContentLength != int64(len(want)) {
		return fmt.Errorf("GET %s: Content-Length %d, want %d: %w", path, resp.ContentLength, len(want), errMismatch)
	}
	off := 0
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if off+n > len(want) || !bytes.Equal(buf[:n], want[off:off+n]) {
				return fmt.Errorf("GET %s: bytes differ at or after offset %d: %w", path, off, errMismatch)
			}
			off += n
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("GET %s: read body at offset %d: %w", path, off, err)
		}
	}
	if off != len(want) {
		return fmt.Errorf("GET %s: got %d bytes, want %d: %w", path, off, len(want), errMismatch)
	}
	return nil
}
