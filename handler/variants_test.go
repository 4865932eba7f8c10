package handler

import (
	"bytes"
	"context"
	"encoding/json"
	stdimage "image"
	"image/color"
	"image/gif"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"picbed/handler/variant"
	"picbed/imageproc"
)

// uploadFixture stores testdata/name through /upload and returns the
// answer, decoded and raw.
func (s *testServer) uploadFixture(t *testing.T, name, query string) (Uploaded, []byte) {
	t.Helper()
	body, ct := multipartBody(t, formPart{field: "file", filename: name, data: fixture(t, name)})
	resp, b := s.send(t, s.newRequest(t, "POST", "/upload"+query, body, ct))
	if resp.StatusCode != 200 {
		t.Fatalf("upload %s: %d %s", name, resp.StatusCode, b)
	}
	return decodeUploaded(t, b), b
}

// TestAnswerVariants: every answer names the thumbnail and the ladder
// widths below the stored width, with the sizes the resize makes, and
// output=html is the responsive <img> that uses them.
func TestAnswerVariants(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	u, raw := s.uploadFixture(t, "phone.jpg", "")
	if u.Width != 1600 || u.Height != 1200 {
		t.Fatalf("phone.jpg stored %dx%d, the test expects 1600x1200", u.Width, u.Height)
	}
	if u.Thumbnail != u.URL+"?w=400" {
		t.Errorf("thumbnail = %q, want %q", u.Thumbnail, u.URL+"?w=400")
	}
	want := []variant.Link{{Width: 640, Height: 480, URL: u.URL + "?w=640"}, {Width: 960, Height: 720, URL: u.URL + "?w=960"}, {Width: 1280, Height: 960, URL: u.URL + "?w=1280"}}
	if len(u.Variants) != len(want) {
		t.Fatalf("variants = %+v, want %+v", u.Variants, want)
	}
	for i := range want {
		if u.Variants[i] != want[i] {
			t.Errorf("variant %d = %+v, want %+v", i, u.Variants[i], want[i])
		}
	}
	wantHTML := `<img src="` + u.URL + `" srcset="` + u.URL + `?w=400 400w, ` + u.URL + `?w=640 640w, ` + u.URL + `?w=960 960w, ` +
		u.URL + `?w=1280 1280w, ` + u.URL + ` 1600w" sizes="(max-width: 1600px) 100vw, 1600px" width="1600" height="1200" loading="lazy" decoding="async" alt="phone">`
	if u.HTML != wantHTML {
		t.Errorf("html =\n%s\nwant\n%s", u.HTML, wantHTML)
	}
	if u.Markdown != "![phone]("+u.URL+")" {
		t.Errorf("markdown = %q: Markdown stays plain", u.Markdown)
	}
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload?output=html", bytes.NewReader(fixture(t, "phone.jpg")), "image/jpeg"))
	if resp.StatusCode != 200 || string(body) != strings.Replace(wantHTML, `alt="phone"`, `alt=""`, 1)+"\n" {
		t.Errorf("output=html: %d %s", resp.StatusCode, body)
	}
	if !bytes.Contains(raw, []byte(`"thumbnail":`)) || !bytes.Contains(raw, []byte(`"variants":[{`)) {
		t.Errorf("the JSON answer lacks thumbnail/variants: %s", raw)
	}

	// Small images and animations: the image itself, no variants ([] not null).
	for _, name := range []string{"logo.png", "wide-animation.gif"} {
		var u Uploaded
		var raw []byte
		if name == "logo.png" {
			u, raw = s.uploadFixture(t, name, "")
		} else {
			body, ct := multipartBody(t, formPart{field: "file", filename: name, data: wideAnimation(t)})
			var resp *http.Response
			resp, raw = s.send(t, s.newRequest(t, "POST", "/upload", body, ct))
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", name, resp.StatusCode, raw)
			}
			u = decodeUploaded(t, raw)
			if u.Width != 800 || u.Source.Frames != 2 {
				t.Fatalf("%s stored as %dx%d with %d frames", name, u.Width, u.Height, u.Source.Frames)
			}
		}
		if u.Thumbnail != u.URL || len(u.Variants) != 0 || !bytes.Contains(raw, []byte(`"variants":[]`)) {
			t.Errorf("%s: thumbnail %q, variants %s", name, u.Thumbnail, raw)
		}
		if strings.Contains(u.HTML, "srcset") || !strings.Contains(u.HTML, `width="`) {
			t.Errorf("%s: html %s, want width/height and no srcset", name, u.HTML)
		}
	}

	// The gallery says the same, from the stored metadata.
	resp, body = s.send(t, s.newRequest(t, "GET", "/api/images", nil, ""))
	var list struct{ Images []Listed }
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/images: %d %s", resp.StatusCode, body)
	}
	found := false
	for _, l := range list.Images {
		if l.Key == u.Key {
			found = true
			if l.Thumbnail != u.Thumbnail || l.HTML != u.HTML || len(l.Variants) != 3 {
				t.Errorf("listed %+v, want the upload's thumbnail, html and variants", l)
			}
		}
	}
	if !found {
		t.Errorf("the photo is not listed: %s", body)
	}
}

// wideAnimation is a two-frame GIF 800 px wide: wide enough for variants,
// but an animation, which picbed never resizes.
func wideAnimation(t *testing.T) []byte {
	t.Helper()
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := range 2 {
		m := stdimage.NewPaletted(stdimage.Rect(0, 0, 800, 200), pal)
		m.SetColorIndex(i*10, 5, 1)
		g.Image, g.Delay = append(g.Image, m), append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSizeOption(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	u, _ := s.uploadFixture(t, "phone.jpg", "")
	tests := []struct {
		query      string
		status     int
		want, code string
	}{
		{"?output=markdown&size=640", 200, "![phone](" + u.URL + "?w=640)\n", ""},
		{"?output=text&size=400", 200, u.URL + "?w=400\n", ""},
		{"?output=markdown&size=1920", 200, "![phone](" + u.URL + ")\n", ""}, // not wider than 1600: the image itself
		{"?output=markdown&size=500", 400, "", "bad_option"},
		{"?output=markdown&size=x", 400, "", "bad_option"},
		{"?size=640", 400, "", "bad_option"},
		{"?output=html&size=640", 400, "", "bad_option"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "file", filename: "phone.jpg", data: fixture(t, "phone.jpg")})
			resp, got := s.send(t, s.newRequest(t, "POST", "/upload"+tt.query, body, ct))
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, got)
			}
			if tt.status == 200 && string(got) != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			if tt.code != "" && !bytes.Contains(got, []byte(`"error":"`+tt.code+`"`)) {
				t.Errorf("answer %s, want error %s", got, tt.code)
			}
		})
	}
}

// variantFiles lists the variant files kept for key.
func variantFiles(t *testing.T, dir, key string) []string {
	t.Helper()
	es, err := os.ReadDir(filepath.Join(dir, ".variants", filepath.FromSlash(key)))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	return names
}

// countPipeline wraps the handler's pipeline to count the runs that made
// a variant (a MaxWidth the test gives).
func countPipeline(s *testServer, widths map[int]bool, n *atomic.Int32, before func()) {
	inner := s.h.pipeline
	s.h.pipeline = func(ctx context.Context, b []byte, r imageproc.Recipe) (imageproc.Result, error) {
		if widths[r.MaxWidth] {
			n.Add(1)
			if before != nil {
				before()
			}
		}
		return inner(ctx, b, r)
	}
}

// TestLocalVariants: GET /f/{key}?w=N serves exactly the listed widths,
// made once and kept, refuses every other width, and goes with the image.
func TestLocalVariants(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	u, _ := s.uploadFixture(t, "phone.jpg", "")
	logo, _ := s.uploadFixture(t, "logo.png", "")
	var made atomic.Int32
	countPipeline(s, map[int]bool{400: true, 640: true, 960: true, 1280: true, 1920: true}, &made, nil)

	for _, v := range append([]variant.Link{{Width: 400, Height: 300, URL: u.Thumbnail}}, u.Variants...) {
		for round := range 2 {
			resp, body := s.send(t, s.newRequest(t, "GET", strings.TrimPrefix(v.URL, s.URL), nil, ""))
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" ||
				resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
				t.Fatalf("GET %s: %d %v %s", v.URL, resp.StatusCode, resp.Header, body)
			}
			cfg, _, err := stdimage.DecodeConfig(bytes.NewReader(body))
			if err != nil || cfg.Width != v.Width || cfg.Height != v.Height {
				t.Errorf("GET %s (round %d): %dx%d %v, want %dx%d", v.URL, round, cfg.Width, cfg.Height, err, v.Width, v.Height)
			}
		}
	}
	if got := made.Load(); got != 4 {
		t.Errorf("the pipeline made %d variants for 4 widths asked twice each, want 4 (the second comes from the cache)", got)
	}
	if got := variantFiles(t, s.dir, u.Key); len(got) != 4 {
		t.Errorf("variant files %v, want 4", got)
	}

	refused := []struct{ key, w string }{
		{u.Key, "1920"}, // not below the stored 1600
		{u.Key, "1600"},
		{u.Key, "500"},  // not on the ladder
		{u.Key, "4000"}, // never an upscale
		{u.Key, "0"},
		{u.Key, "-640"},
		{u.Key, "640.0"},
		{u.Key, ""},
		{logo.Key, "400"}, // 288 px wide: no smaller copies
	}
	for _, r := range refused {
		resp, body := s.send(t, s.newRequest(t, "GET", "/f/"+r.key+"?w="+r.w, nil, ""))
		if resp.StatusCode != 400 || !bytes.Contains(body, []byte(`"bad_width"`)) {
			t.Errorf("GET %s?w=%s = %d %s, want 400 bad_width", r.key, r.w, resp.StatusCode, body)
		}
	}
	if got := made.Load(); got != 4 {
		t.Errorf("refused widths ran the pipeline (%d runs)", got)
	}
	resp, _ := s.send(t, s.newRequest(t, "GET", "/f/img/2026/11/nothing.jpg?w=640", nil, ""))
	if resp.StatusCode != 404 {
		t.Errorf("a variant of a missing image = %d, want 404", resp.StatusCode)
	}
	resp, body := s.send(t, s.newRequest(t, "GET", "/f/"+u.Key+"?v=2", nil, ""))
	if resp.StatusCode != 200 || len(body) != u.Size {
		t.Errorf("other query parameters must be ignored: %d, %d bytes", resp.StatusCode, len(body))
	}

	// Deleting the image deletes its variants.
	resp, body = s.send(t, s.newRequest(t, "DELETE", "/api/images/"+u.Key, nil, ""))
	if resp.StatusCode != 200 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if got := variantFiles(t, s.dir, u.Key); len(got) != 0 {
		t.Errorf("variant files left after the delete: %v", got)
	}
	resp, _ = s.send(t, s.newRequest(t, "GET", "/f/"+u.Key+"?w=640", nil, ""))
	if resp.StatusCode != 404 {
		t.Errorf("a deleted image's variant = %d, want 404", resp.StatusCode)
	}
}

// TestLocalVariantMadeOnce: concurrent first requests for one variant make
// one file with one pipeline run. The run waits until every other request
// is waiting on it (a barrier, not a sleep), so they all overlap it.
func TestLocalVariantMadeOnce(t *testing.T) {
	const n = 8
	s := newTestServer(t, serverOpts{})
	u, _ := s.uploadFixture(t, "phone.jpg", "")
	name := variant.Name(640, "jpg")
	var made atomic.Int32
	countPipeline(s, map[int]bool{640: true}, &made, func() {
		for s.h.variants.Waiting(u.Key, name) < n-1 {
			runtime.Gosched()
		}
	})
	var wg sync.WaitGroup
	bodies := make([][]byte, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := s.send(t, s.newRequest(t, "GET", "/f/"+u.Key+"?w=640", nil, ""))
			if resp.StatusCode != 200 {
				t.Errorf("request %d: %d %s", i, resp.StatusCode, body)
			}
			bodies[i] = body
		}()
	}
	wg.Wait()
	if made.Load() != 1 {
		t.Errorf("%d concurrent first requests ran the pipeline %d times, want once", n, made.Load())
	}
	if got := variantFiles(t, s.dir, u.Key); len(got) != 1 || got[0] != name {
		t.Errorf("variant files %v, want [%s]", got, name)
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) || len(bodies[0]) == 0 {
			t.Errorf("request %d got other bytes than request 0", i)
		}
	}
}
