package handler

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"picbed/handler/fetch"
	"picbed/storage"
)

const (
	rhToken  = "remote-test-token-0123456789"
	rhSecret = "remote-webhook-secret-0123456789"
	rhPublic = "https://img.example.net"
)

// rhEnv is a Handler with local storage and an httptest origin that
// serves real photos, HTML and SVG under image names, and a 404.
type rhEnv struct {
	h      *Handler
	store  *storage.Local
	origin *httptest.Server

	mu       sync.Mutex
	hits     map[string]int
	inFlight int
	maxIn    int
	// full is closed once rehostWorkers fetches are in flight together:
	// /n/ answers wait for it (a barrier, not a sleep), so the worker
	// bound is reached whatever the machine's load.
	full     chan struct{}
	fullOnce sync.Once
}

func newRhEnv(t *testing.T, extra func(*Config), opts ...Option) *rhEnv {
	t.Helper()
	opts = append([]Option{WithFetchOptions(fetch.Options{AllowLoopback: true, Timeout: time.Minute})}, opts...) // a hang guard: fetches must succeed
	s := startTestServer(t, serverOpts{opts: opts, cfg: func(c *Config) {
		c.Tokens, c.PublicURL, c.WebhookSecret = []string{rhToken}, rhPublic, rhSecret
		if extra != nil {
			extra(c)
		}
	}})
	e := &rhEnv{h: s.h, store: s.store, hits: map[string]int{}, full: make(chan struct{})}
	phone, logo, portrait := fixture(t, "phone.jpg"), fixture(t, "logo.png"), fixture(t, "portrait6.jpg")
	serve := func(ct string, b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", ct)
			w.Write(b)
		}
	}
	files := map[string]http.HandlerFunc{ // by decoded path: some names have spaces
		"/2024/05/phone.jpg":      serve("image/jpeg", phone),
		"/2024/05/tea fields.jpg": serve("image/jpeg", portrait),
		"/2024/05/tea.jpg":        serve("image/jpeg", portrait),
		"/2024/05/feature.png":    serve("image/png", logo),
		"/brand/logo final.png":   serve("image/png", logo),
		"/brand/logo.png":         serve("image/png", logo),
		"/not-an-image.png":       serve("image/png", []byte("<!doctype html><html><body>Not found, but 200</body></html>")),
		"/icon.svg":               serve("image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><circle r="4"/></svg>`)),
		"/real.svg":               serve("image/svg+xml", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`)),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/n/{i}", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-e.full:
		case <-time.After(time.Minute): // a hang guard: TestRehostBounds then fails on maxIn
		}
		serve("image/png", logo)(w, r)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://100.100.100.200/latest/meta-data/ram/security-credentials/", http.StatusFound)
	})
	e.origin = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.hits[r.URL.Path]++
		e.inFlight++
		e.maxIn = max(e.maxIn, e.inFlight)
		if e.inFlight == rehostWorkers {
			e.fullOnce.Do(func() { close(e.full) })
		}
		e.mu.Unlock()
		defer func() { e.mu.Lock(); e.inFlight--; e.mu.Unlock() }()
		if f, ok := files[r.URL.Path]; ok {
			f(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.origin.Close)
	return e
}

func (e *rhEnv) hitCount(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.hits[path]
}

// do sends a request through the whole Handler; headers are name, value
// pairs.
func (e *rhEnv) do(t *testing.T, method, path, ct string, body io.Reader, headers ...string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var m map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
		}
	}
	return rec, m
}

func (e *rhEnv) uploadJSON(t *testing.T, v any) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	return e.do(t, "POST", "/upload", "application/json", bytes.NewReader(b), "Authorization", "Bearer "+rhToken)
}

// stored tells whether a link of ours names an object in the store.
func (e *rhEnv) stored(t *testing.T, link string) bool {
	t.Helper()
	key, ok := e.h.ourKey(link)
	if !ok {
		return false
	}
	_, err := e.store.Stat(t.Context(), key)
	return err == nil
}

func TestUploadByURL(t *testing.T) {
	e := newRhEnv(t, nil)
	o := e.origin.URL

	t.Run("json url", func(t *testing.T) {
		rec, m := e.uploadJSON(t, map[string]string{"url": o + "/2024/05/phone.jpg"})
		if rec.Code != 200 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if m["width"] != 1600.0 || m["height"] != 1200.0 || m["name"] != "phone.jpg" {
			t.Errorf("width, height, name = %v, %v, %v", m["width"], m["height"], m["name"])
		}
		if u, _ := m["url"].(string); !strings.HasPrefix(u, rhPublic+"/") || !e.stored(t, u) {
			t.Errorf("url %q is not a stored object of ours", u)
		}
	})
	t.Run("multipart url field", func(t *testing.T) {
		var b bytes.Buffer
		b.WriteString("--B\r\nContent-Disposition: form-data; name=\"url\"\r\n\r\n" + o + "/brand/logo.png\r\n--B--\r\n")
		rec, m := e.do(t, "POST", "/upload?output=json", "multipart/form-data; boundary=B", &b, "Authorization", "Bearer "+rhToken)
		if rec.Code != 200 || m["format"] != "png" || m["width"] != 288.0 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("our own link is read from the store", func(t *testing.T) {
		_, first := e.uploadJSON(t, map[string]string{"url": o + "/2024/05/phone.jpg"})
		before := e.hitCount("/2024/05/phone.jpg")
		rec, m := e.do(t, "POST", "/upload?w=400", "application/json",
			strings.NewReader(`{"url": "`+first["url"].(string)+`"}`), "Authorization", "Bearer "+rhToken)
		if rec.Code != 200 || m["width"] != 400.0 {
			t.Fatalf("status %d, width %v: %s", rec.Code, m["width"], rec.Body)
		}
		if e.hitCount("/2024/05/phone.jpg") != before {
			t.Error("our own link went out to the origin")
		}
	})

	for _, tt := range []struct {
		name, url string
		status    int
		code      string
	}{
		{"html as image/png", o + "/not-an-image.png", 415, "unsupported_format"},
		{"svg as image/png", o + "/icon.svg", 415, "unsupported_format"},
		{"svg as image/svg+xml", o + "/real.svg", 415, "unsupported_format"},
		{"404", o + "/gone.jpg", 502, "upstream_status"},
		{"metadata", "http://100.100.100.200/latest/meta-data/ram/security-credentials/", 400, "url_refused"},
		{"redirect to metadata", o + "/to-metadata", 400, "url_refused"},
		{"numeric host", "http://2130706433/a.jpg", 400, "bad_url"},
		{"ftp", "ftp://example.com/a.jpg", 400, "bad_url"},
		{"userinfo", "http://u:p@example.com/a.jpg", 400, "bad_url"},
		{"ours, missing", rhPublic + "/img/2024/05/none.jpg", 404, "not_found"},
		{"ours, escaping key", rhPublic + "/img/../../etc/passwd", 400, "bad_url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec, m := e.uploadJSON(t, map[string]string{"url": tt.url})
			if rec.Code != tt.status || m["error"] != tt.code {
				t.Fatalf("status %d %v, want %d %s: %s", rec.Code, m["error"], tt.status, tt.code, rec.Body)
			}
			if msg, _ := m["message"].(string); msg == "" {
				t.Error("no message")
			}
		})
	}
}

func TestUploadByURLLimits(t *testing.T) {
	t.Run("over PICBED_MAX_BYTES", func(t *testing.T) {
		e := newRhEnv(t, func(c *Config) { c.MaxBytes = 100000 }) // phone.jpg is larger
		rec, m := e.uploadJSON(t, map[string]string{"url": e.origin.URL + "/2024/05/phone.jpg"})
		if rec.Code != 413 || m["error"] != "too_large" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("default fetcher refuses a loopback origin", func(t *testing.T) {
		e := newRhEnv(t, nil)
		cfg := DefaultConfig("http://127.0.0.1:9000/f")
		cfg.Tokens, cfg.LocalFiles = []string{rhToken}, true
		e.h = New(cfg, e.store) // no WithFetchOptions: the production fetcher
		rec, m := e.uploadJSON(t, map[string]string{"url": e.origin.URL + "/2024/05/phone.jpg"})
		if rec.Code != 400 || m["error"] != "url_refused" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if n := e.hitCount("/2024/05/phone.jpg"); n != 0 {
			t.Errorf("origin hit %d times", n)
		}
	})
	t.Run("slow origin times out", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}))
		defer slow.Close()
		defer close(release)
		e := newRhEnv(t, nil, WithFetchOptions(fetch.Options{AllowLoopback: true, Timeout: 100 * time.Millisecond}))
		rec, m := e.uploadJSON(t, map[string]string{"url": slow.URL + "/a.jpg"})
		if rec.Code != 504 || m["error"] != "upstream_timeout" {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
}
