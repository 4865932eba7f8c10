package main

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"picbed/storage/osstest"
)

// ossBatch is one OSS event with a record per key (each URL-encoded as OSS
// sends it).
func ossBatch(keys []string, size int) []byte {
	var recs []any
	for _, k := range keys {
		var one map[string][]any
		json.Unmarshal(ossEvent("ObjectCreated:PutObject", url.PathEscape(k), size), &one)
		recs = append(recs, one["events"][0])
	}
	b, _ := json.Marshal(map[string]any{"events": recs})
	return b
}

// TestFCInboxNamesPicbedWouldNotWrite: objects under names a phone, Finder
// or a sync tool leaves in the inbox are read by the exact name OSS gave;
// what is not an image, or a name OSS itself would refuse, is a permanent,
// logged outcome, never an invocation error that FC retries forever, and
// one such record never fails its batch.
func TestFCInboxNamesPicbedWouldNotWrite(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	e := startFC(t, nil)
	images := []string{"inbox/a//b.jpg", `inbox/dir\photo.jpg`, "inbox/\u200fRTL.jpg", "inbox/invoice\u202egpj.jpg"}
	notImages := []string{"inbox/.DS_Store", "inbox/._IMG_1.jpg"}
	for i, k := range images {
		e.oss.Seed(testBucket, k, osstest.Object{Data: append(bytes.Clone(photo), byte(i)), ContentType: "image/jpeg"})
	}
	for _, k := range notImages {
		e.oss.Seed(testBucket, k, osstest.Object{Data: []byte("\x00\x05\x16\x07 AppleDouble or Finder bytes"), ContentType: "application/octet-stream"})
	}
	refusedByOSS := []string{"inbox/\xff.jpg", "inbox/" + strings.Repeat("k", 1100)}
	keys := append(append(append([]string{}, images...), notImages...), refusedByOSS...)

	res := e.rt.invoke(t, ossBatch(keys, len(photo)))
	if !res.ok {
		t.Fatalf("the batch failed as a whole (FC would retry it forever): %s", res.body)
	}
	outs := decodeOutcomes(t, res)
	if len(outs) != len(keys) {
		t.Fatalf("%d outcomes for %d records: %+v", len(outs), len(keys), outs)
	}
	for i, o := range outs {
		want := "failed"
		if i < len(images) {
			want = "processed"
		}
		if o.Status != want || (want == "failed" && o.Reason == "") {
			t.Errorf("record %q = %s (%s), want %s with a reason", keys[i], o.Status, o.Reason, want)
		}
		if want == "processed" {
			if _, ok := e.oss.Object(testBucket, o.Target); !ok || !strings.HasPrefix(o.Target, "img/") {
				t.Errorf("record %q: result %q not written under img/", keys[i], o.Target)
			}
		}
	}
	if n := e.oss.Count("GetObject", "inbox/\xff.jpg"); n != 0 {
		t.Errorf("a name OSS refuses was requested %d times", n)
	}
}

// TestFCEventLogsCarryTheRequestID: every log line of an OSS invocation
// names FC's request id, so one invocation's lines can be found.
func TestFCEventLogsCarryTheRequestID(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	e := startFC(t, nil)
	e.oss.Seed(testBucket, "inbox/id.jpg", osstest.Object{Data: photo, ContentType: "image/jpeg"})
	decodeOutcomes(t, e.rt.invoke(t, ossEvent("ObjectCreated:PutObject", "inbox/id.jpg", len(photo))))
	// The line is written before the answer, but reaches the output buffer
	// through a pipe: wait for it.
	var line map[string]any
	for _, l := range strings.Split(waitOutput(t, e.out.String, `"inbox object"`), "\n") {
		if strings.Contains(l, `"inbox object"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line == nil {
		t.Fatalf("the inbox object log line is not JSON:\n%s", e.out.String())
	}
	if id, _ := line["request_id"].(string); !strings.HasSuffix(id, "-fc-test") {
		t.Errorf("request_id = %q, want FC's request id (…-fc-test)", id)
	}
}
