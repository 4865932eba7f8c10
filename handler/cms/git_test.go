package cms

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeForge is a repository on Gitea (/api/v1) or GitHub. It checks what
// they check: the token; on Gitea's ChangeFiles every file's sha must be
// the current blob's (else 422, as Gitea answers a stale sha); on GitHub
// the ref update must fast-forward (else 422 "Update is not a fast
// forward"). Every accepted write is one commit.
type fakeForge struct {
	mu      sync.Mutex
	gitea   bool
	files   map[string]string // path -> content at the branch head
	head    int               // commit counter
	commits []string          // messages
	pending map[string]string // github: tree/commit objects not yet on the branch
	// beforeWrite runs once before a write is judged: someone pushing in between.
	beforeWrite func(f *fakeForge)
}

func blobSHA(s string) string {
	h := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(s), s)))
	return hex.EncodeToString(h[:])
}

func (f *fakeForge) headSHA() string { return fmt.Sprintf("%040x", f.head) }

func (f *fakeForge) push(path, content, msg string) {
	f.files[path] = content
	f.head++
	f.commits = append(f.commits, msg)
}

func (f *fakeForge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "token forge-token-123" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
		return
	}
	prefix := "/repos/alice/blog/"
	if f.gitea {
		prefix = "/api/v1" + prefix
	}
	p, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	judge := func() {
		if fn := f.beforeWrite; fn != nil {
			f.beforeWrite = nil
			fn(f)
		}
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(p, "contents/"):
		path := strings.TrimPrefix(p, "contents/")
		c, ok := f.files[path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"message":"Not Found"}`)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"type": "file", "path": path, "sha": blobSHA(c), "encoding": "base64",
			"content": base64.StdEncoding.EncodeToString([]byte(c))})
	case f.gitea && r.Method == http.MethodPost && p == "contents":
		judge()
		var req struct {
			Branch, Message string
			Files           []struct{ Operation, Path, Content, SHA string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		for _, fl := range req.Files {
			if fl.Operation != "update" || blobSHA(f.files[fl.Path]) != fl.SHA {
				w.WriteHeader(http.StatusUnprocessableEntity)
				fmt.Fprintf(w, `{"message":"sha does not match [given: %s, expected: %s]"}`, fl.SHA, blobSHA(f.files[fl.Path]))
				return
			}
		}
		for _, fl := range req.Files {
			b, _ := base64.StdEncoding.DecodeString(fl.Content)
			f.files[fl.Path] = string(b)
		}
		f.head++
		f.commits = append(f.commits, req.Message)
		json.NewEncoder(w).Encode(map[string]any{"commit": map[string]string{"sha": f.headSHA()}})
	case !f.gitea && r.Method == http.MethodGet && p == "git/ref/heads/main":
		json.NewEncoder(w).Encode(map[string]any{"object": map[string]string{"sha": f.headSHA()}})
	case !f.gitea && r.Method == http.MethodGet && strings.HasPrefix(p, "git/commits/"):
		json.NewEncoder(w).Encode(map[string]any{"tree": map[string]string{"sha": "tree-" + strings.TrimPrefix(p, "git/commits/")}})
	case !f.gitea && r.Method == http.MethodPost && p == "git/trees":
		var req struct {
			BaseTree string `json:"base_tree"`
			Tree     []struct{ Path, Mode, Type, Content string }
		}
		json.NewDecoder(r.Body).Decode(&req)
		b, _ := json.Marshal(req.Tree)
		f.pending["tree-new"] = string(b)
		json.NewEncoder(w).Encode(map[string]string{"sha": "tree-new"})
	case !f.gitea && r.Method == http.MethodPost && p == "git/commits":
		var req struct {
			Message string
			Tree    string
			Parents []string
		}
		json.NewDecoder(r.Body).Decode(&req)
		f.pending["commit-parent"] = req.Parents[0]
		f.pending["commit-message"] = req.Message
		json.NewEncoder(w).Encode(map[string]string{"sha": "c0ffee"})
	case !f.gitea && r.Method == http.MethodPatch && p == "git/refs/heads/main":
		judge()
		var req struct {
			SHA   string
			Force bool
		}
		json.NewDecoder(r.Body).Decode(&req)
		if req.Force || f.pending["commit-parent"] != f.headSHA() {
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"message":"Update is not a fast forward"}`)
			return
		}
		var tree []struct{ Path, Content string }
		json.Unmarshal([]byte(f.pending["tree-new"]), &tree)
		for _, e := range tree {
			f.files[e.Path] = e.Content
		}
		f.head++
		f.commits = append(f.commits, f.pending["commit-message"])
		json.NewEncoder(w).Encode(map[string]any{"object": map[string]string{"sha": f.headSHA()}})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"message":"Not Found"}`)
	}
}

func newFakeForge(t *testing.T, gitea bool) (*fakeForge, *Git) {
	f := &fakeForge{gitea: gitea, pending: map[string]string{}, files: map[string]string{
		"source/_posts/a.md": "# A\n\n![a](http://origin.test/a.png)\n",
		"content/b.md":       "# B\n\n![b](http://origin.test/b.png) and ![a](http://origin.test/a.png)\n",
		"content/c.md":       "# C\n\nno images\n",
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	base := srv.URL
	if gitea {
		base += "/api/v1"
	}
	g, err := NewGit(base, "forge-token-123", "")
	if err != nil {
		t.Fatal(err)
	}
	return f, g
}

var gitTarget = Target{CMS: "git", Repo: "alice/blog", Branch: "main", Paths: []string{"source/_posts/a.md", "content/b.md", "content/c.md"}}

func TestGitOneCommitPerPush(t *testing.T) {
	for _, gitea := range []bool{true, false} {
		t.Run(fmt.Sprintf("gitea=%v", gitea), func(t *testing.T) {
			f, g := newFakeForge(t, gitea)
			rep, err := g.Run(context.Background(), gitTarget, &fakeRewriter{})
			if err != nil || !rep.Written || len(f.commits) != 1 {
				t.Fatalf("%+v %v, %d commits; want one", rep, err, len(f.commits))
			}
			if len(rep.Files) != 2 || len(rep.Images) != 2 {
				t.Errorf("files %v images %v", rep.Files, rep.Images)
			}
			if f.files["content/b.md"] != "# B\n\n![b](https://img.test/b.png) and ![a](https://img.test/a.png)\n" {
				t.Errorf("b.md = %q", f.files["content/b.md"])
			}
			if msg := f.commits[0]; !strings.HasPrefix(msg, "picbed: rehost 2 images in source/_posts/a.md, content/b.md") ||
				!strings.Contains(msg, "http://origin.test/a.png -> https://img.test/a.png") {
				t.Errorf("message %q", msg)
			}
			// The push picbed made comes back as a webhook: nothing to do.
			rep, err = g.Run(context.Background(), gitTarget, &fakeRewriter{})
			if err != nil || rep.Written || len(f.commits) != 1 {
				t.Fatalf("own push: %+v %v, %d commits", rep, err, len(f.commits))
			}
		})
	}
}

func TestGitStaleRereads(t *testing.T) {
	for _, gitea := range []bool{true, false} {
		t.Run(fmt.Sprintf("gitea=%v", gitea), func(t *testing.T) {
			f, g := newFakeForge(t, gitea)
			f.beforeWrite = func(f *fakeForge) { f.push("content/b.md", f.files["content/b.md"]+"\nmore\n", "person") }
			rep, err := g.Run(context.Background(), gitTarget, &fakeRewriter{})
			if err != nil || !rep.Written || rep.Conflicts != 1 {
				t.Fatalf("%+v %v; want a conflict then a write", rep, err)
			}
			if b := f.files["content/b.md"]; !strings.Contains(b, "more") || strings.Contains(b, "origin.test") {
				t.Errorf("b.md = %q: the push in between and the rewrite must both be there", b)
			}
			if len(f.commits) != 2 {
				t.Errorf("commits %q", f.commits)
			}
		})
	}
}

func TestGitWrongToken(t *testing.T) {
	f, _ := newFakeForge(t, true)
	srv := httptest.NewServer(f)
	defer srv.Close()
	g, _ := NewGit(srv.URL+"/api/v1", "not-the-token", "")
	_, err := g.Run(context.Background(), gitTarget, &fakeRewriter{})
	if err == nil || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("%v", err)
	}
}

func TestGitTarget(t *testing.T) {
	g, _ := NewGit("https://api.github.com", "t", "content/**/*.md, *.markdown")
	push := func(ref, after string, commits string) any {
		var p any
		json.Unmarshal([]byte(`{"ref":"`+ref+`","after":"`+after+`","repository":{"full_name":"alice/blog"},"commits":`+commits+`}`), &p)
		return p
	}
	sha := strings.Repeat("ab", 20)
	hd := http.Header{"X-Github-Event": {"push"}}
	got, mine, err := g.Target(hd, push("refs/heads/main", sha,
		`[{"added":["content/a.md","README.md"],"modified":["content/x/y.md"]},{"removed":["content/a.md"],"modified":["top.markdown","content/x/y.md"]}]`))
	if !mine || err != nil || strings.Join(got.Paths, ",") != "content/x/y.md,top.markdown" || got.Branch != "main" || got.Version != sha {
		t.Errorf("got %+v %v %v", got, mine, err)
	}
	for name, tc := range map[string]struct {
		hd   http.Header
		body any
	}{
		"ping":       {http.Header{"X-Github-Event": {"ping"}}, push("", "", "[]")},
		"tag":        {hd, push("refs/tags/v1", sha, `[{"added":["content/a.md"]}]`)},
		"deleted":    {hd, push("refs/heads/x", strings.Repeat("0", 40), `[]`)},
		"no matches": {hd, push("refs/heads/main", sha, `[{"added":["README.md"]}]`)},
	} {
		_, mine, err := g.Target(tc.hd, tc.body)
		if _, ok := err.(*Ignored); !mine || !ok {
			t.Errorf("%s: %v %v; want ignored", name, mine, err)
		}
	}
	var bad any
	json.Unmarshal([]byte(`{"ref":"refs/heads/main","after":"`+sha+`","repository":{"full_name":"../../admin"},"commits":[]}`), &bad)
	if _, _, err := g.Target(hd, bad); err == nil {
		t.Error("a path as repository accepted")
	}
	var wp any
	json.Unmarshal([]byte(`{"post":{"id":3}}`), &wp)
	if _, mine, _ := g.Target(http.Header{}, wp); mine {
		t.Error("a WordPress payload taken for a push")
	}
}

func TestGlobMatch(t *testing.T) {
	g, _ := NewGit("https://api.github.com", "t", "")
	for p, want := range map[string]bool{"a.md": true, "x/y/z.markdown": true, "a.txt": false, "../a.md": false, "/a.md": false} {
		if g.Match(p) != want {
			t.Errorf("Match(%q) != %v", p, want)
		}
	}
}
