package handler

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"picbed/handler/cms/cmstest"
)

const jobSecret = "job-webhook-secret-0123456789"

// jobEnv is a test server with the Ghost connector pointed at a fake Ghost
// (on loopback, like a self-hosted blog), plus another loopback origin
// that the fetcher must keep refusing.
type jobEnv struct {
	*testServer
	ghost *cmstest.Ghost
	other *httptest.Server
	hits  atomic.Int64 // requests the other origin answered
	done  chan string
	logs  *syncBuffer
}

const ghostPost = "66aa00bb11cc22dd33ee44ff"

func newJobEnv(t *testing.T, viaInbox bool, extra ...Option) *jobEnv {
	t.Helper()
	e := &jobEnv{ghost: cmstest.NewGhost(), done: make(chan string, 16), logs: &syncBuffer{}}
	t.Cleanup(e.ghost.Close)
	png := fixture(t, "logo.png")
	e.other = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.hits.Add(1)
		w.Write(png)
	}))
	t.Cleanup(e.other.Close)
	img := e.ghost.AddImage("2026/11/a.png", png)
	lex := `{"root":{"type":"root","children":[{"type":"image","src":"` + img + `","width":64},` +
		`{"type":"html","html":"<p><img src=\"` + e.other.URL + `/x.png\"></p>"}]}}`
	e.ghost.AddPost(ghostPost, map[string]any{"lexical": lex, "feature_image": img})
	e.testServer = startTestServer(t, serverOpts{
		cfg: func(c *Config) {
			c.WebhookSecret, c.GhostURL, c.GhostAdminKey, c.JobsViaInbox = jobSecret, e.ghost.URL, e.ghost.AdminKey(), viaInbox
		},
		opts: append([]Option{fixedClock, WithLogger(slog.New(slog.NewJSONHandler(e.logs, nil))), WithJobDone(func(id string) { e.done <- id })}, extra...),
	})
	return e
}

// publish sends Ghost's webhook for the post as it is now.
func (e *jobEnv) publish(t *testing.T) (int, map[string]any) {
	t.Helper()
	return e.send1(t, `{"post":{"current":{"id":"`+ghostPost+`","updated_at":"`+e.ghost.Post(ghostPost)["updated_at"].(string)+`","html":"<p>x</p>"},"previous":{}}}`)
}

// send1 sends one Ghost webhook body, signed as Ghost signs it.
func (e *jobEnv) send1(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	req := e.newRequest(t, "POST", "/webhook", strings.NewReader(body), "application/json")
	req.Header.Del("Authorization")
	req.Header.Set("X-Ghost-Signature", ghostSig(jobSecret, body, time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC)))
	resp, b := e.send(t, req)
	var m map[string]any
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func (e *jobEnv) wait(t *testing.T) string {
	t.Helper()
	select {
	case id := <-e.done:
		return id
	case <-time.After(time.Minute): // a hang guard, not a timing assumption
		t.Fatal("the job never finished")
		return ""
	}
}

func (e *jobEnv) job(t *testing.T, id string) Job {
	t.Helper()
	resp, b := e.send(t, e.newRequest(t, "GET", "/api/jobs/"+id, nil, ""))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/jobs/%s: %d %s", id, resp.StatusCode, b)
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestWebhookJobWritesGhostBack(t *testing.T) {
	e := newJobEnv(t, false)
	first := `{"post":{"current":{"id":"` + ghostPost + `","updated_at":"` + e.ghost.Post(ghostPost)["updated_at"].(string) + `"},"previous":{}}}`
	st, m := e.send1(t, first)
	if st != http.StatusAccepted || m["duplicate"] != false || m["cms"] != "ghost" {
		t.Fatalf("webhook: %d %v", st, m)
	}
	id := m["job"].(string)
	if got := e.wait(t); got != id {
		t.Fatalf("job %s finished, want %s", got, id)
	}
	j := e.job(t, id)
	if j.Status != jobDone || !j.Written || j.Rehosted != 1 || j.Failed != 1 || e.ghost.Puts() != 1 {
		t.Fatalf("job %+v, puts %d; want done, written, 1 rehosted (the Ghost image, twice linked), 1 refused", j, e.ghost.Puts())
	}
	for _, im := range j.Images {
		if strings.HasPrefix(im.Source, e.other.URL) && (im.URL != "" || im.Code != "url_refused") {
			t.Errorf("the other loopback origin: %+v; want refused", im)
		}
	}
	post := e.ghost.Post(ghostPost)
	pub := e.h.cfg.PublicURL + "/"
	if fi, _ := post["feature_image"].(string); !strings.HasPrefix(fi, pub) {
		t.Errorf("feature_image %q not on picbed", fi)
	}
	lex := post["lexical"].(string)
	if strings.Contains(lex, e.ghost.URL) || !strings.Contains(lex, pub) || !strings.Contains(lex, e.other.URL+`/x.png`) {
		t.Errorf("lexical %s: the Ghost image must be rehosted, the refused one untouched", lex)
	}
	if e.hits.Load() != 0 {
		t.Errorf("the refused origin was requested %d times", e.hits.Load())
	}

	// A redelivery of the same event repeats nothing: it answers with the
	// same job, marked duplicate, and queues no run (a peek at e.done for a
	// second run could never fail: a finished job returns before signalling).
	st, m = e.send1(t, first)
	if st != http.StatusAccepted || m["duplicate"] != true || m["job"] != id {
		t.Errorf("redelivery: %d %v; want the same job, duplicate", st, m)
	}

	// Picbed's own write comes back as post.published.edited: nothing to do.
	st, m = e.publish(t)
	if st != http.StatusAccepted || m["job"] == id {
		t.Fatalf("own write's webhook: %d %v", st, m)
	}
	e.wait(t)
	j2 := e.job(t, m["job"].(string))
	if j2.Status != jobDone || j2.Written || j2.Rehosted != 0 || e.ghost.Puts() != 1 {
		t.Errorf("second job %+v, puts %d; want nothing written", j2, e.ghost.Puts())
	}

	// The record needs a token, and is not a public file.
	req := e.newRequest(t, "GET", "/api/jobs/"+id, nil, "")
	req.Header.Del("Authorization")
	if resp, _ := e.send(t, req); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/jobs without a token: %d", resp.StatusCode)
	}
	for _, p := range []string{"/api/jobs/nothex", "/api/jobs/000000000000000000000000"} {
		if resp, _ := e.send(t, e.newRequest(t, "GET", p, nil, "")); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := e.send(t, e.newRequest(t, "GET", "/f/"+jobRecords+id+".json", nil, "")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the job record is served under /f/: %d", resp.StatusCode)
	}
	if strings.Contains(e.logs.String(), e.ghost.Secret) || strings.Contains(e.logs.String(), jobSecret) {
		t.Error("a secret reached the log")
	}
	if !strings.Contains(e.logs.String(), `"msg":"job finished"`) {
		t.Error("no job log line")
	}
}

func TestWebhookJobViaInbox(t *testing.T) {
	e := newJobEnv(t, true)
	st, m := e.publish(t)
	if st != http.StatusAccepted {
		t.Fatalf("webhook: %d %v", st, m)
	}
	id := m["job"].(string)
	key := e.h.cfg.InboxPrefix + jobInbox + id + ".json"
	if _, err := e.store.Stat(context.Background(), key); err != nil {
		t.Fatalf("no job object %s in the inbox: %v", key, err)
	}
	if j := e.job(t, id); j.Status != jobQueued || e.ghost.Puts() != 0 {
		t.Fatalf("before the OSS event: %+v", j)
	}

	// The CMS is down: the event fails, so FC retries it; the object stays.
	e.ghost.FailWith(http.StatusServiceUnavailable)
	in := InboxObject{Event: "ObjectCreated:PutObject", Key: key}
	if _, err := e.h.ProcessObject(context.Background(), in); err == nil {
		t.Fatal("a transient failure must fail the invocation")
	}
	if j := e.job(t, id); j.Status != jobFailed || !j.Retry || !strings.Contains(j.Error, "503") {
		t.Errorf("after a 503: %+v", j)
	}
	e.ghost.FailWith(0)
	out, err := e.h.ProcessObject(context.Background(), in)
	if err != nil || out.Status != Processed {
		t.Fatalf("retry: %+v %v", out, err)
	}
	if j := e.job(t, id); j.Status != jobDone || !j.Written || j.Attempts != 2 || e.ghost.Puts() != 1 {
		t.Errorf("after the retry: %+v", j)
	}
	if _, err := e.store.Stat(context.Background(), key); err == nil {
		t.Error("the finished job object is still in the inbox")
	}
	// A late redelivery of the event finds the object gone and the job done.
	if out, err := e.h.ProcessObject(context.Background(), in); err != nil || e.ghost.Puts() != 1 {
		t.Errorf("redelivered event: %+v %v", out, err)
	}
}

func TestWebhookIgnoredAndUnclaimed(t *testing.T) {
	e := newJobEnv(t, false)
	// A payload no connector claims keeps the old answer: the mapping.
	body := `{"markdown": "no images"}`
	req := e.newRequest(t, "POST", "/webhook", strings.NewReader(body), "application/json")
	req.Header.Set("Authorization", "Bearer "+jobSecret)
	resp, b := e.send(t, req)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"images":[]`) {
		t.Errorf("unclaimed: %d %s", resp.StatusCode, b)
	}
	// A Ghost payload with a bad id is refused.
	body = `{"post":{"current":{"id":"../../settings"}}}`
	req = e.newRequest(t, "POST", "/webhook", strings.NewReader(body), "application/json")
	req.Header.Set("Authorization", "Bearer "+jobSecret)
	resp, b = e.send(t, req)
	if code, _ := errorBody(t, b); resp.StatusCode != 400 || code != "bad_payload" {
		t.Errorf("bad id: %d %s", resp.StatusCode, b)
	}
	if objs := objects(t, e.dir); len(objs) != 0 {
		t.Errorf("stored %v", objs)
	}
}

// TestStaleJobRunsAgain: a job left "running" by a runner that died (a
// local restart) is started again by a redelivery once it is past any
// run's budget; a fresh one is a duplicate.
func TestStaleJobRunsAgain(t *testing.T) {
	e := newJobEnv(t, true) // via the inbox: nothing runs until ProcessObject
	var now atomic.Int64    // the handler's clock, moved between requests
	now.Store(time.Date(2026, 11, 27, 1, 2, 3, 0, time.UTC).UnixNano())
	e.h.now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	body := `{"post":{"current":{"id":"` + ghostPost + `","updated_at":"x"}}}`
	_, m := e.send1(t, body)
	id := m["job"].(string)
	j := e.job(t, id)
	j.Status = jobRunning
	if err := e.h.writeJob(context.Background(), j); err != nil {
		t.Fatal(err)
	}
	if _, m := e.send1(t, body); m["duplicate"] != true {
		t.Errorf("a running job redelivered: %v; want duplicate", m)
	}
	// Another event for the same version (two saves in one second) is a
	// new job, not a duplicate.
	if _, m2 := e.send1(t, `{"post":{"current":{"id":"`+ghostPost+`","updated_at":"x","title":"saved again"}}}`); m2["duplicate"] != false || m2["job"] == id {
		t.Errorf("a second event of the same second: %v; want a new job", m2)
	}
	now.Add(int64(2*jobBudget + time.Second))
	if _, m := e.send1(t, body); m["duplicate"] != false || m["job"] != id {
		t.Errorf("a stale job redelivered: %v; want it queued again", m)
	}
}

// TestJobRewritesMobiledoc: a post from before Ghost 5 (mobiledoc, no
// lexical) goes through the same extractor: image cards and Markdown
// cards are rewritten, the document stays valid JSON.
func TestJobRewritesMobiledoc(t *testing.T) {
	e := newJobEnv(t, false)
	img := e.ghost.AddImage("2026/11/old.png", fixture(t, "logo.png"))
	mob := `{"version":"0.3.1","atoms":[],"markups":[],"cards":[["image",{"src":"` + img + `","caption":""}],` +
		`["markdown",{"markdown":"text ![old](` + img + `) more"}]],"sections":[[10,0],[10,1]]}`
	e.ghost.AddPost(ghostPost, map[string]any{"mobiledoc": mob})
	_, m := e.publish(t)
	e.wait(t)
	if j := e.job(t, m["job"].(string)); !j.Written || j.Rehosted != 1 {
		t.Fatalf("job %+v", j)
	}
	got, _ := e.ghost.Post(ghostPost)["mobiledoc"].(string)
	var doc struct {
		Cards [][]any `json:"cards"`
	}
	if err := json.Unmarshal([]byte(got), &doc); err != nil || len(doc.Cards) != 2 {
		t.Fatalf("mobiledoc %q: %v", got, err)
	}
	pub := e.h.cfg.PublicURL + "/"
	src, _ := doc.Cards[0][1].(map[string]any)["src"].(string)
	md, _ := doc.Cards[1][1].(map[string]any)["markdown"].(string)
	if !strings.HasPrefix(src, pub) || !strings.Contains(md, "![old]("+src+")") || strings.Contains(got, e.ghost.URL) {
		t.Errorf("mobiledoc not rewritten: %s", got)
	}
}

// TestLocalJobRetriesTransientFailures: locally (no OSS trigger to retry)
// a job whose CMS answered 5xx runs again after a wait, and its record
// says it will until the last attempt.
func TestLocalJobRetriesTransientFailures(t *testing.T) {
	waits := make(chan time.Duration)
	release := make(chan struct{})
	e := newJobEnv(t, false, func(h *Handler) {
		h.wait = func(d time.Duration) { waits <- d; <-release }
	})
	e.ghost.FailWith(http.StatusBadGateway)
	_, m := e.publish(t)
	id := m["job"].(string)
	e.wait(t)
	if d := <-waits; d != localRetries[0] {
		t.Errorf("first wait %v, want %v", d, localRetries[0])
	}
	if j := e.job(t, id); j.Status != jobFailed || !j.Retry || j.Attempts != 1 {
		t.Errorf("after a 502: %+v; want failed, retry", j)
	}
	e.ghost.FailWith(0)
	release <- struct{}{}
	e.wait(t)
	if j := e.job(t, id); j.Status != jobDone || !j.Written || j.Attempts != 2 || j.Retry {
		t.Errorf("after the retry: %+v", j)
	}

	// A CMS that stays down: every wait, then failed for good.
	e.ghost.FailWith(http.StatusServiceUnavailable)
	e.ghost.Edit(ghostPost, "title", "edited")
	_, m = e.publish(t)
	for range localRetries {
		e.wait(t)
		<-waits
		release <- struct{}{}
	}
	e.wait(t)
	if j := e.job(t, m["job"].(string)); j.Status != jobFailed || j.Retry || j.Attempts != len(localRetries)+1 {
		t.Errorf("down for good: %+v; want failed, no retry, %d attempts", j, len(localRetries)+1)
	}
}
