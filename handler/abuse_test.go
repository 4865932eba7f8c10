package handler

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"picbed/handler/admission"
	"picbed/storage"
	"picbed/tools/hostile"
)

// TestHostileInput runs the bad-input suite (tools/hostile, also run
// against a live server by `make abuse`) through a real HTTP server: each
// case gets its status and JSON error, writes nothing (or, for hostile
// names, exactly one object with a safe key), and the server stays healthy.
func TestHostileInput(t *testing.T) {
	const maxBytes = 1 << 20
	tmpl := withTemplate(t, "img/{name}-{hash:12}.{ext}")
	var logs syncBuffer
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.MaxBytes = maxBytes; tmpl(c) },
		opts: []Option{WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))}})
	cases := hostile.Cases(maxBytes, fixture(t, "phone.jpg"), testToken)
	if len(cases) < 60 {
		t.Fatalf("the suite has %d cases; it lost some", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			before := objects(t, s.dir)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			req, err := c.Request(s.URL, testToken)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Fatalf("request failed: %v (the server must answer, not hang up)", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&ms1)
			after := objects(t, s.dir)
			checkHostile(t, s, c, resp, body, before, after)
			if c.Leaks(string(body)) || c.Leaks(logs.String()) {
				t.Errorf("the secret in the request shows in the answer or the log")
			}
			if c.MaxRead > 0 {
				if n := hostile.BytesRead(logs.String(), resp.Header.Get("X-Request-Id")); n < 0 || n > c.MaxRead {
					t.Errorf("the server read %d bytes of the body before answering, want at most %d", n, c.MaxRead)
				}
			}
			if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 256<<20 {
				t.Errorf("the request allocated %d MiB", grew>>20)
			}
			h, _ := s.send(t, must(http.NewRequest("GET", s.URL+"/healthz", nil)))
			if h.StatusCode != 200 {
				t.Fatalf("healthz after the case = %d", h.StatusCode)
			}
		})
	}
	for _, f := range files(t, s.dir) {
		if strings.Contains(f, ".tmp-") {
			t.Errorf("temp file left: %s", f)
		}
	}
}

func checkHostile(t *testing.T, s *testServer, c hostile.Case, resp *http.Response, body []byte, before, after []string) {
	t.Helper()
	added := len(after) - len(before)
	switch {
	case c.OK200or422:
		if resp.StatusCode == 422 {
			errorBody(t, body)
			break
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status = %d %s, want 200 or 422", resp.StatusCode, truncate(string(body), 200))
		}
		u := decodeUploaded(t, body)
		served, got := s.send(t, must(http.NewRequest("GET", u.URL, nil)))
		if bytes.Contains(got, []byte("alert(")) || bytes.Contains(got, []byte("<script")) {
			t.Errorf("the stored polyglot still carries its script")
		}
		if ct := served.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") || served.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(served.Header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("polyglot served as %q, nosniff %q, CSP %q: a browser could run it", ct,
				served.Header.Get("X-Content-Type-Options"), served.Header.Get("Content-Security-Policy"))
		}
		return
	case resp.StatusCode != c.Status:
		t.Fatalf("status = %d %s, want %d", resp.StatusCode, truncate(string(body), 300), c.Status)
	case c.Stores:
		u := decodeUploaded(t, body)
		if added != 1 || storage.CheckKey(u.Key) != nil || strings.ContainsAny(u.Key, "\x00\u202e\r\n\\") || strings.Contains(u.Key, "..") {
			t.Errorf("key %q (%d objects added): want one object with a safe key", u.Key, added)
		}
		return
	}
	code, message := hostile.ErrorOf(body)
	if message == "" {
		t.Fatalf("body %s is not a JSON error", truncate(string(body), 300))
	}
	if c.Code != "" && code != c.Code {
		t.Errorf("error = %q, want %q (%s)", code, c.Code, truncate(string(body), 200))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	if added != 0 {
		t.Errorf("objects written: %v -> %v", before, after)
	}
}

// TestHostileConcurrentSameImage: the same image from many clients at
// once under a tight memory budget: all answered 200 or 503-with-
// Retry-After, never anything else, and one object.
func TestHostileConcurrentSameImage(t *testing.T) {
	s := newTestServer(t, serverOpts{})
	s.h.admit = admission.New(40 << 20) // one phone photo at a time
	phone := fixture(t, "phone.jpg")
	var wg sync.WaitGroup
	var mu sync.Mutex
	keys := map[string]int{}
	statuses := map[int]int{}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.URL+"/upload?output=json", bytes.NewReader(phone))
			req.Header.Set("X-Upload-Token", testToken)
			resp, err := s.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			var u Uploaded
			json.NewDecoder(resp.Body).Decode(&u)
			mu.Lock()
			defer mu.Unlock()
			statuses[resp.StatusCode]++
			if resp.StatusCode == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if u.Key != "" {
				keys[u.Key]++
			}
		}()
	}
	wg.Wait()
	if len(keys) != 1 || statuses[200] == 0 || statuses[200]+statuses[503] != 8 {
		t.Errorf("statuses %v, keys %v: want 200s (or 503 with Retry-After) and one key", statuses, keys)
	}
	if got := objects(t, s.dir); len(got) != 1 {
		t.Errorf("objects = %v, want one", got)
	}
}
