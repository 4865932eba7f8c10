package osstest_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"picbed/storage/osstest"
)

var cred = osstest.Credential{ID: "STS.id", Secret: "secret", Token: "token"}

// signed builds a request signed the V1 way, by hand, so that the fake's
// verification is tested independently of the SDK.
func signed(t *testing.T, srv *osstest.Server, method, path, query string, body []byte, hdr map[string]string, resource string, date time.Time) *http.Request {
	t.Helper()
	u := srv.URL + path
	if query != "" {
		u += "?" + query
	}
	r, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Date", date.UTC().Format(http.TimeFormat))
	r.Header.Set("X-Oss-Security-Token", cred.Token)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	s := method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" + r.Header.Get("Date") + "\n"
	var ossh []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-oss-") {
			ossh = append(ossh, lk+":"+r.Header.Get(k))
		}
	}
	slices.Sort(ossh)
	for _, h := range ossh {
		s += h + "\n"
	}
	s += resource
	m := hmac.New(sha1.New, []byte(cred.Secret))
	io.WriteString(m, s)
	r.Header.Set("Authorization", "OSS "+cred.ID+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return r
}

func do(t *testing.T, r *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestVerification(t *testing.T) {
	srv := osstest.New(cred, "b")
	defer srv.Close()
	now := time.Now()
	body := []byte("hello")
	sum := md5.Sum(body)
	goodMD5 := base64.StdEncoding.EncodeToString(sum[:])
	tests := []struct {
		name   string
		req    *http.Request
		status int
		code   string
	}{
		{"put signed right", signed(t, srv, "PUT", "/b/dir/a%20b.txt", "", body, map[string]string{"Content-Type": "text/plain", "Content-MD5": goodMD5, "X-Oss-Meta-Src": "x"}, "/b/dir/a b.txt", now), 200, ""},
		{"signed for another key", signed(t, srv, "PUT", "/b/dir/c.txt", "", body, nil, "/b/dir/a b.txt", now), 403, "SignatureDoesNotMatch"},
		{"meta header not signed", func() *http.Request {
			r := signed(t, srv, "PUT", "/b/d.txt", "", body, nil, "/b/d.txt", now)
			r.Header.Set("X-Oss-Meta-Added", "later")
			return r
		}(), 403, "SignatureDoesNotMatch"},
		{"wrong Content-MD5", signed(t, srv, "PUT", "/b/e.txt", "", body, map[string]string{"Content-MD5": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "/b/e.txt", now), 400, "InvalidDigest"},
		{"stale date", signed(t, srv, "GET", "/b/dir/a%20b.txt", "", nil, nil, "/b/dir/a b.txt", now.Add(-time.Hour)), 403, "RequestTimeTooSkewed"},
		{"sub-resource signed", signed(t, srv, "HEAD", "/b/dir/a%20b.txt", "objectMeta", nil, nil, "/b/dir/a b.txt?objectMeta", now), 200, ""},
		{"sub-resource left out of the signature", signed(t, srv, "HEAD", "/b/dir/a%20b.txt", "objectMeta", nil, nil, "/b/dir/a b.txt", now), 403, "SignatureDoesNotMatch"},
		{"plain query parameters are not signed", signed(t, srv, "GET", "/b/", "prefix=dir%2F&max-keys=5", nil, nil, "/b/", now), 200, ""},
		{"no token", func() *http.Request {
			r := signed(t, srv, "GET", "/b/dir/a%20b.txt", "", nil, nil, "/b/dir/a b.txt", now)
			r.Header.Del("X-Oss-Security-Token")
			return r
		}(), 403, "InvalidAccessKeyId"},
		{"anonymous", func() *http.Request {
			r, _ := http.NewRequest("GET", srv.URL+"/b/dir/a%20b.txt", nil)
			return r
		}(), 403, "AccessDenied"},
		{"missing key", signed(t, srv, "GET", "/b/none", "", nil, nil, "/b/none", now), 404, "NoSuchKey"},
		{"missing bucket", signed(t, srv, "GET", "/nob/x", "", nil, nil, "/nob/x", now), 404, "NoSuchBucket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := do(t, tc.req)
			if status != tc.status {
				t.Fatalf("status %d (%s%s), want %d", status, body, hdr.Get("X-Oss-Err"), tc.status)
			}
			if tc.code == "" {
				return
			}
			xml := body
			if tc.req.Method == "HEAD" {
				b, _ := base64.StdEncoding.DecodeString(hdr.Get("X-Oss-Err"))
				xml = string(b)
			}
			if !strings.Contains(xml, "<Code>"+tc.code+"</Code>") || hdr.Get("X-Oss-Request-Id") == "" {
				t.Errorf("error body %q, want code %s and a request id", xml, tc.code)
			}
		})
	}
	o, ok := srv.Object("b", "dir/a b.txt")
	if !ok || string(o.Data) != "hello" || o.Meta["src"] != "x" || o.ContentType != "text/plain" {
		t.Errorf("stored %+v %v, want hello, text/plain, meta src=x", o, ok)
	}
	if _, ok := srv.Object("b", "e.txt"); ok {
		t.Errorf("a PUT with a wrong Content-MD5 was stored")
	}
}

// TestSDKCalls drives calls picbed's store does not make (ListObjects V1,
// GetObjectMeta, HEAD of a missing key) through the real SDK.
func TestSDKCalls(t *testing.T) {
	srv := osstest.New(cred, "bkt")
	defer srv.Close()
	c, err := oss.New(srv.Endpoint(), cred.ID, cred.Secret, oss.SecurityToken(cred.Token))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bucket("bkt")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/1.jpg", "a/2.jpg", "a/sub/3.jpg", "a/sub/4.jpg", "b/5.jpg", "a/x+y z.jpg"} {
		if err := b.PutObject(k, strings.NewReader(k)); err != nil {
			t.Fatalf("PutObject(%q): %v", k, err)
		}
	}
	res, err := b.ListObjects(oss.Prefix("a/"), oss.Delimiter("/"), oss.MaxKeys(2))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	if !slices.Equal(keys, []string{"a/1.jpg", "a/2.jpg"}) || !res.IsTruncated {
		t.Errorf("first V1 page %q truncated=%v, want a/1.jpg a/2.jpg, truncated", keys, res.IsTruncated)
	}
	res, err = b.ListObjects(oss.Prefix("a/"), oss.Delimiter("/"), oss.Marker(res.NextMarker))
	if err != nil {
		t.Fatal(err)
	}
	keys = keys[:0]
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
	}
	if !slices.Equal(keys, []string{"a/x+y z.jpg"}) || !slices.Equal(res.CommonPrefixes, []string{"a/sub/"}) {
		t.Errorf("second V1 page %q prefixes %q, want [a/x+y z.jpg] and [a/sub/]", keys, res.CommonPrefixes)
	}
	h, err := b.GetObjectMeta("a/x+y z.jpg")
	if err != nil {
		t.Errorf("GetObjectMeta: %v", err)
	} else if h.Get("Content-Length") != "11" || h.Get("ETag") == "" {
		t.Errorf("GetObjectMeta = %v, want length 11 and an ETag", h)
	}
	_, err = b.GetObjectDetailedMeta("a/none.jpg")
	var se oss.ServiceError
	if !errorsAs(err, &se) || se.Code != "NoSuchKey" || se.StatusCode != 404 {
		t.Errorf("HEAD of a missing key = %v, want a NoSuchKey ServiceError (from x-oss-err)", err)
	}
	ok, err := b.IsObjectExist("a/1.jpg")
	if err != nil || !ok {
		t.Errorf("IsObjectExist = %v %v", ok, err)
	}
}

func errorsAs(err error, se *oss.ServiceError) bool {
	if e, ok := err.(oss.ServiceError); ok {
		*se = e
		return true
	}
	return false
}
