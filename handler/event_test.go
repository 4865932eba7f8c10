package handler_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"picbed/handler"
	"picbed/storage"
)

// newLocalHandler is a handler on a local store, for the paths of
// ProcessObject that need no OSS (the FC tests in function/ cover OSS).
func newLocalHandler(t *testing.T, extra func(*handler.Config)) (*handler.Handler, *storage.Local) {
	t.Helper()
	dir := t.TempDir()
	cfg := handler.DefaultConfig("http://127.0.0.1:9000/f")
	cfg.LocalFiles, cfg.OSSBucket = true, "picbed-test"
	if extra != nil {
		extra(&cfg)
	}
	st, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	return handler.New(cfg, st), st
}

func TestProcessObjectOutcomes(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h, st := newLocalHandler(t, nil)
	put := func(key string, data []byte, meta map[string]string) {
		t.Helper()
		if err := st.Put(ctx, key, data, storage.PutOptions{ContentType: "image/jpeg", Meta: meta}); err != nil {
			t.Fatal(err)
		}
	}
	put("inbox/photo.jpg", photo, nil)
	put("inbox/ours.jpg", photo, map[string]string{"picbed": "1"})
	put("inbox/text.jpg", []byte("just some text, no image"), nil)

	tests := []struct {
		name   string
		in     handler.InboxObject
		status string
		reason string
	}{
		{"processed", handler.InboxObject{Event: "ObjectCreated:PutObject", Bucket: "picbed-test", Key: "inbox/photo.jpg", Size: int64(len(photo))}, handler.Processed, ""},
		{"event name with oss: prefix", handler.InboxObject{Event: "oss:ObjectCreated:PostObject", Key: "inbox/photo.jpg", Size: -1}, handler.Processed, ""},
		{"loop guard", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/ours.jpg", Size: -1}, handler.Skipped, "picbed's own metadata"},
		{"outside the inbox", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "img/2026/11/x.jpg", Size: 1}, handler.Skipped, "outside the inbox"},
		{"removed", handler.InboxObject{Event: "ObjectRemoved:DeleteObject", Key: "inbox/photo.jpg"}, handler.Skipped, "not ObjectCreated"},
		{"folder marker", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/trip/", Size: 0}, handler.Skipped, "folder"},
		{"other bucket", handler.InboxObject{Event: "ObjectCreated:PutObject", Bucket: "someone-else", Key: "inbox/photo.jpg", Size: 1}, handler.Skipped, "PICBED_OSS_BUCKET"},
		{"gone", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/missing.jpg", Size: 1}, handler.Skipped, "no longer exists"},
		{"not an image", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/text.jpg", Size: 24}, handler.Failed, ""},
		{"too big by the event", handler.InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/photo.jpg", Size: 1 << 40}, handler.Failed, "PICBED_MAX_BYTES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := h.ProcessObject(ctx, tc.in)
			if err != nil {
				t.Fatalf("ProcessObject = %v, want no error (nothing transient here)", err)
			}
			if out.Status != tc.status || !strings.Contains(out.Reason, tc.reason) || out.Key != tc.in.Key {
				t.Errorf("outcome %+v, want status %s, reason with %q", out, tc.status, tc.reason)
			}
			if tc.status == handler.Processed && (!strings.HasPrefix(out.Target, "img/") || out.URL == "") {
				t.Errorf("processed without a public target and URL: %+v", out)
			}
			if tc.status == handler.Failed && out.Reason == "" {
				t.Errorf("failed without a reason")
			}
		})
	}
	obj, err := st.Stat(ctx, "inbox/photo.jpg")
	if err != nil {
		t.Errorf("the source was not kept with PICBED_INBOX_AFTER=keep: %v", err)
	} else if obj.Meta["picbed"] != "" {
		t.Errorf("the source was modified")
	}
}

func TestProcessFile(t *testing.T) {
	photo, err := os.ReadFile("../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	h, st := newLocalHandler(t, nil)
	ctx := context.Background()
	u, err := h.ProcessFile(ctx, "/home/me/blog/images/Holiday Photo.jpg", photo)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := st.Stat(ctx, u.Key)
	if err != nil || !strings.Contains(obj.Meta["picbed-origin"], "Holiday") {
		t.Errorf("stored %s: %v, meta %v; want the origin naming the file", u.Key, err, obj.Meta)
	}
	again, err := h.ProcessFile(ctx, "copy.jpg", photo)
	if err != nil || !again.Deduplicated || again.Key != u.Key {
		t.Errorf("the same bytes again = %+v, %v; want deduplicated to %s", again, err, u.Key)
	}
	_, err = h.ProcessFile(ctx, "notes.txt", []byte("not an image at all"))
	var he *handler.Error
	if !errors.As(err, &he) || he.Status != 415 {
		t.Errorf("a text file = %v, want a 415 handler.Error", err)
	}
}
