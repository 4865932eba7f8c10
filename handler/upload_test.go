package handler

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"picbed/handler/keys"
	"picbed/imageproc"
	"picbed/storage"
	"picbed/tools/hostile"
)

// checkLink GETs u.URL and checks it serves exactly the stored bytes, of
// the size the answer reported, with the headers of an immutable image.
func (s *testServer) checkLink(t *testing.T, u Uploaded) {
	t.Helper()
	stored, obj, err := s.store.Get(context.Background(), u.Key)
	if err != nil {
		t.Fatalf("store.Get(%q): %v", u.Key, err)
	}
	resp, body := s.send(t, must(http.NewRequest("GET", u.URL, nil)))
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", u.URL, resp.StatusCode)
	}
	if !bytes.Equal(body, stored) || len(body) != u.Size {
		t.Errorf("GET %s: %d bytes, stored %d, answer said %d", u.URL, len(body), len(stored), u.Size)
	}
	want := map[string]string{
		"Content-Type":           obj.ContentType,
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          storage.CacheControl,
	}
	if obj.ContentType != "image/"+string(u.Format) {
		t.Errorf("stored Content-Type %q, answer format %q", obj.ContentType, u.Format)
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("GET %s: %s = %q, want %q", u.URL, k, got, v)
		}
	}
}

func decodeUploaded(t *testing.T, body []byte) Uploaded {
	t.Helper()
	var u Uploaded
	if err := json.Unmarshal(body, &u); err != nil || u.URL == "" {
		t.Fatalf("answer %q is not an upload: %v", truncate(string(body), 300), err)
	}
	return u
}

func TestUploadInputForms(t *testing.T) {
	phone, logo, gif := fixture(t, "phone.jpg"), fixture(t, "logo.png"), fixture(t, "animated.gif")
	type want struct {
		format        string
		width, height int
	}
	tests := []struct {
		name string
		req  func(s *testServer) *http.Request
		want []want // several -> {"files": [...]}
	}{
		{"multipart one file", func(s *testServer) *http.Request {
			body, ct := multipartBody(t, formPart{field: "file", filename: "phone.jpg", data: phone})
			return s.newRequest(t, "POST", "/upload", body, ct)
		}, []want{{"jpeg", 1600, 1200}}},
		{"multipart several files, any field names", func(s *testServer) *http.Request {
			body, ct := multipartBody(t, formPart{field: "file", filename: "phone.jpg", data: phone}, formPart{field: "image", filename: "logo.png", data: logo}, formPart{field: "files[]", filename: "a.gif", data: gif})
			return s.newRequest(t, "POST", "/upload", body, ct)
		}, []want{{"jpeg", 1600, 1200}, {"png", 288, 94}, {"gif", 0, 0}}},
		{"multipart with option fields", func(s *testServer) *http.Request {
			body, ct := multipartBody(t, formPart{field: "output", data: []byte("json")}, formPart{field: "name", data: []byte("my logo")}, formPart{field: "file", filename: "logo.png", data: logo})
			return s.newRequest(t, "POST", "/upload", body, ct)
		}, []want{{"png", 288, 94}}},
		{"raw image/jpeg", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg")
		}, []want{{"jpeg", 1600, 1200}}},
		{"raw application/octet-stream", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload?name=logo.png", bytes.NewReader(logo), "application/octet-stream")
		}, []want{{"png", 288, 94}}},
		{"raw with a lying Content-Type", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(logo), "image/jpeg")
		}, []want{{"png", 288, 94}}},
		{"JSON base64", func(s *testServer) *http.Request {
			j := fmt.Sprintf(`{"image": %q, "name": "phone.jpg"}`, base64.StdEncoding.EncodeToString(phone))
			return s.newRequest(t, "POST", "/upload", strings.NewReader(j), "application/json")
		}, []want{{"jpeg", 1600, 1200}}},
		{"JSON base64 with line breaks, URL alphabet", func(s *testServer) *http.Request {
			enc := base64.URLEncoding.EncodeToString(logo)
			j := fmt.Sprintf(`{"image": %q}`, enc[:100]+"\n"+enc[100:])
			return s.newRequest(t, "POST", "/upload", strings.NewReader(j), "application/json")
		}, []want{{"png", 288, 94}}},
		{"JSON data: URL", func(s *testServer) *http.Request {
			j := fmt.Sprintf(`{"image": "data:image/gif;base64,%s", "name": "a.gif"}`, base64.StdEncoding.EncodeToString(gif))
			return s.newRequest(t, "POST", "/upload", strings.NewReader(j), "application/json; charset=utf-8")
		}, []want{{"gif", 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, serverOpts{})
			resp, body := s.send(t, tt.req(s))
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d %s, want 200", resp.StatusCode, body)
			}
			var got []Uploaded
			if len(tt.want) == 1 {
				got = []Uploaded{decodeUploaded(t, body)}
			} else {
				var many struct{ Files []Uploaded }
				if err := json.Unmarshal(body, &many); err != nil {
					t.Fatal(err)
				}
				got = many.Files
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d results, want %d: %s", len(got), len(tt.want), body)
			}
			for i, u := range got {
				w := tt.want[i]
				if string(u.Format) != w.format || string(u.Source.Format) != w.format {
					t.Errorf("file %d: format %q (source %q), want %q", i, u.Format, u.Source.Format, w.format)
				}
				if w.width != 0 && (u.Width != w.width || u.Height != w.height || u.Source.Width != w.width) {
					t.Errorf("file %d: %dx%d (source %dx%d), want %dx%d", i, u.Width, u.Height, u.Source.Width, u.Source.Height, w.width, w.height)
				}
				if u.Deduplicated || u.Source.Size == 0 || u.Size == 0 {
					t.Errorf("file %d: %+v: want fresh, with sizes", i, u)
				}
				if u.Markdown != "!["+altText(u.Name)+"]("+u.URL+")" || !strings.Contains(u.HTML, `src="`+u.URL+`"`) {
					t.Errorf("file %d: markdown %q / html %q do not carry the URL", i, u.Markdown, u.HTML)
				}
				if !strings.HasPrefix(u.Key, "img/2026/11/") || u.URL != s.h.cfg.PublicURL+"/"+u.Key {
					t.Errorf("file %d: key %q url %q", i, u.Key, u.URL)
				}
				s.checkLink(t, u)
			}
			if n := len(objects(t, s.dir)); n != len(tt.want) {
				t.Errorf("%d objects stored, want %d", n, len(tt.want))
			}
		})
	}
}

func TestUploadOutputForms(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	logo := fixture(t, "logo.png")
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload?name=my-logo.png", bytes.NewReader(logo), "image/png"))
	if resp.StatusCode != 200 {
		t.Fatalf("json: %d %s", resp.StatusCode, body)
	}
	u := decodeUploaded(t, body)
	tests := []struct {
		output, want string
	}{
		{"text", u.URL + "\n"},
		{"markdown", "![my-logo](" + u.URL + ")\n"},
		{"html", `<img src="` + u.URL + `" width="288" height="94" loading="lazy" decoding="async" alt="my-logo">` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			resp, body := s.send(t, s.newRequest(t, "POST", "/upload?name=my-logo.png&output="+tt.output, bytes.NewReader(logo), "image/png"))
			if resp.StatusCode != 200 || string(body) != tt.want {
				t.Errorf("output=%s: %d %q, want %q", tt.output, resp.StatusCode, body, tt.want)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain", ct)
			}
		})
	}
	t.Run("text, several files", func(t *testing.T) {
		body, ct := multipartBody(t, formPart{field: "a", filename: "a.png", data: logo}, formPart{field: "b", filename: "b.gif", data: fixture(t, "animated.gif")})
		resp, got := s.send(t, s.newRequest(t, "POST", "/upload?output=text", body, ct))
		lines := strings.Split(strings.TrimSpace(string(got)), "\n")
		if resp.StatusCode != 200 || len(lines) != 2 || lines[0] != u.URL {
			t.Errorf("got %d %q, want two URLs, the first %s", resp.StatusCode, got, u.URL)
		}
	})
}

// endless is a body that never ends: a server that read it to the end
// before checking its size would never answer.
type endless struct{ prefix []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.prefix) > 0 {
		n := copy(p, e.prefix)
		e.prefix = e.prefix[n:]
		return n, nil
	}
	for i := range p {
		p[i] = 'A'
	}
	return len(p), nil
}

func TestUploadRefusals(t *testing.T) {
	phone := fixture(t, "phone.jpg")
	svg := []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="10" height="10"/></svg>`)
	const maxBytes = 256 << 10
	tests := []struct {
		name   string
		req    func(s *testServer) *http.Request
		status int
		code   string
		names  string // the message must contain this
	}{
		{"raw over PICBED_MAX_BYTES", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(append(phone, make([]byte, maxBytes)...)), "image/jpeg")
		}, 413, "too_large", "PICBED_MAX_BYTES"},
		{"raw endless, chunked", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", &endless{prefix: phone[:1000]}, "image/jpeg")
		}, 413, "too_large", ""},
		{"raw endless, declared small", func(s *testServer) *http.Request {
			r := s.newRequest(t, "POST", "/upload", io.LimitReader(&endless{}, maxBytes*2), "image/jpeg")
			r.ContentLength = maxBytes * 2
			return r
		}, 413, "too_large", ""},
		{"multipart endless file", func(s *testServer) *http.Request {
			head := "--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n"
			return s.newRequest(t, "POST", "/upload", &endless{prefix: []byte(head)}, "multipart/form-data; boundary=XX")
		}, 413, "too_large", ""},
		{"JSON endless", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", &endless{prefix: []byte(`{"image": "`)}, "application/json")
		}, 413, "too_large", ""},
		{"JSON base64 decodes over the cap", func(s *testServer) *http.Request {
			big := base64.StdEncoding.EncodeToString(append(phone, make([]byte, maxBytes)...))
			return s.newRequest(t, "POST", "/upload", strings.NewReader(`{"image":"`+big+`"}`), "application/json")
		}, 413, "too_large", ""},
		{"text is not an image", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", strings.NewReader("hello, this is not an image at all"), "image/png")
		}, 415, "unsupported_format", ""},
		{"SVG raw", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(svg), "image/svg+xml")
		}, 415, "", ""},
		{"SVG multipart as .png", func(s *testServer) *http.Request {
			body, ct := multipartBody(t, formPart{field: "file", filename: "cat.png", data: svg})
			return s.newRequest(t, "POST", "/upload", body, ct)
		}, 415, "unsupported_format", "SVG"},
		{"truncated JPEG header", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(phone[:400]), "image/jpeg")
		}, 422, "corrupt_image", ""},
		{"truncated PNG header", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(hostile.SmallPNG(4, 4)[:20]), "image/png")
		}, 422, "corrupt_image", ""},
		{"JPEG cut in half", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(phone[:len(phone)/2]), "image/jpeg")
		}, 422, "corrupt_image", ""},
		{"PNG without its last chunks", func(s *testServer) *http.Request {
			logo := fixture(t, "logo.png")
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(logo[:len(logo)-20]), "image/png")
		}, 422, "corrupt_image", ""},
		{"GIF cut in half", func(s *testServer) *http.Request {
			gif := fixture(t, "animated.gif")
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(gif[:len(gif)/2]), "image/gif")
		}, 422, "corrupt_image", ""},
		{"PNG bomb 100000x100000", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(hostile.PNGBomb(100000, 100000)), "image/png")
		}, 422, "too_many_pixels", ""},
		{"PNG bomb under the side limit, over the pixel limit", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(hostile.PNGBomb(60000, 60000)), "image/png")
		}, 422, "too_many_pixels", "megapixels"},
		{"empty raw body", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", nil, "image/png")
		}, 400, "no_image", ""},
		{"unknown query option", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload?w=100&resize=1", bytes.NewReader(phone), "image/jpeg")
		}, 400, "unknown_option", `"resize"`},
		{"malformed option", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload?q=abc", bytes.NewReader(phone), "image/jpeg")
		}, 400, "bad_option", "q="},
		{"bad format option", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload?format=gif", bytes.NewReader(phone), "image/jpeg")
		}, 400, "bad_option", "format"},
		{"unsupported Content-Type", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "text/plain")
		}, 415, "unsupported_content_type", ""},
		{"multipart without boundary", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "multipart/form-data")
		}, 400, "bad_multipart", ""},
		{"invalid base64", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", strings.NewReader(`{"image":"!!!not base64***"}`), "application/json")
		}, 400, "bad_base64", ""},
		{"data: URL without base64", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", strings.NewReader(`{"image":"data:image/png,abc"}`), "application/json")
		}, 400, "bad_base64", ""},
		{"unknown JSON field", func(s *testServer) *http.Request {
			return s.newRequest(t, "POST", "/upload", strings.NewReader(`{"img":"abc"}`), "application/json")
		}, 400, "bad_json", ""},
		{"one bad file fails the batch", func(s *testServer) *http.Request {
			body, ct := multipartBody(t, formPart{field: "a", filename: "ok.png", data: hostile.SmallPNG(3, 3)}, formPart{field: "b", filename: "bad.png", data: svg})
			return s.newRequest(t, "POST", "/upload", body, ct)
		}, 415, "unsupported_format", "bad.png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.MaxBytes = int64(maxBytes) }})
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, body := s.send(t, tt.req(s))
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, truncate(string(body), 300), tt.status)
			}
			code, msg := errorBody(t, body)
			if tt.code != "" && code != tt.code {
				t.Errorf("error = %q (%s), want %q", code, msg, tt.code)
			}
			if !strings.Contains(msg, tt.names) {
				t.Errorf("message %q does not name %q", msg, tt.names)
			}
			if got := objects(t, s.dir); len(got) != 0 {
				t.Errorf("objects written: %v", got)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
				t.Errorf("the request allocated %d MiB: refused too late", grew>>20)
			}
		})
	}
}

func TestUploadNamesCannotEscape(t *testing.T) {
	logo := fixture(t, "logo.png")
	names := map[string]string{
		"dot-dot":       "../../etc/passwd.jpg",
		"absolute":      "/etc/passwd",
		"backslashes":   `..\..\windows\system32\a.png`,
		"NUL":           "a\x00.png",
		"RTL override":  "photo\u202egnp.exe",
		"4 KB":          strings.Repeat("n", 4096) + ".png",
		"only dots":     "....",
		"hidden":        ".meta",
		"Chinese":       "猫 照片.png",
		"control chars": "a\r\nb\tc.png",
	}
	for _, tmpl := range []string{"img/{name}-{hash:8}.{ext}", "n/{name}/{hash}.{ext}", keys.Default} {
		for label, name := range names {
			t.Run(tmpl+"/"+label, func(t *testing.T) {
				s := newTestServer(t, serverOpts{cfg: withTemplate(t, tmpl)})
				resp, body := s.send(t, s.newRequest(t, "POST", "/upload?name="+url.QueryEscape(name), bytes.NewReader(logo), "image/png"))
				if resp.StatusCode != 200 {
					t.Fatalf("status = %d %s, want 200", resp.StatusCode, body)
				}
				u := decodeUploaded(t, body)
				if err := storage.CheckKey(u.Key); err != nil || strings.Contains(u.Key, "..") || len(u.Key) > 200 {
					t.Errorf("key %q: %v", u.Key, err)
				}
				if !utf8.ValidString(u.Key) || strings.ContainsAny(u.Key, "\x00\u202e\r\n\t\\") {
					t.Errorf("key %q carries control or bidi characters", u.Key)
				}
				if got := objects(t, s.dir); len(got) != 1 || got[0] != u.Key {
					t.Errorf("objects = %q, want just %q inside the root", got, u.Key)
				}
				if alt := u.Markdown[2:strings.Index(u.Markdown, "](")]; strings.ContainsAny(alt, "\x00\u202e\r\n[]()") {
					t.Errorf("markdown alt text %q can break out", u.Markdown)
				}
				s.checkLink(t, u)
			})
		}
	}
	t.Run("multipart file name", func(t *testing.T) {
		s := newTestServer(t, serverOpts{cfg: withTemplate(t, "up/{name}/{hash:8}.{ext}")})
		body, ct := multipartBody(t, formPart{field: "file", filename: "../../../etc/passwd.png", data: logo})
		resp, b := s.send(t, s.newRequest(t, "POST", "/upload", body, ct))
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d %s", resp.StatusCode, b)
		}
		if u := decodeUploaded(t, b); !strings.HasPrefix(u.Key, "up/passwd/") {
			t.Errorf("key = %q, want up/passwd/<hash>.png", u.Key)
		}
	})
}

func TestUploadDedupe(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	phone := fixture(t, "phone.jpg")
	runs := 0 // a dedupe hit must cost no decode at all: the pipeline never runs
	s.h.pipeline = func(ctx context.Context, b []byte, r imageproc.Recipe) (imageproc.Result, error) {
		runs++
		return imageproc.Process(ctx, b, r)
	}
	var first Uploaded
	for i, want := range []bool{false, true, true} {
		var req *http.Request
		if i == 2 { // another input form, same bytes
			body, ct := multipartBody(t, formPart{field: "file", filename: "other-name.jpg", data: phone})
			req = s.newRequest(t, "POST", "/upload", body, ct)
		} else {
			req = s.newRequest(t, "POST", "/upload", bytes.NewReader(phone), "image/jpeg")
		}
		resp, body := s.send(t, req)
		if resp.StatusCode != 200 {
			t.Fatalf("upload %d: %d %s", i, resp.StatusCode, body)
		}
		u := decodeUploaded(t, body)
		if u.Deduplicated != want {
			t.Errorf("upload %d: deduplicated = %v, want %v", i, u.Deduplicated, want)
		}
		if i == 0 {
			first = u
			continue
		}
		if u.Key != first.Key || u.Size != first.Size || u.Width != first.Width || u.Source != first.Source || u.Format != first.Format {
			t.Errorf("upload %d = %+v\nwant the first answer %+v", i, u, first)
		}
	}
	if runs != 1 {
		t.Errorf("pipeline ran %d times for one new image and two dedupe hits, want 1", runs)
	}
	if got := objects(t, s.dir); len(got) != 1 {
		t.Errorf("objects = %v, want one", got)
	}
	// another recipe is another object
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload?w=800", bytes.NewReader(phone), "image/jpeg"))
	if resp.StatusCode != 200 {
		t.Fatalf("w=800: %d %s", resp.StatusCode, body)
	}
	if u := decodeUploaded(t, body); u.Key == first.Key || u.Deduplicated {
		t.Errorf("w=800 gave key %q dedup %v, want a new object", u.Key, u.Deduplicated)
	}
}

func TestServeFiles(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(fixture(t, "logo.png")), "image/png"))
	if resp.StatusCode != 200 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	u := decodeUploaded(t, body)
	s.checkLink(t, u)
	for _, p := range []string{
		"/f/", "/f/img", "/f/img/", "/f/img/2026", "/f/img/2026/11/", "/f/.meta/" + u.Key + ".json",
		"/f/.picbed-token", "/f/img/%2e%2e/%2e%2e/.meta", "/f/" + u.Key + "x", "/f/img//2026/11",
	} {
		t.Run(p, func(t *testing.T) {
			resp, b := s.send(t, must(http.NewRequest("GET", s.URL+p, nil))) // redirects (path cleaning) followed
			if resp.StatusCode != 404 || bytes.Contains(b, []byte("<a href")) || bytes.Contains(b, []byte("content_type")) {
				t.Errorf("GET %s = %d %q: a listing or an internal file", p, resp.StatusCode, truncate(string(b), 200))
			}
		})
	}
	t.Run("conditional GET", func(t *testing.T) {
		req := must(http.NewRequest("GET", u.URL, nil))
		first, _ := s.send(t, req)
		req.Header.Set("If-None-Match", first.Header.Get("ETag"))
		resp, _ := s.send(t, req)
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
		}
	})
}

// TestDeclaredOversizeNotRead: a body declaring more than the cap is
// refused before any of it is read, so a client using Expect:
// 100-continue never sends it.
func TestDeclaredOversizeNotRead(t *testing.T) {
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.MaxBytes = 65536 }})
	for _, ct := range []string{"image/jpeg", "application/json", "multipart/form-data; boundary=x"} {
		t.Run(ct, func(t *testing.T) {
			body := &countingReader{r: bytes.NewReader(make([]byte, 8<<20))}
			req := s.newRequest(t, "POST", "/upload", body, ct)
			req.ContentLength = 8 << 20
			req.Header.Set("Expect", "100-continue")
			tr := &http.Transport{ExpectContinueTimeout: time.Minute}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 413 || !strings.Contains(string(b), "64 KiB") {
				t.Errorf("status = %d %s, want 413 naming 64 KiB", resp.StatusCode, b)
			}
			if body.n != 0 {
				t.Errorf("the client sent %d bytes of a refused body", body.n)
			}
		})
	}
}

// TestMultipartFileWithoutName: a file part without a file name but with
// an image Content-Type is an image, not an oversized form field.
func TestMultipartFileWithoutName(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	logo := fixture(t, "logo.png")
	body := "--B\r\nContent-Disposition: form-data; name=\"image\"\r\nContent-Type: image/png\r\n\r\n" + string(logo) +
		"\r\n--B\r\nContent-Disposition: form-data; name=\"output\"\r\n\r\ntext\r\n--B--\r\n"
	resp, b := s.send(t, s.newRequest(t, "POST", "/upload", strings.NewReader(body), "multipart/form-data; boundary=B"))
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "http://") {
		t.Errorf("status = %d %s, want 200 with the bare URL (output=text form field)", resp.StatusCode, b)
	}
}
