package cms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// Git writes back into Markdown files of a repository on GitHub or Gitea
// (Hexo, Hugo, Jekyll blogs), through the forge's REST API with a token.
// Gitea (an API base ending in /api/v1) commits every changed file of a
// push in one commit with its ChangeFiles endpoint, each file's sha as the
// conflict check; GitHub through its Git Data API (tree, commit, then a
// fast-forward-only ref update).
type Git struct {
	api   *api
	gitea bool
	globs []string
}

// DefaultGitPaths are the files a push is searched in when PICBED_GIT_PATHS is empty.
const DefaultGitPaths = "**/*.md,**/*.markdown"

// Bounds of one push.
const gitMaxFiles = 50

var (
	gitRepo = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$`)
	gitSHA  = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
)

// NewGit builds the connector for the forge API at base (https://api.github.com,
// https://gitea.example.com/api/v1) with token, for files matching globs
// (comma-separated; "**" spans folders).
func NewGit(base, token, globs string) (*Git, error) {
	if token == "" {
		return nil, errors.New("needs PICBED_GIT_TOKEN")
	}
	g := &Git{}
	if strings.TrimSpace(globs) == "" {
		globs = DefaultGitPaths
	}
	for _, p := range strings.Split(globs, ",") {
		p = strings.Trim(strings.TrimSpace(p), "/")
		if p == "" {
			continue
		}
		if _, err := path.Match(strings.ReplaceAll(p, "**", "x"), ""); err != nil {
			return nil, fmt.Errorf("PICBED_GIT_PATHS: %q is not a valid glob", p)
		}
		g.globs = append(g.globs, p)
	}
	a, err := newAPI("the Git forge", base, func(r *http.Request) error {
		r.Header.Set("Authorization", "token "+token)
		return nil
	})
	if err != nil {
		return nil, err
	}
	g.api, g.gitea = a, strings.HasSuffix(a.base.Path, "/api/v1")
	if g.gitea {
		a.name = "Gitea"
	} else {
		a.name = "GitHub"
	}
	return g, nil
}

// Name is the connector's name in job records.
func (g *Git) Name() string { return "git" }

// Origin is the forge's address (Gitea serves raw files there too).
func (g *Git) Origin() string { return g.api.origin() }

// Ignored is a webhook that is the connector's but asks for nothing (a
// ping, a branch deletion, a push touching no matching file); the
// webhook answers 200 with the reason.
type Ignored struct{ Reason string }

func (e *Ignored) Error() string { return e.Reason }

// Target reads a push webhook (GitHub's and Gitea's share the shape): the
// repository, the branch, the pushed commit, and the files added or
// modified by its commits that match the globs.
func (g *Git) Target(hd http.Header, payload any) (Target, bool, error) {
	top, _ := payload.(map[string]any)
	event := hd.Get("X-Gitea-Event")
	if event == "" {
		event = hd.Get("X-GitHub-Event")
	}
	_, hasCommits := top["commits"]
	if event == "" && !(hasCommits && top["ref"] != nil && top["repository"] != nil) {
		return Target{}, false, nil
	}
	if event != "" && event != "push" {
		return Target{}, true, &Ignored{Reason: fmt.Sprintf("a %q event: picbed acts on push events only", trunc(event, 40))}
	}
	repo := str(obj(payload, "repository")["full_name"])
	if !gitRepo.MatchString(repo) {
		return Target{}, true, badPayload("the push's repository.full_name %q is not owner/name", trunc(repo, 100))
	}
	branch, ok := strings.CutPrefix(str(top["ref"]), "refs/heads/")
	if !ok || branch == "" || strings.Contains(branch, "..") {
		return Target{}, true, &Ignored{Reason: "not a push to a branch (tags are left alone)"}
	}
	after := str(top["after"])
	if deleted, _ := top["deleted"].(bool); deleted || strings.Trim(after, "0") == "" {
		return Target{}, true, &Ignored{Reason: "the branch was deleted"}
	}
	if !gitSHA.MatchString(after) {
		return Target{}, true, badPayload("the push's after %q is not a commit id", trunc(after, 80))
	}
	var paths []string
	present := map[string]bool{} // a file removed by a later commit of the push is not read
	commits, _ := top["commits"].([]any)
	for _, c := range commits {
		cm, _ := c.(map[string]any)
		for _, field := range []string{"added", "modified", "removed"} {
			list, _ := cm[field].([]any)
			for _, p := range list {
				f := str(p)
				if !g.Match(f) {
					continue
				}
				if _, known := present[f]; !known {
					paths = append(paths, f)
				}
				present[f] = field != "removed"
			}
		}
	}
	var live []string
	for _, p := range paths {
		if present[p] {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return Target{}, true, &Ignored{Reason: "the push added or modified no file matching PICBED_GIT_PATHS"}
	}
	if len(live) > gitMaxFiles {
		live = live[:gitMaxFiles]
	}
	return Target{CMS: "git", Repo: repo, Branch: branch, Paths: live, Version: after}, true, nil
}

// Match tells a repository path the globs select. "**" matches any number
// of folders (none included); other segments follow path.Match.
func (g *Git) Match(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
		return false
	}
	for _, glob := range g.globs {
		if globMatch(strings.Split(glob, "/"), strings.Split(p, "/")) {
			return true
		}
	}
	return false
}

func globMatch(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if globMatch(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// gitFile is one file as the contents API answers it.
type gitFile struct {
	Type     string `json:"type"`
	Path     string `json:"path"`
	SHA      string `json:"sha"`
	Encoding string `json:"encoding"`
	Content  string `json:"content"`
}

// Run reads every file of the push, rewrites their images and commits the
// changed ones back in one commit. A stale sha (someone pushed in between)
// reads them again, up to maxAttempts times.
func (g *Git) Run(ctx context.Context, t Target, rw Rewriter) (Report, error) {
	if !gitRepo.MatchString(t.Repo) || t.Branch == "" || len(t.Paths) == 0 {
		return Report{}, badPayload("not a repository push")
	}
	var rep Report
	for attempt := 0; attempt < maxAttempts; attempt++ {
		ref := t.Branch
		if !g.gitea {
			head, err := g.head(ctx, t)
			if err != nil {
				return rep, err
			}
			ref = head
		}
		var files []gitFile
		var docs []Doc
		for _, p := range t.Paths {
			f, text, err := g.readFile(ctx, t.Repo, p, ref)
			if statusOf(err) == http.StatusNotFound {
				continue // removed by a later push
			}
			if err != nil {
				return rep, g.api.refused("reading "+t.Repo+"/"+p, err)
			}
			field := "markdown"
			if ext := strings.ToLower(path.Ext(p)); ext == ".html" || ext == ".htm" {
				field = "html"
			}
			files, docs = append(files, f), append(docs, Doc{Field: field, Text: text})
		}
		out, imgs := rw.Rewrite(ctx, docs, "")
		rep.Images = imgs
		if !changed(docs, out) {
			rep.Note = noChangeNote(imgs)
			return rep, nil
		}
		var changes []gitChange
		rep.Files = nil
		for i, f := range files {
			if out[i] != docs[i].Text {
				changes = append(changes, gitChange{file: f, content: out[i]})
				rep.Files = append(rep.Files, f.Path)
			}
		}
		msg := commitMessage(rep.Files, imgs)
		var commit string
		var err error
		if g.gitea {
			commit, err = g.commitGitea(ctx, t, changes, msg)
		} else {
			commit, err = g.commitGitHub(ctx, t, ref, changes, msg)
		}
		if s := statusOf(err); s == http.StatusConflict || s == http.StatusUnprocessableEntity {
			rep.Conflicts++
			continue
		}
		if err != nil {
			return rep, g.api.refused("committing to "+t.Repo+" "+t.Branch, err)
		}
		rep.Written, rep.Commit = true, commit
		return rep, nil
	}
	return rep, conflict("%s branch %s kept moving while picbed committed (%d stale answers); nothing was overwritten", t.Repo, t.Branch, rep.Conflicts)
}

type gitChange struct {
	file    gitFile
	content string
}

// escapePath escapes each segment of a repository path for a URL.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

func (g *Git) readFile(ctx context.Context, repo, p, ref string) (gitFile, string, error) {
	var f gitFile
	err := g.api.call(ctx, http.MethodGet, "/repos/"+repo+"/contents/"+escapePath(p)+"?ref="+url.QueryEscape(ref), nil, &f)
	if err != nil {
		return f, "", err
	}
	if f.Type != "file" || f.Encoding != "base64" {
		return f, "", badAnswer("%s/%s is not a file the contents API hands out in base64", repo, p)
	}
	b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(f.Content))
	if err != nil {
		return f, "", badAnswer("%s/%s: the contents API answered bad base64", repo, p)
	}
	if f.Path == "" {
		f.Path = p
	}
	return f, string(b), nil
}

// commitGitea writes every change in one commit (POST /repos/{repo}/contents);
// each file's sha makes Gitea refuse the commit when the file moved on.
func (g *Git) commitGitea(ctx context.Context, t Target, changes []gitChange, msg string) (string, error) {
	type op struct {
		Operation string `json:"operation"`
		Path      string `json:"path"`
		Content   string `json:"content"`
		SHA       string `json:"sha"`
	}
	req := struct {
		Branch  string `json:"branch"`
		Message string `json:"message"`
		Files   []op   `json:"files"`
	}{Branch: t.Branch, Message: msg}
	for _, c := range changes {
		req.Files = append(req.Files, op{Operation: "update", Path: c.file.Path, SHA: c.file.SHA,
			Content: base64.StdEncoding.EncodeToString([]byte(c.content))})
	}
	var res struct {
		Commit struct {
			SHA string `json:"sha"`
		} `json:"commit"`
	}
	err := g.api.call(ctx, http.MethodPost, "/repos/"+t.Repo+"/contents", req, &res)
	return res.Commit.SHA, err
}

// head is the commit the branch points at (GitHub).
func (g *Git) head(ctx context.Context, t Target) (string, error) {
	var ref struct {
		Object struct {
			SHA string `json:"sha"`
		} `json:"object"`
	}
	if err := g.api.call(ctx, http.MethodGet, "/repos/"+t.Repo+"/git/ref/heads/"+escapePath(t.Branch), nil, &ref); err != nil {
		return "", g.api.refused("reading branch "+t.Branch+" of "+t.Repo, err)
	}
	return ref.Object.SHA, nil
}

// commitGitHub writes every change in one commit on top of head: a tree
// over head's tree, a commit, and a ref update that is refused (422) when
// the branch moved since head was read.
func (g *Git) commitGitHub(ctx context.Context, t Target, head string, changes []gitChange, msg string) (string, error) {
	var hc struct {
		Tree struct {
			SHA string `json:"sha"`
		} `json:"tree"`
	}
	if err := g.api.call(ctx, http.MethodGet, "/repos/"+t.Repo+"/git/commits/"+head, nil, &hc); err != nil {
		return "", err
	}
	type entry struct {
		Path    string `json:"path"`
		Mode    string `json:"mode"`
		Type    string `json:"type"`
		Content string `json:"content"`
	}
	tree := struct {
		BaseTree string  `json:"base_tree"`
		Tree     []entry `json:"tree"`
	}{BaseTree: hc.Tree.SHA}
	for _, c := range changes {
		tree.Tree = append(tree.Tree, entry{Path: c.file.Path, Mode: "100644", Type: "blob", Content: c.content})
	}
	var nt, nc struct {
		SHA string `json:"sha"`
	}
	if err := g.api.call(ctx, http.MethodPost, "/repos/"+t.Repo+"/git/trees", tree, &nt); err != nil {
		return "", err
	}
	if err := g.api.call(ctx, http.MethodPost, "/repos/"+t.Repo+"/git/commits",
		map[string]any{"message": msg, "tree": nt.SHA, "parents": []string{head}}, &nc); err != nil {
		return "", err
	}
	err := g.api.call(ctx, http.MethodPatch, "/repos/"+t.Repo+"/git/refs/heads/"+escapePath(t.Branch),
		map[string]any{"sha": nc.SHA, "force": false}, nil)
	return nc.SHA, err
}

// commitMessage says what picbed did, for the repository's history.
func commitMessage(files []string, imgs []Image) string {
	n := 0
	var lines []string
	for _, im := range imgs {
		if im.URL != "" {
			n++
			lines = append(lines, "- "+im.Source+" -> "+im.URL)
		}
	}
	noun := "images"
	if n == 1 {
		noun = "image"
	}
	subject := fmt.Sprintf("picbed: rehost %d %s in %s", n, noun, strings.Join(files, ", "))
	if len(files) > 3 {
		subject = fmt.Sprintf("picbed: rehost %d %s in %d files", n, noun, len(files))
	}
	return subject + "\n\nImages moved to picbed and their links rewritten:\n" + strings.Join(lines, "\n") + "\n"
}
