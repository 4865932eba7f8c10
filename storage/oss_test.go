package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"picbed/storage"
	"picbed/storage/osstest"
)

const bucketName = "picbed-test"

var stsCred = osstest.Credential{ID: "STS.testkeyid", Secret: "test-secret-value", Token: "test-security-token"}

func newOSS(t *testing.T, cred storage.Credentials) (*storage.OSS, *osstest.Server) {
	t.Helper()
	srv := osstest.New(stsCred, bucketName)
	t.Cleanup(srv.Close)
	s, err := storage.NewOSS(storage.OSSConfig{
		Endpoint: srv.Endpoint(), Bucket: bucketName,
		Credentials: func(context.Context) (storage.Credentials, error) { return cred, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, srv
}

var goodCred = storage.Credentials{AccessKeyID: stsCred.ID, AccessKeySecret: stsCred.Secret, SecurityToken: stsCred.Token}

func TestOSSPutStatGetDelete(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{
		"img/2026/11/plain.jpg",
		"img/with space.jpg",
		"img/plus+sign.jpg",
		"img/照片/猫 + 狗.jpg",
		"img/percent%41 and &amp;=?#.jpg",
	}
	for _, key := range keys {
		t.Run(key, func(t *testing.T) {
			s, srv := newOSS(t, goodCred)
			ctx := context.Background()
			meta := map[string]string{"picbed": "1", "picbed-origin": "upload", "width": "1600"}
			if err := s.Put(ctx, key, photo, storage.PutOptions{ContentType: "image/jpeg", Meta: meta}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			got, ok := srv.Object(bucketName, key)
			if !ok {
				t.Fatalf("object %q not in the fake bucket; keys: %q", key, srv.Keys(bucketName))
			}
			sum := md5.Sum(photo)
			for _, c := range []struct{ name, got, want string }{
				{"Content-Type", got.ContentType, "image/jpeg"},
				{"Cache-Control", got.CacheControl, storage.CacheControl},
				{"Content-MD5", got.ContentMD5, base64.StdEncoding.EncodeToString(sum[:])},
				{"meta picbed-origin", got.Meta["picbed-origin"], "upload"},
				{"meta width", got.Meta["width"], "1600"},
			} {
				if c.got != c.want {
					t.Errorf("stored %s = %q, want %q", c.name, c.got, c.want)
				}
			}
			if !bytes.Equal(got.Data, photo) {
				t.Errorf("stored %d bytes, want the %d sent", len(got.Data), len(photo))
			}

			o, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if o.Key != key || o.Size != int64(len(photo)) || o.ContentType != "image/jpeg" || o.Meta["picbed-origin"] != "upload" || o.Modified.IsZero() {
				t.Errorf("Stat = %+v, want key %q, size %d, image/jpeg, meta picbed-origin, a time", o, key, len(photo))
			}
			b, o2, err := s.Get(ctx, key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(b, photo) || o2.Size != int64(len(photo)) || o2.Meta["width"] != "1600" {
				t.Errorf("Get = %d bytes, %+v; want the photo and its meta", len(b), o2)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, ok := srv.Object(bucketName, key); ok {
				t.Errorf("object still there after Delete")
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
			}
			if _, _, err := s.Get(ctx, key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get after Delete = %v, want ErrNotFound", err)
			}
			if err := s.Delete(ctx, key); err != nil {
				t.Errorf("Delete of a missing object = %v, want nil (as OSS)", err)
			}
		})
	}
}

// TestListKeyOrder runs the same listing against both stores: native key
// order (byte-wise, so "11-x/" sorts before "11/"), StartAfter, pages
// through Token, "/" folders as Prefixes, hidden names and other prefixes
// left out.
func TestListKeyOrder(t *testing.T) {
	ctx := context.Background()
	keys := []string{"img/2026/11-x/b.png", "img/2026/11/a.png", "img/2026/11/c.png", "img/2026/110.png",
		"img/2027/01/d.png", "img/z.png", "inbox/raw.jpg", "imgx/no.png"}
	oss, srv := newOSS(t, goodCred)
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		for _, s := range []interface {
			Put(context.Context, string, []byte, storage.PutOptions) error
		}{oss, local} {
			if err := s.Put(ctx, k, []byte(k), storage.PutOptions{ContentType: "image/png"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv.Seed(bucketName, "img/2026/11/", osstest.Object{}) // a folder marker (the console makes them): not an object
	stores := map[string]interface {
		List(context.Context, storage.ListQuery) (storage.Listing, error)
	}{"oss": oss, "local": local}
	tests := []struct {
		name string
		q    storage.ListQuery
		want string // objects and (folders/) in order
	}{
		{"all of img/", storage.ListQuery{Prefix: "img/"}, "img/2026/11-x/b.png img/2026/11/a.png img/2026/11/c.png img/2026/110.png img/2027/01/d.png img/z.png"},
		{"start after", storage.ListQuery{Prefix: "img/", StartAfter: "img/2026/11/a.png"}, "img/2026/11/c.png img/2026/110.png img/2027/01/d.png img/z.png"},
		{"start after a deleted key", storage.ListQuery{Prefix: "img/", StartAfter: "img/2026/11/b.png"}, "img/2026/11/c.png img/2026/110.png img/2027/01/d.png img/z.png"},
		{"folders of img/2026/", storage.ListQuery{Prefix: "img/2026/", Delimiter: "/"}, "img/2026/11-x/ img/2026/11/ img/2026/110.png"},
		{"folders of img/", storage.ListQuery{Prefix: "img/", Delimiter: "/"}, "img/2026/ img/2027/ img/z.png"},
		{"partial prefix", storage.ListQuery{Prefix: "img/2026/11"}, "img/2026/11-x/b.png img/2026/11/a.png img/2026/11/c.png img/2026/110.png"},
		{"nothing there", storage.ListQuery{Prefix: "gone/"}, ""},
	}
	for name, s := range stores {
		for _, tt := range tests {
			for _, max := range []int{0, 1, 2} {
				t.Run(fmt.Sprintf("%s/%s/max %d", name, tt.name, max), func(t *testing.T) {
					var got []string
					q := tt.q
					q.Max = max
					for calls := 0; ; calls++ {
						if calls > 20 {
							t.Fatal("paging does not end")
						}
						res, err := s.List(ctx, q)
						if err != nil {
							t.Fatal(err)
						}
						if max > 0 && len(res.Objects)+len(res.Prefixes) > max {
							t.Fatalf("page of %d, max %d", len(res.Objects)+len(res.Prefixes), max)
						}
						page := append([]string(nil), res.Prefixes...)
						for _, o := range res.Objects {
							page = append(page, o.Key)
							if o.Size != int64(len(o.Key)) || o.Modified.IsZero() {
								t.Errorf("%s: size %d time %v, want the listing to carry both", o.Key, o.Size, o.Modified)
							}
						}
						sort.Strings(page) // objects and folders interleave in key order
						got = append(got, page...)
						if res.Next == "" {
							break
						}
						q.Token = res.Next
					}
					if g := strings.Join(got, " "); g != tt.want {
						t.Errorf("listed %q\nwant     %q", g, tt.want)
					}
				})
			}
		}
	}
}

func TestOSSCredentialFailures(t *testing.T) {
	tests := []struct {
		name string
		cred storage.Credentials
		code string
	}{
		{"wrong secret", storage.Credentials{AccessKeyID: stsCred.ID, AccessKeySecret: "not-the-secret", SecurityToken: stsCred.Token}, "SignatureDoesNotMatch"},
		{"missing token", storage.Credentials{AccessKeyID: stsCred.ID, AccessKeySecret: stsCred.Secret}, "InvalidAccessKeyId"},
		{"wrong token", storage.Credentials{AccessKeyID: stsCred.ID, AccessKeySecret: stsCred.Secret, SecurityToken: "other"}, "InvalidSecurityToken"},
		{"unknown key", storage.Credentials{AccessKeyID: "LTAIunknown", AccessKeySecret: stsCred.Secret}, "InvalidAccessKeyId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newOSS(t, tc.cred)
			ctx := context.Background()
			checks := map[string]error{
				"Put":  s.Put(ctx, "img/a.jpg", []byte("data"), storage.PutOptions{ContentType: "image/jpeg"}),
				"Stat": func() error { _, err := s.Stat(ctx, "img/a.jpg"); return err }(),
				"List": func() error { _, err := s.List(ctx, storage.ListQuery{Prefix: "img/", Max: 10}); return err }(),
			}
			for op, err := range checks {
				var se *storage.Error
				if !errors.As(err, &se) || se.Status != http.StatusBadGateway {
					t.Errorf("%s error = %v, want a 502 storage.Error", op, err)
					continue
				}
				if !strings.Contains(se.Message, tc.code) || !strings.Contains(se.Message, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
					t.Errorf("%s message = %q, want the code %s and what to check", op, se.Message, tc.code)
				}
				for _, secret := range []string{stsCred.Secret, stsCred.Token, "not-the-secret", tc.cred.AccessKeyID} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s error %q leaks a credential", op, err)
					}
				}
			}
			if len(srv.Keys(bucketName)) != 0 {
				t.Errorf("a refused Put stored something: %q", srv.Keys(bucketName))
			}
		})
	}
}

func TestOSSErrorStatuses(t *testing.T) {
	tests := []struct {
		name   string
		fault  osstest.Fault
		status int
		want   string
	}{
		{"internal error", osstest.Fault{Status: 500, Code: "InternalError"}, 503, "try again"},
		{"service unavailable", osstest.Fault{Status: 503, Code: "ServiceUnavailable"}, 503, "try again"},
		{"access denied", osstest.Fault{Status: 403, Code: "AccessDenied"}, 502, "ram-policy.json"},
		{"no such bucket", osstest.Fault{Status: 404, Code: "NoSuchBucket"}, 502, "PICBED_OSS_BUCKET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newOSS(t, goodCred)
			ctx := context.Background()
			srv.Inject(tc.fault)
			ops := map[string]error{
				"Put":    s.Put(ctx, "img/a.jpg", []byte("data"), storage.PutOptions{ContentType: "image/jpeg"}),
				"Stat":   func() error { _, err := s.Stat(ctx, "img/a.jpg"); return err }(),
				"Get":    func() error { _, _, err := s.Get(ctx, "img/a.jpg"); return err }(),
				"List":   func() error { _, err := s.List(ctx, storage.ListQuery{Prefix: "img/", Max: 10}); return err }(),
				"Delete": s.Delete(ctx, "img/a.jpg"),
			}
			for op, err := range ops {
				var se *storage.Error
				if !errors.As(err, &se) || se.Status != tc.status || !strings.Contains(se.Message, tc.want) {
					t.Errorf("%s error = %v, want status %d mentioning %q", op, err, tc.status, tc.want)
				}
			}
		})
	}

	t.Run("fault clears", func(t *testing.T) {
		s, srv := newOSS(t, goodCred)
		ctx := context.Background()
		srv.Inject(osstest.Fault{Op: "PutObject", Status: 500, Count: 1})
		if err := s.Put(ctx, "img/a.jpg", []byte("data"), storage.PutOptions{}); err == nil {
			t.Fatal("first Put succeeded through an injected 500")
		}
		if err := s.Put(ctx, "img/a.jpg", []byte("data"), storage.PutOptions{}); err != nil {
			t.Fatalf("second Put = %v, want success after the one-shot fault", err)
		}
	})

	t.Run("missing key", func(t *testing.T) {
		s, srv := newOSS(t, goodCred)
		if _, _, err := s.Get(context.Background(), "img/none.jpg"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get of a missing key = %v, want ErrNotFound", err)
		}
		srv.BareHeadErrors(true) // a HEAD 404 without x-oss-err
		if _, err := s.Stat(context.Background(), "img/none.jpg"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat of a missing key (bare 404) = %v, want ErrNotFound", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		s, srv := newOSS(t, goodCred)
		srv.Inject(osstest.Fault{Delay: time.Hour}) // held until the client gives up
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := s.Stat(ctx, "img/a.jpg")
		var se *storage.Error
		if !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable || !strings.Contains(se.Message, "in time") {
			t.Errorf("Stat past the deadline = %v, want a 503 saying OSS did not answer in time", err)
		}
	})

	t.Run("wrong bucket", func(t *testing.T) {
		srv := osstest.New(stsCred, bucketName)
		defer srv.Close()
		s, err := storage.NewOSS(storage.OSSConfig{Endpoint: srv.Endpoint(), Bucket: "no-such-bucket",
			Credentials: func(context.Context) (storage.Credentials, error) { return goodCred, nil }})
		if err != nil {
			t.Fatal(err)
		}
		err = s.Put(context.Background(), "img/a.jpg", []byte("x"), storage.PutOptions{})
		var se *storage.Error
		if !errors.As(err, &se) || se.Status != http.StatusBadGateway || !strings.Contains(se.Message, `"no-such-bucket"`) {
			t.Errorf("Put to a missing bucket = %v, want a 502 naming the bucket", err)
		}
	})

	t.Run("no credentials", func(t *testing.T) {
		s, _ := newOSS(t, storage.Credentials{})
		err := s.Put(context.Background(), "img/a.jpg", []byte("x"), storage.PutOptions{})
		// A configuration mistake, not an OSS failure: no 502 upstream error.
		var se *storage.Error
		if !errors.Is(err, storage.ErrNoCredentials) || errors.As(err, &se) || !strings.Contains(err.Error(), "role") {
			t.Errorf("Put without credentials = %v, want ErrNoCredentials pointing at the role", err)
		}
	})
}

func TestOSSRefusesBadKeys(t *testing.T) {
	s, srv := newOSS(t, goodCred)
	for _, key := range []string{"", "/abs.jpg", "img/../x.jpg", "img/.meta/x"} {
		err := s.Put(context.Background(), key, []byte("x"), storage.PutOptions{})
		var se *storage.Error
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest {
			t.Errorf("Put(%q) = %v, want a 400 storage.Error", key, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("bad keys reached OSS: %d requests", n)
	}
}
