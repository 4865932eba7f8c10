package handler

import (
	"bytes"
	"mime"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPicListUploader sends what PicList's own "PicList" image bed sends
// (PicList-Core src/plugins/uploader/piclist.ts): POST
// <host>:<port>/upload?configName=<name>[&picbed=<type>]&key=<serverKey>,
// header content-type multipart/form-data, the file under "file" with the
// Content-Type mime-types looks up from its name. PicList then reads the
// answer as statusCode === 200 && body.success, the link as body.result[0]
// and body.fullResult[0]; anything else shows body.message (a non-2xx
// answer makes its request library throw, and the message is lost).
func TestPicListUploader(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name, query string
		ok          bool
		message     string // in body.message when !ok
	}{
		{"default settings", "?configName=Default&key=" + clientToken, true, ""},
		{"picbed and configName set", "?configName=Blog&picbed=smms&key=" + clientToken, true, ""},
		{"wrong key", "?configName=Default&key=wrong-token-0123456789", false, "the token is wrong: set the key of PicList's \"PicList\" image bed"},
		{"no key", "?configName=Default", false, "no token: set the key of PicList's \"PicList\" image bed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := "截图 2026-11-27.png"
			body, ct := multipartBody(t, formPart{field: "file", filename: name, contentType: mime.TypeByExtension(".png"), data: clientPNG(t, 500, 300, uint8(90+i))})
			a := e.do(t, "POST", "/upload"+tt.query, body, "Content-Type: "+ct)
			m := a.json(t)
			success, _ := m["success"].(bool)
			if a.status != 200 || success != tt.ok {
				t.Fatalf("status %d success %v, want 200 and %v: %s", a.status, success, tt.ok, a.body)
			}
			if !tt.ok {
				if msg, _ := m["message"].(string); !strings.Contains(msg, tt.message) {
					t.Errorf("message %q, want it to say %q", msg, tt.message)
				}
				return
			}
			result, _ := m["result"].([]any)
			full, _ := m["fullResult"].([]any)
			if len(result) != 1 || len(full) != 1 {
				t.Fatalf("result %v fullResult %v", result, full)
			}
			link, _ := result[0].(string)
			if !strings.HasPrefix(link, "https://img.example.com/img/") {
				t.Errorf("result[0] = %q", link)
			}
			f, _ := full[0].(map[string]any)
			if f["imgUrl"] != link || f["thumbnail"] != link+"?w=400" {
				t.Errorf("fullResult[0] = %v: want imgUrl and the thumbnail", f)
			}
		})
	}
	// The same token in the usual places is still /upload's plain JSON.
	body, ct := multipartBody(t, formPart{field: "file", filename: "a.png", data: clientPNG(t, 8, 8, 99)})
	a := e.do(t, "POST", "/upload", body, "Content-Type: "+ct, "Authorization: Bearer "+clientToken)
	if m := a.json(t); a.status != 200 || m["url"] == nil || m["success"] != nil {
		t.Errorf("plain /upload: %d %s", a.status, a.body)
	}
}

// TestLskyTokenMessages: Lsky clients show the message; a wrong token must
// say it is wrong, not ask for a header the client did send.
func TestLskyTokenMessages(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name, header, want string
	}{
		{"wrong Bearer", "Authorization: Bearer wrong-token-0123456789", "the token is wrong"},
		{"wrong bare token", "Authorization: wrong-token-0123456789", "the token is wrong"},
		{"none", "X-Nothing: 1", "send 'Authorization: Bearer <token>'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "file", filename: "a.png", data: clientPNG(t, 4, 4, 7)})
			a := e.do(t, "POST", "/api/v1/upload", body, "Content-Type: "+ct, tt.header)
			m := a.json(t)
			if msg, _ := m["message"].(string); a.status != 401 || !strings.Contains(msg, tt.want) {
				t.Errorf("%d %q, want 401 saying %q", a.status, msg, tt.want)
			}
		})
	}
	body, ct := multipartBody(t, formPart{field: "file", filename: "wide.png", data: clientPNG(t, 700, 100, 8)})
	a := e.do(t, "POST", "/api/v1/upload", body, "Content-Type: "+ct, "Authorization: Bearer "+clientToken)
	links, _ := walkJSON(a.json(t), "data.links").(map[string]any)
	if links["thumbnail_url"] != str(links["url"])+"?w=400" {
		t.Errorf("thumbnail_url = %v, want the 400 px thumbnail of %v", links["thumbnail_url"], links["url"])
	}
}

// TestCheveretoThumbnails: ShareX and Chevereto clients show image.thumb
// and image.medium: real smaller copies now.
func TestCheveretoThumbnails(t *testing.T) {
	e := newClientEnv(t, nil)
	for _, tt := range []struct {
		name          string
		w             int
		thumb, medium string // suffixes of the image URL
	}{
		{"wide", 1000, "?w=400", "?w=640"},
		{"narrower than the ladder", 500, "?w=400", ""},
		{"small", 300, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "source", filename: "a.png", data: clientPNG(t, tt.w, 50, uint8(tt.w))})
			a := e.do(t, "POST", "/api/1/upload", body, "Content-Type: "+ct, "X-API-Key: "+clientToken)
			img, _ := a.json(t)["image"].(map[string]any)
			u := str(img["url"])
			if got := str(walkJSON(img, "thumb.url")); got != u+tt.thumb {
				t.Errorf("thumb.url = %q, want %q", got, u+tt.thumb)
			}
			if got := str(walkJSON(img, "medium.url")); got != u+tt.medium {
				t.Errorf("medium.url = %q, want %q", got, u+tt.medium)
			}
		})
	}
}

// TestDeleteLinkWhenGone: a delete link is opened in a browser; once the
// image is gone it answers a small HTML page, and JSON only when asked.
func TestDeleteLinkWhenGone(t *testing.T) {
	e := newClientEnv(t, nil)
	_, link := e.uploadForDeleteURL(t, 42)
	if a := e.do(t, "DELETE", link, nil); a.status != 200 {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	browser := "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	for _, method := range []string{"GET", "POST"} {
		a := e.do(t, method, link, strings.NewReader(""), browser, "Content-Type: application/x-www-form-urlencoded")
		page := string(a.body)
		if a.status != 404 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(page, "<h1>Already deleted</h1>") || !strings.Contains(page, "already deleted?") {
			t.Errorf("%s in a browser: %d %s %s", method, a.status, a.header.Get("Content-Type"), page)
		}
		if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: the page has no CSP", method)
		}
	}
	for _, h := range []string{"Accept: application/json", "Accept: */*"} {
		method := "GET"
		if h == "Accept: */*" {
			method = "DELETE"
		}
		a := e.do(t, method, link, nil, h)
		if m := a.json(t); a.status != 404 || m["error"] != "not_found" {
			t.Errorf("%s %q: %d %s, want the JSON 404", method, h, a.status, a.body)
		}
	}
	a := e.do(t, "GET", link[:len(link)-3]+"xyz", nil, browser)
	if a.status != 403 || !strings.Contains(string(a.body), "<h1>This delete link is not valid</h1>") {
		t.Errorf("an altered link in a browser: %d %s", a.status, a.body)
	}
}

// TestTyporaRecipe runs the README's Typora "Custom Command" line, as
// written there, with curl on files whose names hold ',' ';' '"' and
// spaces: each must upload and print its link.
func TestTyporaRecipe(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(readme, []byte("<!-- typora-recipe -->"))
	if !ok {
		t.Fatal("README.md has no <!-- typora-recipe --> block")
	}
	block := strings.SplitN(string(rest), "```", 3)
	if len(block) < 3 {
		t.Fatal("no code block after <!-- typora-recipe -->")
	}
	line := strings.TrimSpace(strings.TrimPrefix(block[1], "sh"))
	e := newClientEnv(t, nil)
	line = strings.ReplaceAll(line, "TOKEN", clientToken)
	line = strings.ReplaceAll(line, "https://picbed.example.com", e.srv.URL)
	dir := t.TempDir()
	var files []string
	for i, name := range []string{`a,b;c "d".png`, "type=image;x.png", "plain.png"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, clientPNG(t, 10, 10, uint8(120+i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	// Typora runs the command through a shell with the paths appended,
	// each quoted.
	cmd := exec.Command("sh", "-c", line+` "$@"`, "typora")
	cmd.Args = append(cmd.Args, files...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(curl)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("the recipe printed %q, want one link per file", out)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "https://img.example.com/img/") {
			t.Errorf("printed %q, want a link", l)
		}
	}
}
