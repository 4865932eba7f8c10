package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"
)

func TestEventKeyFixture(t *testing.T) {
	b, err := os.ReadFile("../testdata/events/oss-put-encoded-key.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.OssEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	got := inboxObject(ev.Events[0])
	if got.Key != "inbox/2026 trip/海边+sunset+glow.jpg" || got.Bucket != "picbed-test" || got.Size != 170091 || got.Event != "ObjectCreated:PutObject" {
		t.Errorf("decoded %+v, want key %q in picbed-test, 170091 bytes, ObjectCreated:PutObject", got, "inbox/2026 trip/海边+sunset+glow.jpg")
	}
	for _, tc := range []struct{ raw, want string }{
		{"inbox/a.jpg", "inbox/a.jpg"},
		{"inbox/%E7%8C%AB.png", "inbox/猫.png"},
		{"inbox/a+b.jpg", "inbox/a+b.jpg"},   // + is a plus, not a space
		{"inbox/100%.jpg", "inbox/100%.jpg"}, // not percent-encoding: kept
	} {
		if got := eventKey(tc.raw); got != tc.want {
			t.Errorf("eventKey(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

func TestHTTPRequestFromEvent(t *testing.T) {
	body := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	ev := events.HTTPTriggerEvent{
		RawPath:         strp("/api/images/img/2026/a%20b%2Bc.jpg"),
		Body:            strp(base64.StdEncoding.EncodeToString(body)),
		IsBase64Encoded: boolp(true),
		Headers:         &map[string]string{"Content-Type": "image/png", "Accept": "text/html,application/json", "Host": "img.example.com", "Content-Length": "999"},
		QueryParameters: &map[string]string{"w": "800", "name": "a,b & c.png"},
	}
	ev.TriggerContext.Http.Method = strp("POST")
	ev.TriggerContext.Http.SourceIp = strp("203.0.113.9")
	r, err := httpRequest(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	checks := []struct{ name, got, want string }{
		{"method", r.Method, "POST"},
		{"path", r.URL.Path, "/api/images/img/2026/a b+c.jpg"},
		{"escaped path", r.URL.EscapedPath(), "/api/images/img/2026/a%20b%2Bc.jpg"},
		{"query w", r.URL.Query().Get("w"), "800"},
		{"query name", r.URL.Query().Get("name"), "a,b & c.png"},
		{"accept", r.Header.Get("Accept"), "text/html,application/json"},
		{"host", r.Host, "img.example.com"},
		{"remote", r.RemoteAddr, "203.0.113.9:0"},
		{"body", string(got), string(body)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if r.ContentLength != int64(len(body)) {
		t.Errorf("ContentLength = %d, want %d (the decoded body, not the client's header)", r.ContentLength, len(body))
	}

	ev.Body = strp("not base64!")
	if _, err := httpRequest(context.Background(), ev); err == nil {
		t.Errorf("a body that is not base64 was accepted")
	}
}

func TestRecorderResponse(t *testing.T) {
	tests := []struct {
		name    string
		ct      string
		body    []byte
		wantB64 bool
	}{
		{"json", "application/json; charset=utf-8", []byte(`{"url":"https://img.example.com/a.jpg"}`), false},
		{"text", "text/plain; charset=utf-8", []byte("https://img.example.com/a.jpg\n"), false},
		{"html", "text/html; charset=utf-8", []byte("<!doctype html><title>picbed</title>"), false},
		{"png", "image/png", []byte{0x89, 'P', 'N', 'G', 0, 0xff}, true},
		{"invalid utf-8 text", "text/plain", []byte{'a', 0xff, 'b'}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{header: http.Header{}}
			h := rec.Header()
			h.Set("Content-Type", tc.ct)
			for _, k := range []string{"Content-Length", "Date", "Connection", "Keep-Alive", "Server", "Upgrade", "Content-Disposition", "X-Fc-Trace"} {
				h.Set(k, "x")
			}
			h.Add("Vary", "Origin")
			h.Add("Vary", "Accept")
			rec.WriteHeader(http.StatusCreated)
			rec.Write(tc.body)
			out := rec.response()
			if out.StatusCode != http.StatusCreated {
				t.Errorf("status %d, want 201", out.StatusCode)
			}
			if len(out.Headers) != 2 || out.Headers["Vary"] != "Origin, Accept" || out.Headers["Content-Type"] != tc.ct {
				t.Errorf("headers %v, want only Content-Type and Vary (joined)", out.Headers)
			}
			got := []byte(out.Body)
			if out.IsBase64Encoded {
				got, _ = base64.StdEncoding.DecodeString(out.Body)
			}
			if out.IsBase64Encoded != tc.wantB64 || !bytes.Equal(got, tc.body) {
				t.Errorf("base64 %v body %q, want base64 %v body %q", out.IsBase64Encoded, got, tc.wantB64, tc.body)
			}
		})
	}
}

func TestDispatchRefusesUnknownEvents(t *testing.T) {
	d := &door{}
	tests := []struct {
		name, payload, want, notWant string
	}{
		{"not json", "hello", "not a JSON object", ""},
		{"timer", `{"triggerTime":"2026-11-27T01:00:00Z","triggerName":"t","payload":"secret-payload"}`, `"triggerName"`, "secret-payload"},
		{"array", `[1,2]`, "not a JSON object", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := d.dispatch(context.Background(), json.RawMessage(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.notWant != "" && strings.Contains(err.Error(), tc.notWant)) {
				t.Errorf("dispatch(%s) = %v, want an error with %s (and never the payload's values)", tc.payload, err, tc.want)
			}
		})
	}
}

// TestBinaryIsStatic: FC runs the binary as it is; a dependency that links
// libc/libdl dynamically (purego does, without -tags nodynamic) must not
// slip in.
func TestBinaryIsStatic(t *testing.T) {
	f, err := elf.Open(binPath)
	if err != nil {
		t.Skipf("not an ELF binary on this OS: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("the binary asks for a dynamic loader; build with CGO_ENABLED=0 -tags nodynamic (make build)")
		}
	}
	libs, _ := f.ImportedLibraries()
	if len(libs) > 0 {
		t.Errorf("the binary imports %v", libs)
	}
}
