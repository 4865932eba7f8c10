package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"picbed/handler/cms/cmstest"
)

// TestFCWebhookJobViaInbox drives a Ghost webhook through the real binary
// as Function Compute runs it: the HTTP invocation only records the job
// and drops it under the inbox (the instance may be frozen once it
// answers); the OSS event for that object runs it, writes the post back
// through the (fake) Ghost on its loopback address, and clears the object.
func TestFCWebhookJobViaInbox(t *testing.T) {
	const secret = "fc-webhook-secret-0123456789"
	ghost := cmstest.NewGhost()
	defer ghost.Close()
	logo, err := os.ReadFile("../testdata/logo.png")
	if err != nil {
		t.Fatal(err)
	}
	img := ghost.AddImage("2026/11/a.png", logo)
	const id = "66aa00bb11cc22dd33ee44ff"
	ghost.AddPost(id, map[string]any{"lexical": `{"root":{"type":"root","children":[{"type":"image","src":"` + img + `"}]}}`})
	e := startFC(t, map[string]string{"PICBED_WEBHOOK_SECRET": secret, "PICBED_GHOST_URL": ghost.URL, "PICBED_GHOST_ADMIN_KEY": ghost.AdminKey()})
	// Checked in startFC's clean-up, on the output once the binary exited.
	e.secrets = append(e.secrets, ghost.Secret, secret)

	body := `{"post":{"current":{"id":"` + id + `","updated_at":"` + ghost.Post(id)["updated_at"].(string) + `"},"previous":{}}}`
	ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body + ts))
	sig := "sha256=" + hex.EncodeToString(m.Sum(nil)) + ", t=" + ts
	r, ans := decodeHTTP(t, e.rt.invoke(t, httpEvent("POST", "/webhook", nil,
		map[string]string{"Content-Type": "application/json", "X-Ghost-Signature": sig}, []byte(body), false)))
	var queued struct{ Job, Status string }
	json.Unmarshal(ans, &queued)
	if r.StatusCode != 202 || queued.Status != "queued" {
		t.Fatalf("webhook = %d %s, want 202 queued", r.StatusCode, ans)
	}
	key := "inbox/picbed-jobs/" + queued.Job + ".json"
	obj, ok := e.oss.Object(testBucket, key)
	if !ok || ghost.Puts() != 0 {
		t.Fatalf("after the HTTP invocation: job object %v, Ghost writes %d; want the object and no write yet", ok, ghost.Puts())
	}

	outs := decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", key, len(obj.Data))))
	if len(outs) != 1 || outs[0].Status != "processed" || ghost.Puts() != 1 {
		t.Fatalf("OSS event: %+v, Ghost writes %d", outs, ghost.Puts())
	}
	if lex := ghost.Post(id)["lexical"].(string); !strings.Contains(lex, publicURL+"/") || strings.Contains(lex, ghost.URL) {
		t.Errorf("lexical not rewritten: %s", lex)
	}
	if _, ok := e.oss.Object(testBucket, key); ok {
		t.Error("the finished job object is still in the inbox")
	}
	r, ans = decodeHTTP(t, e.rt.invoke(t, httpEvent("GET", "/api/jobs/"+queued.Job, nil, map[string]string{"Authorization": "Bearer " + testToken}, nil, false)))
	var job struct {
		Status   string
		Written  bool
		Rehosted int
	}
	json.Unmarshal(ans, &job)
	if r.StatusCode != 200 || job.Status != "done" || !job.Written || job.Rehosted != 1 {
		t.Errorf("GET /api/jobs = %d %s", r.StatusCode, ans)
	}
}
