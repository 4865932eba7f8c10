package cms

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	ghostKeyID  = "6650a1b2c3d4e5f6a7b8c9d0"
	ghostSecret = "5f0c3d1e2a4b6c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"
	ghostPostID = "66aa00bb11cc22dd33ee44ff"
)

// fakeGhost checks what Ghost 5's Admin API checks: a JWT signed HS256
// with the hex-decoded secret of a known key id, aud /admin/, not expired
// and at most 5 minutes long; Accept-Version; and updated_at on PUT (a
// stale one is 409 UPDATE_COLLISION). updated_at has second resolution,
// like Ghost's.
type fakeGhost struct {
	mu        sync.Mutex
	post      map[string]any
	version   int
	puts      []map[string]any
	beforePut func(f *fakeGhost) // a person saving between picbed's read and write
	status    int                // answer every request with this when set
}

func (f *fakeGhost) edit(field, value string) {
	f.version++
	f.post[field] = value
	f.post["updated_at"] = time.Date(2026, 1, 1, 0, 0, f.version, 0, time.UTC).Format("2006-01-02T15:04:05.000Z")
}

func (f *fakeGhost) checkJWT(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Ghost ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return "no Ghost token"
	}
	var hdr, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return "bad token encoding"
	}
	if hdr["alg"] != "HS256" || hdr["kid"] != ghostKeyID {
		return "unknown key"
	}
	key, _ := hex.DecodeString(ghostSecret)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !hmac.Equal(sig, m.Sum(nil)) {
		return "invalid signature"
	}
	iat, exp := claims["iat"].(float64), claims["exp"].(float64)
	if claims["aud"] != "/admin/" || exp-iat > 300 || exp < float64(time.Now().Unix()) {
		return "bad claims"
	}
	if r.Header.Get("Accept-Version") == "" {
		return "no Accept-Version"
	}
	return ""
}

func (f *fakeGhost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if why := f.checkJWT(r); why != "" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"errors":[{"type":"UnauthorizedError","message":%q}]}`, why)
		return
	}
	if f.status != 0 {
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"errors":[{"type":"NoPermissionError","message":"You do not have permission to edit posts"}]}`)
		return
	}
	if r.URL.Path != "/blog/ghost/api/admin/posts/"+ghostPostID+"/" {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[{"type":"NotFoundError","message":"Post not found."}]}`)
		return
	}
	switch r.Method {
	case http.MethodGet:
		json.NewEncoder(w).Encode(map[string]any{"posts": []any{f.post}})
	case http.MethodPut:
		if fn := f.beforePut; fn != nil {
			f.beforePut = nil
			fn(f)
		}
		var body struct {
			Posts []map[string]any `json:"posts"`
		}
		if json.NewDecoder(r.Body).Decode(&body) != nil || len(body.Posts) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		upd := body.Posts[0]
		if upd["updated_at"] != f.post["updated_at"] {
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"errors":[{"message":"Saving failed! Someone else is editing this post.","code":"UPDATE_COLLISION","type":"UpdateCollisionError"}]}`)
			return
		}
		f.puts = append(f.puts, upd)
		for k, v := range upd {
			if k != "updated_at" {
				f.edit(k, v.(string))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"posts": []any{f.post}})
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func newFakeGhost(t *testing.T) (*fakeGhost, *Ghost) {
	t.Helper()
	lex := `{"root":{"children":[{"type":"image","src":"http://origin.test/a.jpg","width":10},` +
		`{"type":"paragraph","children":[{"type":"text","text":"hello"}]}],"type":"root"}}`
	f := &fakeGhost{post: map[string]any{"id": ghostPostID, "lexical": lex, "mobiledoc": nil,
		"feature_image": "http://origin.test/cover.png", "og_image": nil, "twitter_image": "https://img.test/already.png"}}
	f.edit("title", "hello")
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	g, err := NewGhost(srv.URL+"/blog/", ghostKeyID+":"+ghostSecret)
	if err != nil {
		t.Fatal(err)
	}
	return f, g
}

func ghostTarget() Target { return Target{CMS: "ghost", Kind: "posts", ID: ghostPostID} }

func TestGhostRewritesAndWritesBackOnce(t *testing.T) {
	f, g := newFakeGhost(t)
	rw := &fakeRewriter{}
	rep, err := g.Run(context.Background(), ghostTarget(), rw)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Written || len(rep.Images) != 2 || len(f.puts) != 1 {
		t.Fatalf("report %+v, puts %d; want written, 2 images, 1 PUT", rep, len(f.puts))
	}
	put := f.puts[0]
	if _, ok := put["og_image"]; ok {
		t.Errorf("unchanged og_image was sent: %v", put)
	}
	if _, ok := put["twitter_image"]; ok {
		t.Errorf("twitter_image already on picbed was sent: %v", put)
	}
	if got := f.post["feature_image"]; got != "https://img.test/cover.png" {
		t.Errorf("feature_image = %v", got)
	}
	if lex := f.post["lexical"].(string); !strings.Contains(lex, `"src":"https://img.test/a.jpg"`) || strings.Contains(lex, "origin.test") {
		t.Errorf("lexical not rewritten: %s", lex)
	}

	// Picbed's own write fires post.published.edited: that run finds nothing.
	rep, err = g.Run(context.Background(), ghostTarget(), rw)
	if err != nil || rep.Written || len(rep.Images) != 0 || len(f.puts) != 1 {
		t.Fatalf("second run: %+v %v, puts %d; want nothing written", rep, err, len(f.puts))
	}
}

func TestGhostCollisionRereadsAndKeepsTheEdit(t *testing.T) {
	f, g := newFakeGhost(t)
	f.beforePut = func(f *fakeGhost) { f.edit("title", "edited meanwhile") }
	rep, err := g.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conflicts != 1 || !rep.Written {
		t.Fatalf("report %+v; want one conflict then a write", rep)
	}
	if f.post["title"] != "edited meanwhile" || f.post["feature_image"] != "https://img.test/cover.png" {
		t.Errorf("post %v: the person's edit and picbed's must both be there", f.post)
	}
}

func TestGhostCollisionBounded(t *testing.T) {
	f, g := newFakeGhost(t)
	var keepEditing func(f *fakeGhost)
	keepEditing = func(f *fakeGhost) { f.edit("title", "again"); f.beforePut = keepEditing }
	f.beforePut = keepEditing
	rep, err := g.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err == nil || !IsTransient(err) || rep.Conflicts != maxAttempts || len(f.puts) != 0 {
		t.Fatalf("got %+v, %v; want %d conflicts, a transient error and no write", rep, err, maxAttempts)
	}
}

func TestGhostRefusalsSayWhatToFix(t *testing.T) {
	f, _ := newFakeGhost(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	wrong, _ := NewGhost(srv.URL+"/blog", ghostKeyID+":"+strings.Repeat("ab", 32))
	_, err := wrong.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "credentials were refused") || IsTransient(err) {
		t.Errorf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "abab") {
		t.Errorf("the secret leaked into %v", err)
	}
	good, _ := NewGhost(srv.URL+"/blog", ghostKeyID+":"+ghostSecret)
	f.status = http.StatusForbidden
	if _, err := good.Run(context.Background(), ghostTarget(), &fakeRewriter{}); err == nil || !strings.Contains(err.Error(), "lack a permission") {
		t.Errorf("403: %v", err)
	}
	f.status = http.StatusServiceUnavailable
	if _, err := good.Run(context.Background(), ghostTarget(), &fakeRewriter{}); !IsTransient(err) {
		t.Errorf("503 must be transient: %v", err)
	}
}

func TestGhostTarget(t *testing.T) {
	g, _ := NewGhost("http://ghost.test", ghostKeyID+":"+ghostSecret)
	for _, tc := range []struct {
		name, body string
		mine       bool
		want       Target
		bad        bool
	}{
		{"post", `{"post":{"current":{"id":"` + ghostPostID + `","updated_at":"2026-01-01T00:00:01.000Z"},"previous":{}}}`, true,
			Target{CMS: "ghost", Kind: "posts", ID: ghostPostID, Version: "2026-01-01T00:00:01.000Z"}, false},
		{"page", `{"page":{"current":{"id":"` + ghostPostID + `"}}}`, true, Target{CMS: "ghost", Kind: "pages", ID: ghostPostID}, false},
		{"bad id", `{"post":{"current":{"id":"../../settings"}}}`, true, Target{}, true},
		{"wordpress", `{"post":{"id":5}}`, false, Target{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p any
			json.Unmarshal([]byte(tc.body), &p)
			got, mine, err := g.Target(nil, p)
			if mine != tc.mine || (err != nil) != tc.bad || got.Key() != tc.want.Key() {
				t.Errorf("got %+v %v %v, want %+v %v bad=%v", got, mine, err, tc.want, tc.mine, tc.bad)
			}
		})
	}
}

func TestGhostKeyChecked(t *testing.T) {
	for _, k := range []string{"", "nocolon", "id:nothex", "id:abcd", ":" + ghostSecret} {
		if _, err := NewGhost("http://ghost.test", k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}
