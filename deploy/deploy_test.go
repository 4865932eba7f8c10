package deploy

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"picbed/storage/osstest"
)

var cred = osstest.Credential{ID: "LTAI-deployer", Secret: "deployer-secret"}

func fakeOSS(t *testing.T, buckets ...string) (*osstest.Server, *Cloud) {
	t.Helper()
	srv := osstest.New(cred, buckets...)
	t.Cleanup(srv.Close)
	c := &Cloud{
		OSS:  NewOSSClient("cn-hongkong", srv.URL, Credentials{ID: cred.ID, Secret: cred.Secret}),
		HTTP: srv.Client(), Bucket: "blog", PublicURL: srv.URL + "/blog", PublicPrefix: "img/", InboxPrefix: "inbox/",
	}
	return srv, c
}

// writes counts the requests that changed the bucket's settings.
func writes(srv *osstest.Server) (n int) {
	for _, r := range srv.Requests() {
		if strings.HasPrefix(r.Op, "Put") && r.Status == 200 {
			n++
		}
	}
	return n
}

func TestSetupBucketFromNothingAndAgain(t *testing.T) {
	srv, c := fakeOSS(t)
	var out bytes.Buffer
	if err := SetupBucket(context.Background(), c.OSS, "blog", "img/", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	acl, policy, block, ok := srv.BucketState("blog")
	if !ok || acl != "private" || block || !samePolicy(policy, PublicPolicy("blog", "img/")) {
		t.Fatalf("bucket ok %v acl %q block %v policy %s", ok, acl, block, policy)
	}
	for _, want := range []string{"created  bucket blog (private)", "Block Public Access off", "set      bucket policy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Idempotent: a second run changes nothing.
	before := writes(srv)
	out.Reset()
	if err := SetupBucket(context.Background(), c.OSS, "blog", "img/", &out); err != nil {
		t.Fatal(err)
	}
	if n := writes(srv) - before; n != 0 {
		t.Errorf("second run made %d changes:\n%s", n, out.String())
	}
	// And the result is what doctor wants.
	var rep bytes.Buffer
	r := &Report{W: &rep}
	c.Check(context.Background(), r)
	if r.Fails != 0 || strings.Count(rep.String(), "OK ") != 4 {
		t.Errorf("doctor after setup:\n%s", rep.String())
	}
	if keys := srv.Keys("blog"); len(keys) != 0 {
		t.Errorf("doctor left probes behind: %v", keys)
	}
}

func TestSetupBucketRepairsAPublicBucket(t *testing.T) {
	srv, c := fakeOSS(t, "blog")
	srv.SetBucketState("blog", "public-read", "", true)
	var rep bytes.Buffer
	r := &Report{W: &rep}
	c.Check(context.Background(), r)
	for _, want := range []string{"FAIL  bucket: blog has ACL public-read", "FAIL  bucket policy: none", "FAIL  block public access", "FAIL  public link"} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("doctor before setup lacks %q:\n%s", want, rep.String())
		}
	}
	var out bytes.Buffer
	if err := SetupBucket(context.Background(), c.OSS, "blog", "img/", &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "changed  bucket ACL public-read -> private") {
		t.Errorf("output:\n%s", out.String())
	}
	rep.Reset()
	r = &Report{W: &rep}
	c.Check(context.Background(), r)
	if r.Fails != 0 {
		t.Errorf("doctor after setup:\n%s", rep.String())
	}
}

func TestCheckFindsAPublicInbox(t *testing.T) {
	srv, c := fakeOSS(t, "blog")
	if err := SetupBucket(context.Background(), c.OSS, "blog", "img/", new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	_, _, _, _ = srv.BucketState("blog")
	srv.SetBucketState("blog", "private", `{"Version":"1","Statement":[{"Effect":"Allow","Principal":["*"],"Action":["oss:GetObject"],"Resource":["acs:oss:*:*:blog/*"]}]}`, false)
	var rep bytes.Buffer
	r := &Report{W: &rep}
	c.Check(context.Background(), r)
	if !strings.Contains(rep.String(), "FAIL  inbox private: anyone can read inbox/") || !strings.Contains(rep.String(), "FAIL  bucket policy: differs") {
		t.Errorf("doctor:\n%s", rep.String())
	}
}

func TestCheckMissingBucket(t *testing.T) {
	_, c := fakeOSS(t)
	var rep bytes.Buffer
	r := &Report{W: &rep}
	c.Check(context.Background(), r)
	if r.Fails != 1 || !strings.Contains(rep.String(), "NoSuchBucket") || !strings.Contains(rep.String(), "make deploy creates it") {
		t.Errorf("doctor:\n%s", rep.String())
	}
}

func TestSetupRefusedWithWrongSecret(t *testing.T) {
	srv := osstest.New(cred)
	defer srv.Close()
	c := NewOSSClient("cn-hongkong", srv.URL, Credentials{ID: cred.ID, Secret: "wrong"})
	err := SetupBucket(context.Background(), c, "blog", "img/", new(bytes.Buffer))
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("err = %v, want SignatureDoesNotMatch", err)
	}
}

func TestCheckLink(t *testing.T) {
	png := ProbePNG()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/attachment.png":
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Disposition", "attachment")
			w.Write(png)
		case "/mainland.png":
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>PublicEndpointForbidden</Code><Message>...</Message></Error>`))
		case "/denied.png":
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<Error><Code>AccessDenied</Code></Error>`))
		case "/page.png":
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ path, problem, fix string }{
		{"/ok.png", "", ""},
		{"/attachment.png", "attachment", "custom domain"},
		{"/mainland.png", "PublicEndpointForbidden", "ICP-filed domain"},
		{"/denied.png", "HTTP 403 AccessDenied", "Block Public Access"},
		{"/page.png", "not an image", "PICBED_PUBLIC_URL"},
		{"/missing.png", "HTTP 404", "PICBED_PUBLIC_URL"},
	} {
		problem, fix := CheckLink(context.Background(), srv.Client(), srv.URL+tc.path)
		if tc.problem == "" && problem != "" || !strings.Contains(problem, tc.problem) || !strings.Contains(fix, tc.fix) {
			t.Errorf("%s: problem %q fix %q; want %q / %q", tc.path, problem, fix, tc.problem, tc.fix)
		}
	}
}

func TestMainlandDefaultDomain(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"https://blog.oss-cn-hangzhou.aliyuncs.com", true},
		{"https://blog.oss-cn-beijing-internal.aliyuncs.com/", true},
		{"http://BLOG.OSS-CN-SHANGHAI.ALIYUNCS.COM", true},
		{"https://blog.oss-cn-hongkong.aliyuncs.com", false},
		{"https://blog.oss-ap-southeast-1.aliyuncs.com", false},
		{"https://img.example.com", false},
		{"https://oss-cn-hangzhou.aliyuncs.com", false}, // an endpoint, not a bucket domain
		{"https://blog.oss-cn-hangzhou.aliyuncs.com.evil.example", false},
	} {
		if got := MainlandDefaultDomain(tc.url); got != tc.want {
			t.Errorf("MainlandDefaultDomain(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestSDecryptReadsWhatSWrote(t *testing.T) {
	for enc, want := range map[string]string{
		"U2FsdGVkX1+wLrfDFInZMn5kytl0w22+xjTmABXgTrY=": "LTAIdummy",
		"U2FsdGVkX19KzxvALyTKBMIod54QGhC9lAoS6PCXCS8=": "dummysecret",
		"U2FsdGVkX1/i4DB+W6apaljOVvG/RhEavIYYXd9KFEg=": "1234567890",
		"LTAIplain": "LTAIplain", // not encrypted: kept, as s does
	} {
		if got := sDecrypt(enc); got != want {
			t.Errorf("sDecrypt(%q) = %q, want %q", enc, got, want)
		}
	}
}
