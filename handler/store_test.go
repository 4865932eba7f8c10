package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"picbed/storage"
)

// downStore fails every call the way OSS does when it answers 503, once
// down is set.
type downStore struct {
	Store
	down atomic.Bool
}

var oss503 = &storage.Error{Status: http.StatusServiceUnavailable, Message: "OSS failed the request (503 ServiceUnavailable); try again in a few seconds"}

func (d *downStore) Put(ctx context.Context, key string, data []byte, o storage.PutOptions) error {
	if d.down.Load() {
		return oss503
	}
	return d.Store.Put(ctx, key, data, o)
}

func (d *downStore) Stat(ctx context.Context, key string) (storage.Object, error) {
	if d.down.Load() {
		return storage.Object{}, oss503
	}
	return d.Store.Stat(ctx, key)
}

func (d *downStore) Get(ctx context.Context, key string) ([]byte, storage.Object, error) {
	if d.down.Load() {
		return nil, storage.Object{}, oss503
	}
	return d.Store.Get(ctx, key)
}

func (d *downStore) List(ctx context.Context, q storage.ListQuery) (storage.Listing, error) {
	if d.down.Load() {
		return storage.Listing{}, oss503
	}
	return d.Store.List(ctx, q)
}

func (d *downStore) Delete(ctx context.Context, key string) error {
	if d.down.Load() {
		return oss503
	}
	return d.Store.Delete(ctx, key)
}

// TestOneWayToTheStore: the same OSS 503 is the same answer everywhere the
// store is reached (503 storage_unavailable with Retry-After), whichever
// route or event reached it, because every call passes the one wrapper.
func TestOneWayToTheStore(t *testing.T) {
	var logs syncBuffer
	var ds *downStore
	s := newTestServer(t, serverOpts{
		wrap: func(l *storage.Local) Store { ds = &downStore{Store: l}; return ds },
		opts: []Option{WithLogger(slog.New(slog.NewJSONHandler(&logs, nil)))},
	})
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(fixture(t, "logo.png")), "image/png"))
	if resp.StatusCode != 200 {
		t.Fatalf("upload before the outage = %d %s", resp.StatusCode, body)
	}
	key := decodeUploaded(t, body).Key
	ds.down.Store(true)

	sig := deleteSig(s.h.deleteKey, key)
	routes := []struct{ method, path string }{
		{"POST", "/upload"},
		{"GET", "/api/images"},
		{"DELETE", "/api/images/" + key},
		{"GET", "/f/" + key},
		{"GET", "/api/v1/images"},
		{"DELETE", "/api/v1/images/" + key},
		{"GET", deleteLinkPrefix + key + "?sig=" + sig},
		{"DELETE", deleteLinkPrefix + key + "?sig=" + sig},
	}
	for _, rt := range routes {
		t.Run(rt.method+" "+routeName(strings.SplitN(rt.path, "?", 2)[0]), func(t *testing.T) {
			var b *bytes.Reader
			ct := ""
			if rt.path == "/upload" {
				b, ct = bytes.NewReader(fixture(t, "phone.jpg")), "image/jpeg"
			} else {
				b = bytes.NewReader(nil)
			}
			mark := len(logs.String())
			resp, body := s.send(t, s.newRequest(t, rt.method, rt.path, b, ct))
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" {
				t.Errorf("status %d Retry-After %q, want 503 with Retry-After 5: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			if code := loggedCode(t, logs.String()[mark:]); code != "storage_unavailable" {
				t.Errorf("answered as %q, want storage_unavailable: %s", code, body)
			}
		})
	}
	t.Run("OSS event", func(t *testing.T) {
		out, err := s.h.ProcessObject(context.Background(), InboxObject{Event: "ObjectCreated:PutObject", Key: "inbox/a.jpg", Size: 100})
		if err == nil || out.Status != Failed {
			t.Fatalf("outcome %+v err %v, want a transient failure", out, err)
		}
		if e := classify(err); e.Status != 503 || e.Code != "storage_unavailable" {
			t.Errorf("event failure classified as %d %q, want 503 storage_unavailable", e.Status, e.Code)
		}
	})
}

// loggedCode is the code of the "request failed" line in logs.
func loggedCode(t *testing.T, logs string) string {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request failed" {
			c, _ := m["code"].(string)
			return c
		}
	}
	t.Fatalf("no request failed line in:\n%s", logs)
	return ""
}
