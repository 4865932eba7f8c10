package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"picbed/handler"
	"picbed/imageproc"
	"picbed/storage"
	"picbed/storage/osstest"
	"picbed/tools/localserver"
)

// The tests here build the real binary and run it the way FC does: with
// FC_RUNTIME_API pointing at a fake runtime API (fakeRuntime) and
// PICBED_OSS_ENDPOINT at the fake OSS (osstest), which verifies every
// signature made with the credentials the runtime API handed out.

var binPath string // the built binary, set by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "picbed-fc-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "main")
	build := exec.Command("go", "build", "-tags", "nodynamic", "-o", binPath, ".") // as make build
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the function binary: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	testBucket = "picbed-test"
	testToken  = "upload-token-for-tests-0123"
	publicURL  = "https://img.example.com"
)

var fcCred = osstest.Credential{ID: "STS.NUfcTestKeyId", Secret: "fc-sts-secret-0123456789", Token: "CAIS-fc-security-token-abcdef"}

// invocation is one event the fake runtime API hands out.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result
}

// result is what the function posted back.
type result struct {
	ok   bool // posted to /response (false: /error)
	body []byte
}

// fakeRuntime serves FC's runtime API (version 2020-11-11) as the SDK's
// runtime_api_client.go and invoke_loop.go use it.
type fakeRuntime struct {
	*httptest.Server
	queue   chan *invocation
	mu      sync.Mutex
	pending map[string]*invocation
	seq     int
}

func newFakeRuntime(t *testing.T) *fakeRuntime {
	rt := &fakeRuntime{queue: make(chan *invocation, 16), pending: map[string]*invocation{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2020-11-11/runtime/invocation/next", rt.next)
	mux.HandleFunc("POST /2020-11-11/runtime/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) { rt.finish(w, r, true) })
	mux.HandleFunc("POST /2020-11-11/runtime/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) { rt.finish(w, r, false) })
	rt.Server = httptest.NewServer(mux)
	t.Cleanup(rt.Close)
	return rt
}

func (rt *fakeRuntime) next(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-rt.queue:
	case <-r.Context().Done():
		return
	}
	rt.mu.Lock()
	rt.pending[inv.id] = inv
	rt.mu.Unlock()
	h := w.Header()
	h.Set("x-fc-request-id", inv.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", "120")
	h.Set("x-fc-access-key-id", fcCred.ID)
	h.Set("x-fc-access-key-secret", fcCred.Secret)
	h.Set("x-fc-security-token", fcCred.Token)
	h.Set("x-fc-region", "cn-hangzhou")
	h.Set("x-fc-account-id", "1234567890123456")
	h.Set("x-fc-function-name", "picbed")
	h.Set("x-fc-function-handler", "main")
	h.Set("x-fc-function-memory", "2048")
	h.Set("Content-Type", "application/json")
	w.Write(inv.payload)
}

func (rt *fakeRuntime) finish(w http.ResponseWriter, r *http.Request, ok bool) {
	body, _ := io.ReadAll(r.Body)
	rt.mu.Lock()
	inv := rt.pending[r.PathValue("id")]
	delete(rt.pending, r.PathValue("id"))
	rt.mu.Unlock()
	if inv == nil {
		http.Error(w, "unknown invocation", http.StatusNotFound)
		return
	}
	inv.done <- result{ok: ok, body: body}
}

// invoke hands payload to the function and waits for its answer.
func (rt *fakeRuntime) invoke(t *testing.T, payload []byte) result {
	t.Helper()
	return rt.invokeWithin(t, payload, 2*time.Minute)
}

// invokeWithin is invoke with FC's deadline that far away.
func (rt *fakeRuntime) invokeWithin(t *testing.T, payload []byte, d time.Duration) result {
	t.Helper()
	rt.mu.Lock()
	rt.seq++
	id := fmt.Sprintf("1-6746f1b3-%08x-fc-test", rt.seq)
	rt.mu.Unlock()
	inv := &invocation{id: id, payload: payload, deadline: time.Now().Add(d), done: make(chan result, 1)}
	rt.queue <- inv
	select {
	case res := <-inv.done:
		return res
	case <-time.After(90 * time.Second):
		t.Fatalf("invocation %s got no answer", id)
	}
	return result{}
}

// fcEnv is a running binary with its fake runtime and fake OSS.
type fcEnv struct {
	rt  *fakeRuntime
	oss *osstest.Server
	out *localserver.SyncBuffer
	// secrets a test handed the binary, on top of the credentials and the
	// token: its whole output (read once it has exited) must not hold them
	secrets []string
}

// baseEnv is the environment s.yaml would set, pointed at the fakes.
func baseEnv(rt *fakeRuntime, oss *osstest.Server) map[string]string {
	return map[string]string{
		"FC_RUNTIME_API":      strings.TrimPrefix(rt.URL, "http://"),
		"FC_REGION":           "cn-hangzhou",
		"PICBED_OSS_BUCKET":   testBucket,
		"PICBED_OSS_ENDPOINT": oss.Endpoint(),
		"PICBED_PUBLIC_URL":   publicURL,
		"PICBED_TOKENS":       testToken,
		"PICBED_MAX_WIDTH":    "800",
	}
}

// fcCommand is the binary with the environment FC would give it: baseEnv,
// overridden by extra ("" unsets).
func fcCommand(t *testing.T, rt *fakeRuntime, oss *osstest.Server, extra map[string]string) *exec.Cmd {
	env := baseEnv(rt, oss)
	maps.Copy(env, extra)
	cmd := exec.Command(binPath)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	return cmd
}

// startFC runs the binary as FC would; extra overrides baseEnv ("" unsets).
func startFC(t *testing.T, extra map[string]string) *fcEnv {
	t.Helper()
	e := &fcEnv{rt: newFakeRuntime(t), oss: osstest.New(fcCred, testBucket), out: &localserver.SyncBuffer{}}
	t.Cleanup(e.oss.Close)
	cmd := fcCommand(t, e.rt, e.oss, extra)
	cmd.Stdout, cmd.Stderr = e.out, e.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		out := e.out.String()
		for _, secret := range append([]string{fcCred.Secret, fcCred.Token, testToken}, e.secrets...) {
			if strings.Contains(out, secret) {
				t.Errorf("the function's output contains a credential, token or secret:\n%s", out)
			}
		}
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	return e
}

// httpEvent builds an HTTP-trigger event as FC sends it.
func httpEvent(method, rawPath string, query, headers map[string]string, body []byte, b64 bool) []byte {
	if query == nil {
		query = map[string]string{}
	}
	bs := string(body)
	if b64 {
		bs = base64.StdEncoding.EncodeToString(body)
	}
	ev := map[string]any{
		"version": "v1", "rawPath": rawPath, "body": bs, "isBase64Encoded": b64,
		"headers": headers, "queryParameters": query,
		"requestContext": map[string]any{
			"accountId": "1234567890123456", "domainName": "picbed-abc.cn-hangzhou.fcapp.run", "domainPrefix": "picbed-abc",
			"http":      map[string]any{"method": method, "path": rawPath, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "test"},
			"requestId": "1-6746f1b3-trigger", "time": "2026-11-27T01:02:03Z", "timeEpoch": "1795741323000",
		},
	}
	b, _ := json.Marshal(ev)
	return b
}

type httpResponse struct {
	StatusCode      int               `json:"statusCode"`
	Headers         map[string]string `json:"headers"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Body            string            `json:"body"`
}

func decodeHTTP(t *testing.T, res result) (httpResponse, []byte) {
	t.Helper()
	if !res.ok {
		t.Fatalf("HTTP invocation failed: %s", res.body)
	}
	var r httpResponse
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatalf("response %s: %v", res.body, err)
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	return r, body
}

func TestFCHTTPTrigger(t *testing.T) {
	e := startFC(t, nil)
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("healthz fixture", func(t *testing.T) {
		ev, err := os.ReadFile("../testdata/events/http-healthz.json")
		if err != nil {
			t.Fatal(err)
		}
		r, body := decodeHTTP(t, e.rt.invoke(t, ev))
		if r.StatusCode != 200 || r.IsBase64Encoded || !strings.Contains(string(body), `"status":"ok"`) {
			t.Errorf("healthz = %d base64=%v %s, want 200 plain JSON status ok", r.StatusCode, r.IsBase64Encoded, body)
		}
		checkHeaders(t, r)
	})

	t.Run("upload", func(t *testing.T) {
		ev := httpEvent("POST", "/upload", map[string]string{"name": "holiday.jpg"},
			map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "image/jpeg", "X-Fc-Request-Id": "spoofed"}, photo, true)
		r, body := decodeHTTP(t, e.rt.invoke(t, ev))
		if r.StatusCode != 200 {
			t.Fatalf("upload = %d %s, want 200", r.StatusCode, body)
		}
		checkHeaders(t, r)
		if id := r.Headers["X-Request-Id"]; !strings.HasPrefix(id, "1-6746f1b3-") {
			t.Errorf("X-Request-Id = %q, want the FC request id", id)
		}
		var up struct {
			URL, Key, Format string
			Width, Height    int
		}
		if err := json.Unmarshal(body, &up); err != nil {
			t.Fatalf("upload answer %s: %v", body, err)
		}
		if !strings.HasPrefix(up.Key, "img/") || up.URL != publicURL+"/"+up.Key {
			t.Errorf("answer key %q url %q, want img/... under %s", up.Key, up.URL, publicURL)
		}
		obj, ok := e.oss.Object(testBucket, up.Key)
		if !ok {
			t.Fatalf("%s is not in the bucket; keys %q", up.Key, e.oss.Keys(testBucket))
		}
		for _, c := range []struct{ name, got, want string }{
			{"Content-Type", obj.ContentType, "image/jpeg"},
			{"Cache-Control", obj.CacheControl, storage.CacheControl},
			{"meta picbed-origin", obj.Meta["picbed-origin"], "upload"},
			{"meta picbed-name", obj.Meta["picbed-name"], "holiday.jpg"},
		} {
			if c.got != c.want {
				t.Errorf("stored %s = %q, want %q", c.name, c.got, c.want)
			}
		}
		if hasGPS(obj.Data) {
			t.Errorf("the uploaded photo was stored with its GPS position")
		}
		if obj.ContentMD5 == "" || obj.Meta["picbed"] == "" {
			t.Errorf("stored object lacks Content-MD5 (%q) or picbed meta (%q)", obj.ContentMD5, obj.Meta["picbed"])
		}
		hdr, err := imageproc.ReadHeader(obj.Data)
		if err != nil || hdr.Width != up.Width || hdr.Height != up.Height {
			t.Errorf("stored image %dx%d (%v), answer said %dx%d", hdr.Width, hdr.Height, err, up.Width, up.Height)
		}
	})

	t.Run("unauthorized", func(t *testing.T) {
		ev := httpEvent("POST", "/upload", nil, map[string]string{"Content-Type": "image/jpeg"}, photo, true)
		r, body := decodeHTTP(t, e.rt.invoke(t, ev))
		if r.StatusCode != 401 || !strings.Contains(string(body), "unauthorized") {
			t.Errorf("upload without token = %d %s, want 401", r.StatusCode, body)
		}
	})

	t.Run("cors preflight", func(t *testing.T) {
		ev := httpEvent("OPTIONS", "/upload", nil, map[string]string{"Origin": "https://blog.example.com"}, nil, false)
		r, _ := decodeHTTP(t, e.rt.invoke(t, ev))
		if r.StatusCode != 204 || r.Headers["Access-Control-Allow-Origin"] == "" {
			t.Errorf("OPTIONS = %d %v, want 204 with CORS headers", r.StatusCode, r.Headers)
		}
	})

	t.Run("unknown event", func(t *testing.T) {
		ev, err := os.ReadFile("../testdata/events/mns-message.json")
		if err != nil {
			t.Fatal(err)
		}
		res := e.rt.invoke(t, ev)
		if res.ok || !strings.Contains(string(res.body), "acs:mns") || !strings.Contains(string(res.body), "HTTP trigger") {
			t.Errorf("MNS event answered ok=%v %s, want an error naming acs:mns and what picbed handles", res.ok, res.body)
		}
	})
}

// checkHeaders fails on any header FC refuses in a trigger response.
func checkHeaders(t *testing.T, r httpResponse) {
	t.Helper()
	for k := range r.Headers {
		lk := strings.ToLower(k)
		if forbiddenHeaders[lk] || strings.HasPrefix(lk, "x-fc-") {
			t.Errorf("response carries header %s, which FC forbids", k)
		}
	}
}

// ossEvent builds a one-record OSS event.
func ossEvent(name, key string, size int) []byte {
	ev := map[string]any{"events": []any{map[string]any{
		"eventName": name, "eventSource": "acs:oss", "eventTime": "2026-11-27T01:02:03.000Z", "eventVersion": "1.0",
		"oss": map[string]any{
			"bucket":           map[string]any{"arn": "acs:oss:cn-hangzhou:1234567890123456:" + testBucket, "name": testBucket, "ownerIdentity": "1234567890123456", "virtualBucket": ""},
			"object":           map[string]any{"deltaSize": size, "eTag": "7D73E1052AF595535DE90994F4C3E6D5", "key": key, "objectMeta": map[string]any{"mimeType": "image/jpeg"}, "size": size},
			"ossSchemaVersion": "1.0", "ruleId": "9adac8e253828f4f7c0466d941fa3db81161e853",
		},
		"region": "cn-hangzhou", "requestParameters": map[string]any{"sourceIPAddress": "106.11.1.1"},
		"responseElements": map[string]any{"requestId": "6746F1B3E5A7C2383736D1B2"}, "userIdentity": map[string]any{"principalId": "1234567890123456"},
	}}}
	b, _ := json.Marshal(ev)
	return b
}

type outcome struct {
	Key, Status, URL, Target, Reason string
	Deduplicated, Deleted            bool
}

func decodeOutcomes(t *testing.T, res result) []outcome {
	t.Helper()
	if !res.ok {
		t.Fatalf("OSS invocation failed: %s", res.body)
	}
	var r struct{ Outcomes []outcome }
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatalf("answer %s: %v", res.body, err)
	}
	return r.Outcomes
}

func TestFCOSSEvents(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	if !hasGPS(photo) {
		t.Fatal("testdata/phone.jpg should carry GPS for this test")
	}
	e := startFC(t, nil)
	seed := func(key string, data []byte) {
		e.oss.Seed(testBucket, key, osstest.Object{Data: data, ContentType: "image/jpeg"})
	}

	t.Run("encoded key fixture: processed without GPS and shrunk", func(t *testing.T) {
		const key = "inbox/2026 trip/海边+sunset+glow.jpg" // what the fixture's key decodes to
		seed(key, photo)
		ev, err := os.ReadFile("../testdata/events/oss-put-encoded-key.json")
		if err != nil {
			t.Fatal(err)
		}
		outs := decodeOutcomes(t, e.rt.invoke(t, ev))
		if len(outs) != 1 || outs[0].Status != "processed" || outs[0].Key != key {
			t.Fatalf("outcomes = %+v, want one processed for %q", outs, key)
		}
		o := outs[0]
		if !strings.HasPrefix(o.Target, "img/") || o.URL != publicURL+"/"+o.Target {
			t.Errorf("target %q url %q, want img/... linked under %s", o.Target, o.URL, publicURL)
		}
		obj, ok := e.oss.Object(testBucket, o.Target)
		if !ok {
			t.Fatalf("%s not written; keys %q", o.Target, e.oss.Keys(testBucket))
		}
		if hasGPS(obj.Data) {
			t.Errorf("the public image still carries GPS")
		}
		if hdr, err := imageproc.ReadHeader(obj.Data); err != nil || hdr.Width > 800 {
			t.Errorf("public image is %dx%d (%v), want width <= 800 (PICBED_MAX_WIDTH)", hdr.Width, hdr.Height, err)
		}
		if obj.Meta["picbed-origin"] == "" || !strings.Contains(obj.Meta["picbed-origin"], "inbox") {
			t.Errorf("meta picbed-origin = %q, want the source key", obj.Meta["picbed-origin"])
		}
		if _, ok := e.oss.Object(testBucket, key); !ok {
			t.Errorf("the source was deleted with PICBED_INBOX_AFTER=keep")
		}

		// At least once: the same event again writes nothing new.
		puts := e.oss.Count("PutObject", o.Target)
		again := decodeOutcomes(t, e.rt.invoke(t, ev))
		if len(again) != 1 || again[0].Status != "processed" || !again[0].Deduplicated || again[0].Target != o.Target {
			t.Errorf("repeated event = %+v, want processed, deduplicated, same target", again)
		}
		if got := e.oss.Count("PutObject", o.Target); got != puts || puts != 1 {
			t.Errorf("PutObject of the target: %d after the first event, %d after the second; want 1 and 1", puts, got)
		}
	})

	t.Run("batch: bad record does not stop the others", func(t *testing.T) {
		seed("inbox/notes.jpg", []byte("hello world"))
		seed("inbox/phone.jpg", photo)
		ev, err := os.ReadFile("../testdata/events/oss-batch.json")
		if err != nil {
			t.Fatal(err)
		}
		writes := len(e.oss.Keys(testBucket))
		outs := decodeOutcomes(t, e.rt.invoke(t, ev))
		want := []string{"failed", "processed", "skipped"}
		if len(outs) != 3 {
			t.Fatalf("outcomes = %+v, want 3", outs)
		}
		for i, o := range outs {
			if o.Status != want[i] {
				t.Errorf("record %d (%s) = %s (%s), want %s", i, o.Key, o.Status, o.Reason, want[i])
			}
		}
		if !strings.Contains(outs[0].Reason, "JPEG") && !strings.Contains(strings.ToLower(outs[0].Reason), "image") {
			t.Errorf("failure reason %q does not say the file is not an accepted image", outs[0].Reason)
		}
		if !strings.Contains(outs[2].Reason, "inbox") {
			t.Errorf("skip reason %q does not say the key is outside the inbox", outs[2].Reason)
		}
		if _, ok := e.oss.Object(testBucket, outs[1].Target); !ok {
			t.Errorf("the good record's result %q is not in the bucket", outs[1].Target)
		}
		if got := len(e.oss.Keys(testBucket)); got > writes+1 {
			t.Errorf("bucket grew from %d to %d keys; only one record was an image", writes, got)
		}
	})

	t.Run("corrupt file reported, not retried", func(t *testing.T) {
		seed("inbox/broken.jpg", photo[:64])
		res := e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "inbox/broken.jpg", 64))
		outs := decodeOutcomes(t, res) // ok: FC must not retry
		if len(outs) != 1 || outs[0].Status != "failed" || outs[0].Reason == "" {
			t.Errorf("corrupt file = %+v, want failed with a reason", outs)
		}
	})

	t.Run("public prefix skipped", func(t *testing.T) {
		seed("img/2026/11/manual.jpg", photo)
		before := len(e.oss.Requests())
		outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "img/2026/11/manual.jpg", len(photo))))
		if len(outs) != 1 || outs[0].Status != "skipped" {
			t.Errorf("event under img/ = %+v, want skipped", outs)
		}
		if n := len(e.oss.Requests()); n != before {
			t.Errorf("a skipped record made %d OSS requests, want none", n-before)
		}
	})

	t.Run("too large refused before download", func(t *testing.T) {
		seed("inbox/huge.jpg", photo)
		before := e.oss.Count("GetObject", "")
		outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "inbox/huge.jpg", 64<<20)))
		if len(outs) != 1 || outs[0].Status != "failed" || !strings.Contains(outs[0].Reason, "PICBED_MAX_BYTES") {
			t.Errorf("64 MiB event = %+v, want failed naming PICBED_MAX_BYTES", outs)
		}
		if e.oss.Count("GetObject", "") != before {
			t.Errorf("the over-size object was downloaded")
		}
	})

	t.Run("OSS 500 on write fails the invocation", func(t *testing.T) {
		other := append(bytes.Clone(photo), 0xff, 0xd9) // different bytes, different key
		seed("inbox/retry.jpg", other)
		e.oss.Inject(osstest.Fault{Op: "PutObject", Status: 500, Code: "InternalError", Count: 1})
		res := e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "inbox/retry.jpg", len(other)))
		if res.ok || !strings.Contains(string(res.body), "retry") {
			t.Fatalf("OSS 500 on write answered ok=%v %s, want an invocation error so FC retries", res.ok, res.body)
		}
		// FC's retry succeeds.
		outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "inbox/retry.jpg", len(other))))
		if len(outs) != 1 || outs[0].Status != "processed" || outs[0].Deduplicated {
			t.Errorf("retry = %+v, want processed (not deduplicated: the first write failed)", outs)
		}
	})

	t.Run("not ObjectCreated", func(t *testing.T) {
		outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectRemoved:DeleteObject", "inbox/phone.jpg", 0)))
		if len(outs) != 1 || outs[0].Status != "skipped" {
			t.Errorf("ObjectRemoved = %+v, want skipped", outs)
		}
	})
}

func TestFCInboxAfterDelete(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	e := startFC(t, map[string]string{"PICBED_INBOX_AFTER": "delete"})
	const src = "inbox/delete-me.jpg"
	e.oss.Seed(testBucket, src, osstest.Object{Data: photo, ContentType: "image/jpeg"})

	// The write succeeds but its read-back fails (the first HEAD under img/
	// is the dedupe check, the second the read-back): the source must stay,
	// and FC must retry.
	e.oss.Inject(osstest.Fault{Op: "HeadObject", KeyPrefix: "img/", Skip: 1, Status: 503, Code: "ServiceUnavailable"})
	res := e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", src, len(photo)))
	if res.ok {
		t.Fatalf("unverified write answered ok: %s", res.body)
	}
	if e.oss.Count("PutObject", "") != 1 {
		t.Fatalf("PutObject count = %d, want the result written once before the failed read-back", e.oss.Count("PutObject", ""))
	}
	if _, ok := e.oss.Object(testBucket, src); !ok {
		t.Fatalf("the source was deleted although the result could not be read back")
	}
	e.oss.ClearFaults()

	outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", src, len(photo))))
	if len(outs) != 1 || outs[0].Status != "processed" || !outs[0].Deleted {
		t.Fatalf("outcomes = %+v, want processed and deleted", outs)
	}
	if _, ok := e.oss.Object(testBucket, src); ok {
		t.Errorf("the source is still there")
	}
	if _, ok := e.oss.Object(testBucket, outs[0].Target); !ok {
		t.Errorf("the result %s is not there", outs[0].Target)
	}
	// Order: the result's write and its read-back come before the delete.
	var order []string
	for _, r := range e.oss.Requests() {
		if r.Status < 300 && (r.Key == outs[0].Target || r.Op == "DeleteObject") {
			order = append(order, r.Op)
		}
	}
	last := len(order) - 1
	if last < 2 || order[last] != "DeleteObject" || order[last-1] != "HeadObject" {
		t.Errorf("requests on the result and deletes = %v, want ... PutObject, HeadObject (read back), DeleteObject", order)
	}
	// A retried event after the delete finds nothing to do.
	again := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", src, len(photo))))
	if len(again) != 1 || again[0].Status != "skipped" {
		t.Errorf("event after the delete = %+v, want skipped", again)
	}
}

func TestFCRefusesLoopingConfig(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"inbox inside the public prefix", map[string]string{"PICBED_INBOX_PREFIX": "img/inbox/"}, "PICBED_INBOX_PREFIX"},
		{"template writes into the inbox", map[string]string{"PICBED_KEY_TEMPLATE": "inbox/{hash}.{ext}"}, "PICBED_INBOX_PREFIX"},
		{"root inbox", map[string]string{"PICBED_INBOX_PREFIX": "/"}, "PICBED_INBOX_PREFIX"},
		{"no token", map[string]string{"PICBED_TOKENS": ""}, "PICBED_TOKENS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			oss := osstest.New(fcCred, testBucket)
			defer oss.Close()
			cmd := fcCommand(t, newFakeRuntime(t), oss, tc.env)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
				cmd.Process.Kill()
				t.Fatalf("the binary kept running with a looping configuration")
			}
			if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), tc.want) {
				t.Errorf("exit %d (%v), output %q; want exit 2 naming %s", code, err, out, tc.want)
			}
		})
	}
}

// hasGPS reports whether a JPEG's EXIF IFD0 points at a GPS IFD (tag
// 0x8825).
func hasGPS(jpeg []byte) bool {
	i := 2
	for i+4 <= len(jpeg) && jpeg[i] == 0xFF {
		marker := jpeg[i+1]
		if marker == 0xDA || marker == 0xD9 {
			return false
		}
		n := int(binary.BigEndian.Uint16(jpeg[i+2:]))
		if i+2+n > len(jpeg) {
			return false
		}
		seg := jpeg[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			tiff := seg[6:]
			var bo binary.ByteOrder = binary.BigEndian
			if string(tiff[:2]) == "II" {
				bo = binary.LittleEndian
			}
			off := int(bo.Uint32(tiff[4:]))
			if off+2 > len(tiff) {
				return false
			}
			entries := int(bo.Uint16(tiff[off:]))
			for k := 0; k < entries; k++ {
				p := off + 2 + 12*k
				if p+2 > len(tiff) {
					break
				}
				if bo.Uint16(tiff[p:]) == 0x8825 {
					return true
				}
			}
		}
		i += 2 + n
	}
	return false
}

func TestProcessCLI(t *testing.T) {
	oss := osstest.New(fcCred, testBucket)
	defer oss.Close()
	dataDir := t.TempDir()
	tests := []struct {
		name string
		env  []string
	}{
		{"local", []string{"PICBED_DATA_DIR=" + dataDir}},
		{"oss with ALIBABA_CLOUD_* credentials", []string{"PICBED_STORAGE=oss", "PICBED_OSS_BUCKET=" + testBucket, "PICBED_OSS_ENDPOINT=" + oss.Endpoint(),
			"PICBED_OSS_REGION=cn-hangzhou", "PICBED_PUBLIC_URL=" + publicURL, "ALIBABA_CLOUD_ACCESS_KEY_ID=" + fcCred.ID,
			"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + fcCred.Secret, "ALIBABA_CLOUD_SECURITY_TOKEN=" + fcCred.Token}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binPath, "process", "../testdata/phone.jpg", "../testdata/README.md", "../testdata/logo.png")
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PICBED_MAX_WIDTH=640"}, tc.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(stderr.String(), "README.md") || !strings.Contains(stderr.String(), "1 of 3 files failed") {
				t.Errorf("exit %v, stderr %q; want exit 1 naming the one bad file", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("stdout %q, want two link lines", stdout.String())
			}
			for _, l := range lines {
				f := strings.Split(l, "\t")
				if len(f) != 3 || !strings.Contains(f[1], "/img/") || !strings.HasPrefix(f[2], "![") {
					t.Errorf("line %q, want file, URL under img/, Markdown", l)
				}
			}
			if strings.Contains(tc.name, "oss") {
				if n := len(oss.Keys(testBucket)); n != 2 {
					t.Errorf("bucket holds %d objects, want 2: %q", n, oss.Keys(testBucket))
				}
				if strings.Contains(stdout.String()+stderr.String(), fcCred.Secret) {
					t.Errorf("output leaks the secret")
				}
			}
		})
	}
}

// TestFCHonoursTheDeadline: with FC's deadline 4 s away and the OSS write
// stalled until its client gives up, picbed gives up first and answers
// (503, or a failed event FC retries). Nothing here measures time: the
// fake OSS holds the write until picbed cancels it, so the answer exists
// only because a deadline fired; TestDoorEndsWorkAtFCDeadline shows that
// it is FC's.
func TestFCHonoursTheDeadline(t *testing.T) {
	photo, err := os.ReadFile("../testdata/logo.png") // small: the time goes to the stalled OSS, not to decoding
	if err != nil {
		t.Fatal(err)
	}
	e := startFC(t, nil)
	// The binary is up and taking invocations before the 4 s start: its
	// start on a loaded machine is not part of the window.
	healthz, err := os.ReadFile("../testdata/events/http-healthz.json")
	if err != nil {
		t.Fatal(err)
	}
	e.rt.invoke(t, healthz)
	e.oss.Inject(osstest.Fault{Op: "PutObject", Delay: time.Hour})

	t.Run("HTTP upload answers 503 at FC's deadline", func(t *testing.T) {
		ev := httpEvent("POST", "/upload", nil, map[string]string{"Authorization": "Bearer " + testToken, "Content-Type": "image/png"}, photo, true)
		r, body := decodeHTTP(t, e.rt.invokeWithin(t, ev, 4*time.Second))
		if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "again") {
			t.Errorf("upload past the deadline = %d %s, want 503 asking to try again", r.StatusCode, body)
		}
	})

	t.Run("OSS event fails so FC retries", func(t *testing.T) {
		e.oss.Seed(testBucket, "inbox/slow.png", osstest.Object{Data: photo, ContentType: "image/png"})
		res := e.rt.invokeWithin(t, ossEvent("ObjectCreated:PutObject", "inbox/slow.png", len(photo)), 4*time.Second)
		if res.ok {
			t.Errorf("an event cut by the deadline answered ok: %s", res.body)
		}
	})
}

// blockingApp stands in for the handler behind the door: every call blocks
// until its context ends and reports the deadline it was given. A context
// that never ends is reported after a minute, as a failure; no assertion
// depends on how long anything took.
type blockingApp struct {
	ended chan appEnd
}

type appEnd struct {
	deadline time.Time
	err      error
}

func (a blockingApp) wait(ctx context.Context) error {
	dl, _ := ctx.Deadline()
	select {
	case <-ctx.Done():
		a.ended <- appEnd{dl, ctx.Err()}
		return ctx.Err()
	case <-time.After(time.Minute):
		a.ended <- appEnd{dl, errors.New("the context never ended")}
		return nil
	}
}

func (a blockingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.wait(r.Context())
	w.WriteHeader(http.StatusServiceUnavailable)
}

func (a blockingApp) ProcessObject(ctx context.Context, in handler.InboxObject) (handler.Outcome, error) {
	err := a.wait(ctx)
	return handler.Outcome{Key: in.Key, Status: handler.Failed}, err
}

// TestDoorEndsWorkAtFCDeadline: the context the door hands the handler,
// for an HTTP event and an OSS event, ends before FC's deadline (which the
// SDK puts in the invocation's context from x-fc-function-deadline), so
// work stops and answers while FC still listens.
func TestDoorEndsWorkAtFCDeadline(t *testing.T) {
	for name, payload := range map[string][]byte{
		"http": httpEvent("POST", "/upload", nil, map[string]string{"Content-Type": "image/png"}, []byte("x"), false),
		"oss":  ossEvent("ObjectCreated:PutObject", "inbox/a.png", 1),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // each waits for its deadline: together, not one after the other
			app := blockingApp{ended: make(chan appEnd, 1)}
			d := &door{h: app}
			// Far enough that dispatch starts before it even on a loaded
			// machine: only a dispatch after FC's deadline could fail this.
			fcDeadline := time.Now().Add(3 * time.Second)
			ctx, cancel := context.WithDeadline(context.Background(), fcDeadline)
			defer cancel()
			d.dispatch(ctx, payload)
			got := <-app.ended
			if !errors.Is(got.err, context.DeadlineExceeded) {
				t.Fatalf("the handler's context: %v, want it to end with its deadline", got.err)
			}
			if !got.deadline.Before(fcDeadline) {
				t.Errorf("the handler's deadline %v is not before FC's %v", got.deadline, fcDeadline)
			}
		})
	}
}
