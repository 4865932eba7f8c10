package handler

import (
	"bytes"
	"encoding/json"
	stdimage "image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers shared by the client-dialect, gallery, delete-link and page
// tests: a real picbed on a real HTTP server with local storage.

const clientToken = "client-test-token-0123456789"

type clientEnv struct {
	srv *httptest.Server
	dir string
}

// newClientEnv starts picbed with local storage in a temporary directory
// and the configuration changes in extra (nil: none).
func newClientEnv(t *testing.T, extra func(*Config), opts ...Option) *clientEnv {
	t.Helper()
	s := startTestServer(t, serverOpts{opts: opts, cfg: func(c *Config) {
		c.Tokens, c.PublicURL = []string{clientToken}, "https://img.example.com"
		if extra != nil {
			extra(c)
		}
	}})
	return &clientEnv{srv: s.Server, dir: s.dir}
}

// clientAnswer is one HTTP exchange's result.
type clientAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a clientAnswer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, a.body)
	}
	return m
}

// do sends a request built from method, path, body and headers ("k: v").
func (e *clientEnv) do(t *testing.T, method, path string, body io.Reader, headers ...string) clientAnswer {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, hv := range headers {
		k, v, _ := strings.Cut(hv, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return clientAnswer{status: res.StatusCode, header: res.Header, body: b}
}

// exists reports whether key is stored.
func (e *clientEnv) exists(key string) bool {
	_, err := os.Stat(filepath.Join(e.dir, filepath.FromSlash(key)))
	return err == nil
}

// clientPNG draws a small opaque PNG whose pixels depend on seed, so that
// different seeds give different keys.
func clientPNG(t testing.TB, w, h int, seed uint8) []byte {
	t.Helper()
	m := stdimage.NewNRGBA(stdimage.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.NRGBA{uint8(x) ^ seed, uint8(y) + seed, seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// path walks a dotted path (as PicGo's jsonPath does) through decoded JSON.
func walkJSON(v any, dotted string) any {
	for _, f := range strings.Split(dotted, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[f]
	}
	return v
}

// uploadPNG stores a PNG through /upload and returns its key.
func (e *clientEnv) uploadPNG(t *testing.T, seed uint8) string {
	t.Helper()
	body, ct := multipartBody(t, formPart{field: "file", filename: "p.png", data: clientPNG(t, 16, 12, seed)})
	a := e.do(t, "POST", "/upload", body, "Content-Type: "+ct, "Authorization: Bearer "+clientToken)
	if a.status != 200 {
		t.Fatalf("upload: status %d: %s", a.status, a.body)
	}
	return a.json(t)["key"].(string)
}

func readAllString(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// imageOrigin serves files by name (a stand-in for a public image host;
// reaching it needs fetch.Options{AllowLoopback: true}).
func imageOrigin(t *testing.T, files map[string][]byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}
