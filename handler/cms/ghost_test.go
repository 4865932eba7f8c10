package cms

import (
	"context"
	"encoding/json"
	"net/http"
	"picbed/handler/cms/cmstest"
	"strings"
	"testing"
)

const ghostPostID = "66aa00bb11cc22dd33ee44ff"

func newFakeGhost(t *testing.T) (*cmstest.Ghost, *Ghost) {
	t.Helper()
	lex := `{"root":{"children":[{"type":"image","src":"http://origin.test/a.jpg","width":10},` +
		`{"type":"paragraph","children":[{"type":"text","text":"hello"}]}],"type":"root"}}`
	f := cmstest.NewGhost()
	t.Cleanup(f.Close)
	f.AddPost(ghostPostID, map[string]any{"lexical": lex,
		"feature_image": "http://origin.test/cover.png", "twitter_image": "https://img.test/already.png"})
	g, err := NewGhost(f.URL+"/", f.AdminKey())
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
	if !rep.Written || len(rep.Images) != 2 || f.Puts() != 1 {
		t.Fatalf("report %+v, puts %d; want written, 2 images, 1 PUT", rep, f.Puts())
	}
	post := f.Post(ghostPostID)
	if post["og_image"] != nil || post["twitter_image"] != "https://img.test/already.png" {
		t.Errorf("untouched image fields changed: %v %v", post["og_image"], post["twitter_image"])
	}
	if got := post["feature_image"]; got != "https://img.test/cover.png" {
		t.Errorf("feature_image = %v", got)
	}
	if lex := post["lexical"].(string); !strings.Contains(lex, `"src":"https://img.test/a.jpg"`) || strings.Contains(lex, "origin.test") {
		t.Errorf("lexical not rewritten: %s", lex)
	}

	// Picbed's own write fires post.published.edited: that run finds nothing.
	rep, err = g.Run(context.Background(), ghostTarget(), rw)
	if err != nil || rep.Written || len(rep.Images) != 0 || f.Puts() != 1 {
		t.Fatalf("second run: %+v %v, puts %d; want nothing written", rep, err, f.Puts())
	}
}

func TestGhostCollisionRereadsAndKeepsTheEdit(t *testing.T) {
	f, g := newFakeGhost(t)
	f.BeforePut(func(f *cmstest.Ghost, id string) { f.EditLocked(id, "title", "edited meanwhile") })
	rep, err := g.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conflicts != 1 || !rep.Written {
		t.Fatalf("report %+v; want one conflict then a write", rep)
	}
	if post := f.Post(ghostPostID); post["title"] != "edited meanwhile" || post["feature_image"] != "https://img.test/cover.png" {
		t.Errorf("post %v: the person's edit and picbed's must both be there", post)
	}
}

func TestGhostCollisionBounded(t *testing.T) {
	f, g := newFakeGhost(t)
	var keepEditing func(f *cmstest.Ghost, id string)
	keepEditing = func(f *cmstest.Ghost, id string) { f.EditLocked(id, "title", "again"); f.BeforePutLocked(keepEditing) }
	f.BeforePut(keepEditing)
	rep, err := g.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err == nil || !IsTransient(err) || rep.Conflicts != maxAttempts || f.Puts() != 0 {
		t.Fatalf("got %+v, %v; want %d conflicts, a transient error and no write", rep, err, maxAttempts)
	}
}

func TestGhostRefusalsSayWhatToFix(t *testing.T) {
	f, good := newFakeGhost(t)
	wrong, _ := NewGhost(f.URL, f.KeyID+":"+strings.Repeat("ab", 32))
	_, err := wrong.Run(context.Background(), ghostTarget(), &fakeRewriter{})
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "credentials were refused") || IsTransient(err) {
		t.Errorf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), "abab") {
		t.Errorf("the secret leaked into %v", err)
	}
	f.FailWith(http.StatusForbidden)
	if _, err := good.Run(context.Background(), ghostTarget(), &fakeRewriter{}); err == nil || !strings.Contains(err.Error(), "lack a permission") {
		t.Errorf("403: %v", err)
	}
	f.FailWith(http.StatusServiceUnavailable)
	if _, err := good.Run(context.Background(), ghostTarget(), &fakeRewriter{}); !IsTransient(err) {
		t.Errorf("503 must be transient: %v", err)
	}
	f.FailWith(0)
	if _, err := good.Run(context.Background(), Target{CMS: "ghost", Kind: "posts", ID: "66aa00bb11cc22dd33ee4400"}, &fakeRewriter{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a deleted post: %v", err)
	}
}

func TestGhostTarget(t *testing.T) {
	g, _ := NewGhost("http://ghost.test", "6650a1b2c3d4e5f6a7b8c9d0:"+strings.Repeat("ab", 32))
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
	for _, k := range []string{"", "nocolon", "id:nothex", "id:abcd", ":" + strings.Repeat("ab", 32)} {
		if _, err := NewGhost("http://ghost.test", k); err == nil {
			t.Errorf("key %q accepted", k)
		}
	}
}
