package sigv4

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Test credentials of the servers below.
const (
	testAccessKey = "AKIDSTRATATEST"
	testSecret    = "strata/secret+key=with/odd+chars"
	testRegion    = "us-east-1"
)

func testVerifier() *Verifier {
	return &Verifier{
		Region: testRegion,
		Lookup: func(ak string) (string, bool) { return testSecret, ak == testAccessKey },
	}
}

// observation is what the verifying server saw of one request.
type observation struct {
	method, path, rawQuery string
	payloadHash            string
	res                    *Result
	body                   []byte
	err                    error // from Verify or from reading the body
}

// verifyServer runs an HTTP (or HTTPS) server on 127.0.0.1:0 that
// verifies every request with v at the real time, reads the decoded body
// and reports what it saw on the returned channel before it answers:
// 200 with an ETag when all was well, 403 otherwise.
func verifyServer(t *testing.T, v *Verifier, useTLS bool) (*httptest.Server, <-chan observation) {
	t.Helper()
	seen := make(chan observation, 256)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ob := observation{
			method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery,
			payloadHash: r.Header.Get("X-Amz-Content-Sha256"),
		}
		ob.res, ob.err = v.Verify(r, time.Now())
		if ob.err == nil {
			ob.body, ob.err = io.ReadAll(ob.res.Body)
		}
		seen <- ob
		if ob.err != nil {
			http.Error(w, ob.err.Error(), http.StatusForbidden)
			return
		}
		w.Header().Set("ETag", `"d41d8cd98f00b204e9800998ecf8427e"`)
		if r.URL.Query().Has("list-type") {
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+
				`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name>`+
				`<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
			return
		}
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
		}
	})
	var srv *httptest.Server
	if useTLS {
		srv = httptest.NewTLSServer(h)
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(srv.Close)
	return srv, seen
}

// next returns the server's next observation; the client call that caused
// it has returned, so it is already there.
func next(t *testing.T, seen <-chan observation) observation {
	t.Helper()
	select {
	case ob := <-seen:
		return ob
	case <-time.After(30 * time.Second):
		t.Fatal("server saw no request")
		return observation{}
	}
}

// drain returns everything the server saw so far.
func drain(seen <-chan observation) []observation {
	var obs []observation
	for {
		select {
		case ob := <-seen:
			obs = append(obs, ob)
		default:
			return obs
		}
	}
}

// clearAWSEnv keeps the developer's AWS settings out of SDK clients.
func clearAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
		"AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AWS_REGION",
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, "")
	}
}
