package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"picbed/handler/keys"
	"picbed/storage"
	"picbed/tools/hostile"
)

// testToken is the upload token of every test server.
const testToken = "test-token-0123456789abcdef"

// testServer is a real HTTP server on handler.New with a real local store
// in a temporary directory.
type testServer struct {
	*httptest.Server
	h     *Handler
	store *storage.Local
	dir   string
}

// serverOpts tune newTestServer.
type serverOpts struct {
	cfg  func(*Config)              // changes to the test configuration
	wrap func(*storage.Local) Store // fault injection around the real store
	opts []Option
}

// fixedClock keeps {year}/{month} stable across a test.
var fixedClock = WithClock(func() time.Time { return time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC) })

func newTestServer(t *testing.T, so serverOpts) *testServer {
	t.Helper()
	so.opts = append([]Option{fixedClock, WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))}, so.opts...)
	return startTestServer(t, so)
}

// startTestServer is newTestServer without the fixed clock and the
// silent logger: so.opts are all the options.
func startTestServer(t *testing.T, so serverOpts) *testServer {
	t.Helper()
	dir := t.TempDir()
	store, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	cfg := DefaultConfig("http://" + ts.Listener.Addr().String() + "/f")
	cfg.Tokens, cfg.LocalFiles = []string{testToken}, true
	if so.cfg != nil {
		so.cfg(&cfg)
	}
	var st Store = store
	if so.wrap != nil {
		st = so.wrap(store)
	}
	h := New(cfg, st, so.opts...)
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, h: h, store: store, dir: dir}
}

// send makes one request and returns the response with its body read.
func (s *testServer) send(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	return resp, b
}

func (s *testServer) newRequest(t *testing.T, method, path string, body io.Reader, ct string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	return req
}

// objects lists every object file under the store's root (not the
// sidecars, the token or temp files: see files for those).
func objects(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	for _, f := range files(t, dir) {
		if !strings.HasPrefix(f, ".") {
			keys = append(keys, f)
		}
	}
	return keys
}

// files lists every regular file under dir, relative, slash-separated.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// formPart is one multipart part: a file when filename is set.
type formPart struct {
	field, filename, contentType string
	data                         []byte
}

// multipartBody builds a multipart/form-data body of parts, in order.
func multipartBody(t testing.TB, parts ...formPart) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.field + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

// errorBody decodes the one JSON error shape, failing when it is not that.
func errorBody(t *testing.T, b []byte) (code, message string) {
	t.Helper()
	var e struct{ Error, Message string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error == "" || e.Message == "" {
		t.Fatalf("error body %q is not {\"error\", \"message\"}: %v", truncate(string(b), 300), err)
	}
	return e.Error, e.Message
}

func TestHealthzNeedsNoAuth(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	resp, body := s.send(t, must(http.NewRequest("GET", s.URL+"/healthz", nil)))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz = %d %s, want 200", resp.StatusCode, body)
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || got["status"] != "ok" {
		t.Errorf("body = %s, want status ok", body)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAuth(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	png := hostile.SmallPNG(8, 8)
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no token", nil, 401},
		{"wrong bearer", map[string]string{"Authorization": "Bearer wrong-token-0123456789abcdef"}, 401},
		{"empty bearer", map[string]string{"Authorization": "Bearer "}, 401},
		{"bearer without scheme", map[string]string{"Authorization": testToken}, 401},
		{"token prefix", map[string]string{"Authorization": "Bearer " + testToken[:len(testToken)-1]}, 401},
		{"token with suffix", map[string]string{"Authorization": "Bearer " + testToken + "x"}, 401},
		{"wrong X-Upload-Token", map[string]string{"X-Upload-Token": "nope"}, 401},
		{"empty X-Upload-Token", map[string]string{"X-Upload-Token": ""}, 401},
		{"right bearer", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"right bearer, lower-case scheme", map[string]string{"Authorization": "bearer " + testToken}, 200},
		{"right X-Upload-Token", map[string]string{"X-Upload-Token": testToken}, 200},
		{"wrong bearer, right X-Upload-Token", map[string]string{"Authorization": "Bearer wrong", "X-Upload-Token": testToken}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := must(http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(png)))
			req.Header.Set("Content-Type", "image/png")
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			resp, body := s.send(t, req)
			if resp.StatusCode != tt.want {
				t.Fatalf("status = %d %s, want %d", resp.StatusCode, body, tt.want)
			}
			if tt.want == 401 {
				if code, _ := errorBody(t, body); code != "unauthorized" {
					t.Errorf("error = %q, want unauthorized", code)
				}
			}
		})
	}
	if got := objects(t, s.dir); len(got) != 1 {
		t.Errorf("objects = %v, want exactly the one authorised upload", got)
	}
}

// TestTokenComparedAsDigests checks that checkToken never compares the raw
// token: it compares sha256 digests of equal length, so neither the token
// nor its length leaks through timing.
func TestTokenComparedAsDigests(t *testing.T) {
	cfg := Config{Tokens: []string{testToken, "second-token-0123456789"}}
	h := New(cfg, nil)
	for i, tok := range cfg.Tokens {
		if len(h.tokens[i]) != 32 {
			t.Fatalf("token %d stored as %d bytes, want a 32-byte digest", i, len(h.tokens[i]))
		}
		if bytes.Contains(h.tokens[i][:], []byte(tok[:8])) {
			t.Errorf("token %d is kept in clear", i)
		}
	}
	for _, c := range []struct {
		given []string
		ok    bool
	}{
		{[]string{testToken}, true},
		{[]string{"", "second-token-0123456789"}, true},
		{[]string{strings.Repeat("x", 10000)}, false},
		{[]string{"t"}, false},
		{nil, false},
	} {
		if err := h.checkToken(c.given...); (err == nil) != c.ok {
			t.Errorf("checkToken(%.20q) = %v, want ok=%v", c.given, err, c.ok)
		}
	}
}

func TestNotFoundAndOptions(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	resp, body := s.send(t, s.newRequest(t, "GET", "/nope", nil, ""))
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope = %d, want 404", resp.StatusCode)
	}
	errorBody(t, body)
	resp, _ = s.send(t, must(http.NewRequest("OPTIONS", s.URL+"/upload", nil)))
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("OPTIONS /upload = %d, CORS %q; want 204 and *", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// panicStore panics on Stat: a bug anywhere in a request.
type panicStore struct{ Store }

func (panicStore) Stat(context.Context, string) (storage.Object, error) { panic("boom in the store") }

func TestPanicIsRecovered(t *testing.T) {
	var logs syncBuffer
	s := newTestServer(t, serverOpts{
		wrap: func(l *storage.Local) Store { return panicStore{l} },
		opts: []Option{WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))},
	})
	for i := range 2 { // the server keeps serving after a panic
		resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(hostile.SmallPNG(4, 4)), "image/png"))
		if resp.StatusCode != 500 {
			t.Fatalf("request %d: status = %d %s, want 500", i, resp.StatusCode, body)
		}
		id := resp.Header.Get("X-Request-Id")
		code, msg := errorBody(t, body)
		if code != "internal" || id == "" || !strings.Contains(msg, id) {
			t.Errorf("panic answer = %s (X-Request-Id %q), want internal naming the request id", body, id)
		}
	}
	resp, _ := s.send(t, must(http.NewRequest("GET", s.URL+"/healthz", nil)))
	if resp.StatusCode != 200 {
		t.Errorf("healthz after panics = %d, want 200", resp.StatusCode)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"panic"`) || !strings.Contains(out, "boom in the store") || !strings.Contains(out, "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", truncate(out, 2000))
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsKeepSecretsOut sends tokens in every header and secrets in the
// query and in a URL, and checks the structured log names the request and
// none of them.
func TestLogsKeepSecretsOut(t *testing.T) {
	var logs syncBuffer
	s := newTestServer(t, serverOpts{opts: []Option{WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))}})
	const secret = "SECRETSECRET0123456789"
	reqs := []*http.Request{
		s.newRequest(t, "POST", "/upload?output=json&name=a", bytes.NewReader(fixture(t, "logo.png")), "image/png"),
		s.newRequest(t, "POST", "/upload?token="+secret, bytes.NewReader(hostile.SmallPNG(2, 2)), "image/png"),
		s.newRequest(t, "POST", "/upload?sig="+secret, strings.NewReader(`{"url":"https://203.0.113.9/a.jpg?X-Amz-Signature=`+secret+`"}`), "application/json"),
		s.newRequest(t, "POST", "/upload", strings.NewReader(`{"url":"http://127.0.0.1:1/a.png?Signature=`+secret+`"}`), "application/json"),
		must(http.NewRequest("POST", s.URL+"/upload?access_token="+secret, nil)),
	}
	reqs[1].Header.Set("X-Upload-Token", secret)
	reqs[2].Header.Set("Cookie", "session="+secret)
	reqs[4].Header.Set("Authorization", "Bearer "+secret)
	for _, r := range reqs {
		r.Header.Set("X-Api-Key", secret)
		if r == reqs[0] { // the door hands over FC's request id in the context
			rec := httptest.NewRecorder()
			s.h.ServeHTTP(rec, r.WithContext(WithRequestID(r.Context(), "fc-request-42")))
			if rec.Header().Get("X-Request-Id") != "fc-request-42" {
				t.Errorf("X-Request-Id = %q, want the door's fc-request-42", rec.Header().Get("X-Request-Id"))
			}
			continue
		}
		s.send(t, r)
	}
	out := logs.String()
	for _, bad := range []string{secret, testToken} {
		if strings.Contains(out, bad) {
			t.Errorf("the log holds a secret %q:\n%s", bad[:8], out)
		}
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		if m["msg"] == "request" && m["request_id"] == "fc-request-42" {
			line = m
		}
	}
	if line == nil {
		t.Fatalf("no request line for fc-request-42:\n%s", out)
	}
	for _, k := range []string{"route", "status", "bytes_in", "bytes_out", "duration_ms", "path"} {
		if _, ok := line[k]; !ok {
			t.Errorf("request log line lacks %q: %v", k, line)
		}
	}
	if line["route"] != "/upload" || line["status"] != float64(200) || line["path"] == "" {
		t.Errorf("request line = %v, want route /upload, status 200 and the pipeline path", line)
	}
}

func TestRequestIDFrom(t *testing.T) {
	if got := requestIDFrom("1-abc_DEF.9"); got != "1-abc_DEF.9" {
		t.Errorf("FC id dropped: %q", got)
	}
	for _, bad := range []string{"", "a b", "x\r\ny", strings.Repeat("a", 200), "<script>"} {
		if got := requestIDFrom(bad); got == bad || len(got) != 16 {
			t.Errorf("requestIDFrom(%.20q) = %q, want a fresh id", bad, got)
		}
	}
}

var errBoom = errors.New("boom")

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// withTemplate sets the key template (it must parse).
func withTemplate(t testing.TB, tmpl string) func(*Config) {
	t.Helper()
	kt, err := keys.Parse(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	return func(c *Config) { c.KeyTemplate = kt }
}
