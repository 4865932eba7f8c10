package main

import (
	"bytes"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	_ "golang.org/x/image/webp"

	"picbed/storage/osstest"
	"picbed/tools/localserver"
)

// answer is the part of an upload answer these tests read.
type answer struct {
	URL, Markdown, HTML, Key, Thumbnail, Format string
	Width, Height                               int
	Variants                                    []struct {
		Width, Height int
		URL           string
	}
}

// fetchSize GETs link (no credentials, as a reader's browser) and decodes
// the image's format and size.
func fetchSize(t *testing.T, link string) (string, int, int) {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", link, res.StatusCode, b)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("GET %s: %v", link, err)
	}
	return format, cfg.Width, cfg.Height
}

// checkVariants fetches the thumbnail and every variant of a and checks the
// sizes the answer announced, and that its HTML lists them in srcset.
func checkVariants(t *testing.T, a answer, wantFormat string) {
	t.Helper()
	links := []struct {
		url  string
		w, h int
	}{{a.Thumbnail, 400, a.Height * 400 / a.Width}}
	for _, v := range a.Variants {
		links = append(links, struct {
			url  string
			w, h int
		}{v.URL, v.Width, v.Height})
	}
	for _, l := range links {
		format, w, h := fetchSize(t, l.url)
		if format != wantFormat || w != l.w || h != l.h {
			t.Errorf("%s is %s %dx%d, the answer said %s %dx%d", l.url, format, w, h, wantFormat, l.w, l.h)
		}
		if !strings.Contains(a.HTML, l.url+" "+strconv.Itoa(l.w)+"w") {
			t.Errorf("html lacks %s %dw: %s", l.url, l.w, a.HTML)
		}
	}
	if !strings.Contains(a.HTML, `width="`+strconv.Itoa(a.Width)+`" height="`+strconv.Itoa(a.Height)+`" loading="lazy" decoding="async"`) {
		t.Errorf("html = %s", a.HTML)
	}
}

// TestFCVariantLinks runs the function binary on OSS (fake FC runtime,
// fake OSS that processes images like OSS, under deploy/bucket-policy.json): the answer's thumbnail and variants are OSS
// image-processing links that OSS turns into exactly the announced sizes;
// PICBED_OSS_STYLE_640 replaces the inline parameters with a style;
// PICBED_FORMAT=webp makes the links ask for WebP.
func TestFCVariantLinks(t *testing.T) {
	rt := newFakeRuntime(t)
	oss := osstest.New(fcCred, testBucket)
	t.Cleanup(oss.Close)
	// The bucket policy the README has the operator put: public reads of img/*.
	policy, err := os.ReadFile("../deploy/bucket-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	oss.SetBucketState(testBucket, "private", strings.ReplaceAll(string(policy), "YOUR_BUCKET", testBucket), false)
	oss.Style(testBucket, "blog-640", "image/resize,w_640")
	base := oss.URL + "/" + testBucket
	cmd := fcCommand(t, rt, oss, map[string]string{"PICBED_PUBLIC_URL": base, "PICBED_MAX_WIDTH": "1000",
		"PICBED_OSS_STYLE_640": "blog-640", "PICBED_FORMAT": "webp"})
	out := &localserver.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	upload := func(t *testing.T, query map[string]string) answer {
		ev := httpEvent("POST", "/upload", query, map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "image/jpeg"}, photo, true)
		r, body := decodeHTTP(t, rt.invoke(t, ev))
		var a answer
		if r.StatusCode != 200 || json.Unmarshal(body, &a) != nil {
			t.Fatalf("upload = %d %s", r.StatusCode, body)
		}
		return a
	}

	t.Run("stored JPEG, WebP variants", func(t *testing.T) {
		a := upload(t, map[string]string{"format": "jpeg"})
		if a.Format != "jpeg" || a.Width != 1000 {
			t.Fatalf("stored %s %d wide", a.Format, a.Width)
		}
		if a.Thumbnail != a.URL+"?x-oss-process=image/resize,w_400/format,webp" {
			t.Errorf("thumbnail = %q", a.Thumbnail)
		}
		want := []string{a.URL + "?x-oss-process=style/blog-640", a.URL + "?x-oss-process=image/resize,w_960/format,webp"}
		if len(a.Variants) != len(want) {
			t.Fatalf("variants %+v", a.Variants)
		}
		for i, v := range a.Variants {
			if v.URL != want[i] {
				t.Errorf("variant %d = %q, want %q", i, v.URL, want[i])
			}
		}
		// The style resizes but keeps the stored format, as the style says.
		if format, w, _ := fetchSize(t, a.Variants[0].URL); format != "jpeg" || w != 640 {
			t.Errorf("the style link is %s %d wide", format, w)
		}
		a.Variants = a.Variants[1:]
		checkVariants(t, a, "webp")
	})
	t.Run("stored WebP", func(t *testing.T) {
		a := upload(t, nil)
		if a.Format != "webp" || a.Thumbnail != a.URL+"?x-oss-process=image/resize,w_400" {
			t.Fatalf("stored %s, thumbnail %q: a WebP needs no format change", a.Format, a.Thumbnail)
		}
		a.Variants = a.Variants[1:] // the style
		checkVariants(t, a, "webp")
	})
}

// localRequest sends one request to a running local server.
func localRequest(t *testing.T, method, url string, body io.Reader, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// TestLocalVariantsBinary runs the real binary in local mode: the answer's
// fields and HTML, the widths /f/{key}?w= serves and refuses, size=,
// PicList's request shape, and a thumbnail gone with its image.
func TestLocalVariantsBinary(t *testing.T) {
	srv, err := localserver.Start(binPath, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Cmd.Process.Kill() })
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	bearer := "Authorization: Bearer " + srv.Token

	res, body := localRequest(t, "POST", srv.URL+"/upload?name=phone.jpg", bytes.NewReader(photo), bearer, "Content-Type: image/jpeg")
	var a answer
	if res.StatusCode != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("upload = %d %s", res.StatusCode, body)
	}
	if a.Thumbnail != a.URL+"?w=400" || len(a.Variants) != 3 || a.Markdown != "![phone]("+a.URL+")" {
		t.Fatalf("answer %s", body)
	}
	checkVariants(t, a, "jpeg")
	res, html := localRequest(t, "POST", srv.URL+"/upload?name=phone.jpg&output=html", bytes.NewReader(photo), bearer, "Content-Type: image/jpeg")
	if res.StatusCode != 200 || string(html) != a.HTML+"\n" {
		t.Errorf("output=html = %d %s, want the answer's html", res.StatusCode, html)
	}
	res, md := localRequest(t, "POST", srv.URL+"/upload?name=phone.jpg&output=markdown&size=960", bytes.NewReader(photo), bearer, "Content-Type: image/jpeg")
	if res.StatusCode != 200 || string(md) != "![phone]("+a.URL+"?w=960)\n" {
		t.Errorf("output=markdown&size=960 = %d %s", res.StatusCode, md)
	}
	for _, w := range []string{"1920", "500", "3200", "x"} {
		if res, body := localRequest(t, "GET", a.URL+"?w="+w, nil); res.StatusCode != 400 || !strings.Contains(string(body), "bad_width") {
			t.Errorf("?w=%s = %d %s, want 400 bad_width", w, res.StatusCode, body)
		}
	}

	// PicList's "PicList" image bed: key in the query, the file under "file".
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, _ := mw.CreateFormFile("file", "shot.jpg")
	fw.Write(photo)
	mw.Close()
	res, body = localRequest(t, "POST", srv.URL+"/upload?configName=Default&key="+srv.Token, &form, "Content-Type: "+mw.FormDataContentType())
	var pl struct {
		Success bool
		Result  []string
	}
	if res.StatusCode != 200 || json.Unmarshal(body, &pl) != nil || !pl.Success || len(pl.Result) != 1 || pl.Result[0] != a.URL {
		t.Errorf("PicList upload = %d %s", res.StatusCode, body)
	}

	// A delete link opened in a browser after the image is gone.
	if res, body := localRequest(t, "DELETE", srv.URL+"/api/images/"+a.Key, nil, bearer); res.StatusCode != 200 {
		t.Fatalf("delete = %d %s", res.StatusCode, body)
	}
	if res, _ := localRequest(t, "GET", a.Thumbnail, nil); res.StatusCode != 404 {
		t.Errorf("the thumbnail of a deleted image = %d, want 404", res.StatusCode)
	}
}
