package sigv4

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The examples of the AWS S3 documentation ("Signature Calculations for
// the Authorization Header", "Authenticating Requests: Using Query
// Parameters", "Transferring Payload in Multiple Chunks" and its variant
// with trailing headers), all signed by this key pair on 2013-05-24.
const (
	docAccessKey = "AKIAIOSFODNN7EXAMPLE"
	docSecret    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	docAmzDate   = "20130524T000000Z"
)

var docTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func docVerifier() *Verifier {
	return &Verifier{Lookup: func(ak string) (string, bool) {
		return docSecret, ak == docAccessKey
	}}
}

func docAuth(signed, sig string) string {
	return "AWS4-HMAC-SHA256 Credential=" + docAccessKey + "/20130524/us-east-1/s3/aws4_request,SignedHeaders=" +
		signed + ",Signature=" + sig
}

// newServerRequest builds a request as net/http's server hands it over.
func newServerRequest(method, target, host string, header map[string]string, body []byte) *http.Request {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	r.Host = host
	for k, v := range header {
		r.Header.Set(k, v)
	}
	return r
}

func TestVerifyAWSDocumentExamples(t *testing.T) {
	tests := []struct {
		name, method, target string
		header               map[string]string
		body                 string
	}{
		{
			name: "GET object with Range", method: "GET", target: "/test.txt",
			header: map[string]string{
				"Range":                "bytes=0-9",
				"X-Amz-Content-Sha256": emptySHA256,
				"X-Amz-Date":           docAmzDate,
				"Authorization": docAuth("host;range;x-amz-content-sha256;x-amz-date",
					"f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
			},
		},
		{
			name: "PUT object with a $ in the key", method: "PUT", target: "/test$file.text",
			header: map[string]string{
				"Date":                 "Fri, 24 May 2013 00:00:00 GMT",
				"X-Amz-Date":           docAmzDate,
				"X-Amz-Storage-Class":  "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
				"Authorization": docAuth("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
					"98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
			},
			body: "Welcome to Amazon S3.",
		},
		{
			name: "GET bucket lifecycle", method: "GET", target: "/?lifecycle",
			header: map[string]string{
				"X-Amz-Content-Sha256": emptySHA256,
				"X-Amz-Date":           docAmzDate,
				"Authorization": docAuth("host;x-amz-content-sha256;x-amz-date",
					"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),
			},
		},
		{
			name: "GET bucket (list objects)", method: "GET", target: "/?max-keys=2&prefix=J",
			header: map[string]string{
				"X-Amz-Content-Sha256": emptySHA256,
				"X-Amz-Date":           docAmzDate,
				"Authorization": docAuth("host;x-amz-content-sha256;x-amz-date",
					"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
			},
		},
		{
			name: "presigned GET", method: "GET",
			target: "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newServerRequest(tc.method, tc.target, "examplebucket.s3.amazonaws.com", tc.header, []byte(tc.body))
			res, err := docVerifier().Verify(r, docTime.Add(5*time.Minute))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.AccessKey != docAccessKey || res.Anonymous {
				t.Errorf("got access key %q anonymous %v, want %q false", res.AccessKey, res.Anonymous, docAccessKey)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil || string(got) != tc.body {
				t.Errorf("body = %q, %v; want %q", got, err, tc.body)
			}

			// One byte changed in the signature: the error carries what S3
			// shows, and the server's canonical request.
			tampered := newServerRequest(tc.method, strings.Replace(tc.target, "X-Amz-Signature=a", "X-Amz-Signature=b", 1),
				"examplebucket.s3.amazonaws.com", tc.header, []byte(tc.body))
			if a := tampered.Header.Get("Authorization"); a != "" {
				tampered.Header.Set("Authorization", a[:len(a)-1]+flipHex(a[len(a)-1:]))
			}
			_, err = docVerifier().Verify(tampered, docTime.Add(5*time.Minute))
			var se *SignatureError
			if !errors.Is(err, ErrSignatureMismatch) || !errors.As(err, &se) {
				t.Fatalf("tampered: got %v, want a *SignatureError wrapping ErrSignatureMismatch", err)
			}
			if !strings.HasPrefix(se.StringToSign(), "AWS4-HMAC-SHA256\n"+docAmzDate+"\n20130524/us-east-1/s3/aws4_request\n") {
				t.Errorf("StringToSign = %q", se.StringToSign())
			}
		})
	}
}

func flipHex(s string) string {
	if s == "0" {
		return "1"
	}
	return "0"
}

// The canonical request and string to sign of the GET object example, as
// the documentation prints them.
func TestSignatureErrorCarriesDocumentCanonicalRequest(t *testing.T) {
	r := newServerRequest("GET", "/test.txt", "examplebucket.s3.amazonaws.com", map[string]string{
		"Range":                "bytes=0-9",
		"X-Amz-Content-Sha256": emptySHA256,
		"X-Amz-Date":           docAmzDate,
		"Authorization":        docAuth("host;range;x-amz-content-sha256;x-amz-date", strings.Repeat("0", 64)),
	}, nil)
	_, err := docVerifier().Verify(r, docTime)
	var se *SignatureError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want *SignatureError", err)
	}
	wantCanon := "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n" +
		"x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	wantSTS := "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
		"7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
	if diff := cmp.Diff(wantCanon, se.CanonicalRequest()); diff != "" {
		t.Errorf("CanonicalRequest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSTS, se.StringToSign()); diff != "" {
		t.Errorf("StringToSign (-want +got):\n%s", diff)
	}
	if se.AccessKey() != docAccessKey || se.Where() != "request" || se.SignatureProvided() != strings.Repeat("0", 64) {
		t.Errorf("AccessKey/Where/SignatureProvided = %q/%q/%q", se.AccessKey(), se.Where(), se.SignatureProvided())
	}
}

// docChunkedBody frames 65536+1024 bytes of 'a' with the given chunk
// signatures and what follows the final chunk line.
func docChunkedBody(sigs [3]string, tail string) []byte {
	var b bytes.Buffer
	b.WriteString("10000;chunk-signature=" + sigs[0] + "\r\n")
	b.Write(bytes.Repeat([]byte("a"), 65536))
	b.WriteString("\r\n400;chunk-signature=" + sigs[1] + "\r\n")
	b.Write(bytes.Repeat([]byte("a"), 1024))
	b.WriteString("\r\n0;chunk-signature=" + sigs[2] + "\r\n" + tail)
	return b.Bytes()
}

var (
	docChunkSigs = [3]string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	docTrailerChunkSigs = [3]string{
		"b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
		"1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
		"2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
	}
)

func docChunkedRequest(body []byte) *http.Request {
	return newServerRequest("PUT", "/examplebucket/chunkObject.txt", "s3.amazonaws.com", map[string]string{
		"X-Amz-Date":                   docAmzDate,
		"X-Amz-Storage-Class":          "REDUCED_REDUNDANCY",
		"X-Amz-Content-Sha256":         StreamingPayload,
		"Content-Encoding":             "aws-chunked",
		"X-Amz-Decoded-Content-Length": "66560",
		"Content-Length":               "66824",
		"Authorization": docAuth("content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
			"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"),
	}, body)
}

func TestChunkedAWSDocumentExample(t *testing.T) {
	body := docChunkedBody(docChunkSigs, "\r\n")
	if len(body) != 66824 {
		t.Fatalf("framed body is %d bytes, the document says 66824", len(body))
	}
	res, err := docVerifier().Verify(docChunkedRequest(body), docTime)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.DecodedLength != 66560 {
		t.Errorf("DecodedLength = %d, want 66560", res.DecodedLength)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Errorf("decoded %d bytes, want 66560 of 'a'", len(got))
	}
}

// SignChunked reproduces the documented seed and chunk signatures byte
// for byte.
func TestSignChunkedReproducesAWSDocumentExample(t *testing.T) {
	r, _ := http.NewRequest("PUT", "https://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	SignChunked(r, bytes.Repeat([]byte("a"), 66560), docAccessKey, docSecret, "us-east-1", docTime, ChunkedUpload{ChunkSize: 65536})
	wantAuth := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, " +
		"Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	if got := r.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization:\n got %s\nwant %s", got, wantAuth)
	}
	if r.ContentLength != 66824 {
		t.Errorf("ContentLength = %d, want 66824", r.ContentLength)
	}
	got, _ := io.ReadAll(r.Body)
	if want := docChunkedBody(docChunkSigs, "\r\n"); !bytes.Equal(got, want) {
		t.Errorf("framed body differs from the document's (%d vs %d bytes)", len(got), len(want))
	}
}

func TestChunkedTrailerAWSDocumentExample(t *testing.T) {
	const trailerSig = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"
	for _, tc := range []struct{ name, tail string }{
		{"CRLF trailer lines", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n\r\n"},
		{"minio-go line ends", "x-amz-checksum-crc32c:sOO8/Q==\n\r\nx-amz-trailer-signature:" + trailerSig + "\r\n\r\n"},
		{"no final CRLF", "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:" + trailerSig + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newServerRequest("PUT", "/examplebucket/chunkObject.txt", "s3.amazonaws.com", map[string]string{
				"X-Amz-Date":                   docAmzDate,
				"X-Amz-Storage-Class":          "REDUCED_REDUNDANCY",
				"X-Amz-Content-Sha256":         StreamingPayloadTrailer,
				"Content-Encoding":             "aws-chunked",
				"X-Amz-Decoded-Content-Length": "66560",
				"X-Amz-Trailer":                "x-amz-checksum-crc32c",
				"Authorization": docAuth("content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
					"106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"),
			}, docChunkedBody(docTrailerChunkSigs, tc.tail))
			res, err := docVerifier().Verify(r, docTime)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			got, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(got) != 66560 {
				t.Errorf("decoded %d bytes, want 66560", len(got))
			}
			if v := res.Trailer.Get("x-amz-checksum-crc32c"); v != "sOO8/Q==" {
				t.Errorf("trailer x-amz-checksum-crc32c = %q, want sOO8/Q==", v)
			}
		})
	}
}
