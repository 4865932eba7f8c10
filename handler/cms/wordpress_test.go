package cms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWP checks what WordPress's REST API checks: Basic auth with the
// user's Application Password (401 otherwise), content.raw only with
// context=edit, and no locking at all: a POST overwrites whatever is there
// (that is why picbed re-reads modified_gmt before writing).
type fakeWP struct {
	mu       sync.Mutex
	raw      string
	modified int
	writes   []string
	afterGet func(f *fakeWP) // a person saving right after one of picbed's reads
	gets     int
}

func (f *fakeWP) edit(raw string) { f.raw = raw; f.modified++ }

func (f *fakeWP) modifiedGMT() string {
	return time.Date(2026, 1, 1, 0, 0, f.modified, 0, time.UTC).Format("2006-01-02T15:04:05")
}

func (f *fakeWP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, p, ok := r.BasicAuth()
	if !ok || u != "editor" || p != "abcd EFGH ijkl MNOP qrst UVWX" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"incorrect_password","message":"The provided password is an invalid application password.","data":{"status":401}}`)
		return
	}
	if r.URL.Path != "/wp-json/wp/v2/posts/7" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":"rest_post_invalid_id","message":"Invalid post ID.","data":{"status":404}}`)
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.gets++
		content := map[string]any{"rendered": f.raw}
		if r.URL.Query().Get("context") == "edit" {
			content["raw"] = f.raw
		}
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "modified_gmt": f.modifiedGMT(), "content": content})
		if fn := f.afterGet; fn != nil {
			f.afterGet = nil
			fn(f)
		}
	case http.MethodPost:
		var body map[string]string
		json.NewDecoder(r.Body).Decode(&body)
		f.writes = append(f.writes, body["content"])
		f.edit(body["content"])
		json.NewEncoder(w).Encode(map[string]any{"id": 7, "modified_gmt": f.modifiedGMT()})
	}
}

func newFakeWP(t *testing.T, raw string) (*fakeWP, *WordPress) {
	f := &fakeWP{raw: raw}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	w, err := NewWordPress(srv.URL, "editor", "abcd EFGH ijkl MNOP qrst UVWX")
	if err != nil {
		t.Fatal(err)
	}
	return f, w
}

var wpTarget = Target{CMS: "wordpress", Kind: "posts", ID: "7"}

const wpPostRaw = "<!-- wp:image {\"id\":5} -->\n<figure class=\"wp-block-image\"><img src=\"http://origin.test/wp-content/uploads/a.jpg\" class=\"wp-image-5\"/></figure>\n<!-- /wp:image -->\n<p>see <img src=\"http://127.0.0.1:9/x.png\"></p>"

func TestWordPressWritesOnlyWhenChanged(t *testing.T) {
	f, w := newFakeWP(t, wpPostRaw)
	rw := &fakeRewriter{}
	rep, err := w.Run(context.Background(), wpTarget, rw)
	if err != nil || !rep.Written || len(f.writes) != 1 {
		t.Fatalf("%+v %v writes %d", rep, err, len(f.writes))
	}
	if !strings.Contains(f.raw, "https://img.test/wp-content/uploads/a.jpg") || !strings.Contains(f.raw, "http://127.0.0.1:9/x.png") {
		t.Errorf("raw %q", f.raw)
	}
	rep, err = w.Run(context.Background(), wpTarget, rw)
	if err != nil || rep.Written || len(f.writes) != 1 {
		t.Fatalf("own write's webhook: %+v %v writes %d; want no write", rep, err, len(f.writes))
	}
}

func TestWordPressEditInBetweenIsNotOverwritten(t *testing.T) {
	f, w := newFakeWP(t, wpPostRaw)
	f.afterGet = func(f *fakeWP) { f.edit(f.raw + "<p>typed meanwhile</p>") }
	rep, err := w.Run(context.Background(), wpTarget, &fakeRewriter{})
	if err != nil || !rep.Written || rep.Conflicts != 1 {
		t.Fatalf("%+v %v; want one conflict then a write", rep, err)
	}
	if !strings.Contains(f.raw, "typed meanwhile") || !strings.Contains(f.raw, "https://img.test/") {
		t.Errorf("raw %q: the edit and the rewrite must both be there", f.raw)
	}
}

func TestWordPressConflictBounded(t *testing.T) {
	f, w := newFakeWP(t, wpPostRaw)
	var keepTyping func(f *fakeWP)
	keepTyping = func(f *fakeWP) { f.edit(f.raw + "."); f.afterGet = keepTyping }
	f.afterGet = keepTyping
	rep, err := w.Run(context.Background(), wpTarget, &fakeRewriter{})
	var e *Error
	if !errors.As(err, &e) || e.Code != "cms_conflict" || !IsTransient(err) || rep.Conflicts != maxAttempts || len(f.writes) != 0 {
		t.Fatalf("got %+v, %v; want %d conflicts, a transient cms_conflict and no write", rep, err, maxAttempts)
	}
}

func TestWordPressRefusals(t *testing.T) {
	f, _ := newFakeWP(t, wpPostRaw)
	srv := httptest.NewServer(f)
	defer srv.Close()
	w, _ := NewWordPress(srv.URL, "editor", "wrong password here")
	_, err := w.Run(context.Background(), wpTarget, &fakeRewriter{})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "wrong password") {
		t.Errorf("wrong password: %v", err)
	}
	if _, err := w.Run(context.Background(), Target{CMS: "wordpress", Kind: "posts", ID: "../users"}, &fakeRewriter{}); err == nil {
		t.Error("a path in the id was accepted")
	}
}

func TestWordPressTarget(t *testing.T) {
	w, _ := NewWordPress("http://wp.test", "u", "p")
	for _, tc := range []struct {
		body string
		id   string
		kind string
		bad  bool
		mine bool
	}{
		{`{"post_id": 12, "post": {"post_type": "page"}}`, "12", "pages", false, true},
		{`{"post": {"ID": "13", "post_modified_gmt": "x"}}`, "13", "posts", false, true},
		{`{"event": "post.published", "post": {"id": 14, "modified_gmt": "y"}}`, "14", "posts", false, true},
		{`{"post": {"id": "14/../../users"}}`, "", "", true, true},
		{`{"post": {"current": {"id": "66aa00bb11cc22dd33ee44ff"}}}`, "", "", false, false},
		{`{"ref": "refs/heads/main"}`, "", "", false, false},
	} {
		var p any
		json.Unmarshal([]byte(tc.body), &p)
		got, mine, err := w.Target(nil, p)
		if mine != tc.mine || (err != nil) != tc.bad || got.ID != tc.id || got.Kind != tc.kind {
			t.Errorf("%s: got %+v %v %v", tc.body, got, mine, err)
		}
	}
}
