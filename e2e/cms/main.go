// Command cms is `make e2e-cms`: the real picbed binary against real Ghost,
// WordPress and Gitea (brought up by ../shared/cms, see e2e/cms/run.sh).
// For each CMS it publishes a post with an image hosted by the CMS itself,
// one from a remote origin (a local test origin the e2etest build may
// reach) and one from http://127.0.0.1:9 (refused: it must stay), waits for
// picbed to write the post back, opens every new link, and checks that
// picbed's own write came back as a webhook that found nothing to do.
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

var (
	bin       = flag.String("bin", "", "the picbed binary (built with -tags nodynamic,e2etest)")
	cmsDir    = flag.String("cms-dir", "/tmp/picbed-cms", "state of ../shared/cms (credentials)")
	plugin    = flag.String("wp-plugin", "clients/wordpress/picbed-webhook.php", "the WordPress webhook plugin picbed ships")
	port      = flag.Int("port", 18095, "picbed's port (fixed: the CMS webhooks point at it across runs)")
	ghostBase = flag.String("ghost", "http://127.0.0.1:12368", "")
	wpBase    = flag.String("wp", "http://127.0.0.1:18081", "")
	giteaBase = flag.String("gitea", "http://127.0.0.1:13000", "")
	only      = flag.String("only", "ghost,wordpress,gitea", "which CMSes to run")
)

const (
	token         = "e2e-cms-token-0123456789abcdef"
	webhookSecret = "e2e-cms-webhook-secret-0123456789"
	refused       = "http://127.0.0.1:9/never.png"
)

var (
	picbed  string // http://127.0.0.1:port
	public  string // picbed + /f
	origin  string // the remote test origin
	logPath string
	secrets []string // must never appear in picbed's log
	failed  bool
)

func main() {
	flag.Parse()
	picbed = fmt.Sprintf("http://127.0.0.1:%d", *port)
	public = picbed + "/f"
	tmp, err := os.MkdirTemp("", "picbed-e2e-cms-")
	check(err)
	defer os.RemoveAll(tmp)

	origin = startOrigin()
	ghostKey := ghostAdminKey()
	wpUser, wpPass := wpCreds()
	var giteaToken string
	if strings.Contains(*only, "gitea") {
		giteaToken = strings.TrimSpace(string(must(os.ReadFile(filepath.Join(*cmsDir, "gitea/token")))))
	}
	secrets = []string{strings.SplitN(ghostKey, ":", 2)[1], wpPass, giteaToken, webhookSecret}

	logPath = filepath.Join(tmp, "picbed.log")
	logf := must(os.Create(logPath))
	cmd := exec.Command(*bin)
	cmd.Env = append(os.Environ(),
		"PICBED_STORAGE=local", fmt.Sprintf("PICBED_LISTEN=127.0.0.1:%d", *port), "PICBED_DATA_DIR="+filepath.Join(tmp, "data"),
		"PICBED_TOKENS="+token, "PICBED_WEBHOOK_SECRET="+webhookSecret,
		"PICBED_GHOST_URL="+*ghostBase, "PICBED_GHOST_ADMIN_KEY="+ghostKey,
		"PICBED_WP_URL="+*wpBase, "PICBED_WP_USER="+wpUser, "PICBED_WP_APP_PASSWORD="+wpPass,
		"E2ETEST_ALLOW_ORIGINS="+origin)
	if giteaToken != "" {
		cmd.Env = append(cmd.Env, "PICBED_GIT_API="+*giteaBase+"/api/v1", "PICBED_GIT_TOKEN="+giteaToken)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Nothing may answer on the port before this picbed does (a leftover
	// server would take the webhooks).
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", *port), time.Second); err == nil {
		c.Close()
		check(fmt.Errorf("port %d is already taken: stop what listens there first", *port))
	}
	check(cmd.Start())
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	defer stop()
	waitFor("picbed /healthz", 30*time.Second, func() bool {
		r, err := http.Get(picbed + "/healthz")
		if err == nil {
			r.Body.Close()
		}
		return err == nil && r.StatusCode == 200
	})
	if failed {
		fmt.Printf("picbed's log:\n%s\n", tail(string(must(os.ReadFile(logPath))), 40))
		exit(1)
	}
	fmt.Printf("picbed %s (pid %d), test origin %s, refused link %s\n", picbed, cmd.Process.Pid, origin, refused)

	for _, name := range strings.Split(*only, ",") {
		start := time.Now()
		fmt.Printf("\n=== %s\n", name)
		switch name {
		case "ghost":
			runGhost(ghostKey)
		case "wordpress":
			runWordPress(wpUser, wpPass)
		case "gitea":
			runGitea(giteaToken)
		}
		fmt.Printf("--- %s took %.1fs\n", name, time.Since(start).Seconds())
	}

	webhookTimes()
	logText := string(must(os.ReadFile(logPath)))
	for _, s := range secrets {
		if s != "" && strings.Contains(logText, s) {
			fail("a secret (%d characters) appears in picbed's log", len(s))
		}
	}
	fmt.Printf("\npicbed's log: %d lines, no admin key, application password, git token or webhook secret in it\n", strings.Count(logText, "\n"))
	if failed {
		fmt.Printf("picbed's log:\n%s\n", tail(logText, 40))
		fmt.Println("e2e-cms: FAIL")
		exit(1)
	}
	fmt.Println("e2e-cms: PASS")
}

// ---- Ghost

func runGhost(key string) {
	auth := func(r *http.Request) {
		r.Header.Set("Authorization", "Ghost "+ghostJWT(key))
		r.Header.Set("Accept-Version", "v5.0")
	}
	api := *ghostBase + "/ghost/api/admin"
	for _, ev := range []string{"post.published", "post.published.edited"} {
		st, b := call("POST", api+"/webhooks/", auth, map[string]any{"webhooks": []any{map[string]string{
			"event": ev, "target_url": picbed + "/webhook", "name": "picbed " + ev, "secret": webhookSecret}}})
		switch {
		case st == 201:
			fmt.Printf("ghost: webhook %s -> %s/webhook created\n", ev, picbed)
		case st == 422 && strings.Contains(string(b), "already"):
			fmt.Printf("ghost: webhook %s -> %s/webhook already there\n", ev, picbed)
		default:
			fail("ghost: creating the %s webhook: %d %s", ev, st, b)
			return
		}
	}
	// An image uploaded to Ghost itself.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ph := textproto.MIMEHeader{}
	ph.Set("Content-Disposition", `form-data; name="file"; filename="e2e-ghost-`+randHex()+`.png"`)
	ph.Set("Content-Type", "image/png")
	fw := must(mw.CreatePart(ph))
	fw.Write(pngBytes())
	mw.WriteField("purpose", "image")
	mw.Close()
	req := must(http.NewRequest("POST", api+"/images/upload/", &buf))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	auth(req)
	st, b := do(req)
	var up struct{ Images []struct{ URL string } }
	json.Unmarshal(b, &up)
	if st != 201 || len(up.Images) != 1 {
		fail("ghost: image upload: %d %s", st, b)
		return
	}
	cmsImage := up.Images[0].URL
	remote, cover := origin+"/ghost-inline-"+randHex()+".png", origin+"/ghost-cover-"+randHex()+".png"
	lexical := must(json.Marshal(map[string]any{"root": map[string]any{"type": "root", "version": 1, "direction": "ltr", "format": "", "indent": 0,
		"children": []any{
			map[string]any{"type": "image", "version": 1, "src": cmsImage, "width": 64, "height": 48, "alt": "cms", "title": "", "caption": "", "cardWidth": "regular", "href": ""},
			map[string]any{"type": "html", "version": 1, "html": `<p><img src="` + remote + `" alt="remote"><img src="` + refused + `" alt="refused"></p>`},
			map[string]any{"type": "paragraph", "version": 1, "direction": "ltr", "format": "", "indent": 0, "children": []any{
				map[string]any{"type": "text", "version": 1, "text": "written by make e2e-cms", "detail": 0, "format": 0, "mode": "normal", "style": ""}}},
		}}}))
	st, b = call("POST", api+"/posts/", auth, map[string]any{"posts": []any{map[string]any{
		"title": "picbed e2e " + time.Now().Format(time.RFC3339), "status": "published", "lexical": string(lexical), "feature_image": cover}}})
	var created struct{ Posts []struct{ ID string } }
	json.Unmarshal(b, &created)
	if st != 201 || len(created.Posts) != 1 {
		fail("ghost: creating the post: %d %s", st, b)
		return
	}
	id := created.Posts[0].ID
	fmt.Printf("ghost: published post %s with %s (Ghost-hosted), %s, %s (feature_image) and %s\n", id, cmsImage, remote, cover, refused)

	var post map[string]any
	read := func() map[string]any {
		_, b := call("GET", api+"/posts/"+id+"/?formats=lexical", auth, nil)
		var r struct{ Posts []map[string]any }
		json.Unmarshal(b, &r)
		if len(r.Posts) == 1 {
			return r.Posts[0]
		}
		return nil
	}
	ok := waitFor("ghost: the write-back", 90*time.Second, func() bool {
		post = read()
		lx, _ := post["lexical"].(string)
		return post != nil && !strings.Contains(lx, cmsImage) && !strings.Contains(lx, remote) && strings.HasPrefix(fmt.Sprint(post["feature_image"]), public)
	})
	if !ok {
		return
	}
	lx := post["lexical"].(string)
	links := picbedLinks(lx + " " + fmt.Sprint(post["feature_image"]))
	fmt.Printf("ghost: written back at updated_at %v: feature_image %v, %d picbed links in lexical\n", post["updated_at"], post["feature_image"], len(picbedLinks(lx)))
	expect(strings.Contains(lx, refused), "ghost: the refused link %s stays in the post", refused)
	expect(len(links) == 3, "ghost: 3 picbed links (CMS image, remote image, feature image); got %v", links)
	openLinks("ghost", links)
	noLoop("ghost", "ghost", func() string { return fmt.Sprint(read()["updated_at"]) })
}

func ghostAdminKey() string {
	var c struct {
		Key string `json:"admin_api_key"`
	}
	check(json.Unmarshal(must(os.ReadFile(filepath.Join(*cmsDir, "ghost/creds.json"))), &c))
	return c.Key
}

func ghostJWT(key string) string {
	id, sec, _ := strings.Cut(key, ":")
	secret := must(hex.DecodeString(sec))
	enc := base64.RawURLEncoding
	now := time.Now().Unix()
	h := enc.EncodeToString(must(json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": id})))
	p := enc.EncodeToString(must(json.Marshal(map[string]any{"iat": now, "exp": now + 300, "aud": "/admin/"})))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(h + "." + p))
	return h + "." + p + "." + enc.EncodeToString(m.Sum(nil))
}

// ---- WordPress

func wpCreds() (string, string) {
	env := string(must(os.ReadFile(filepath.Join(*cmsDir, "wordpress/creds.env"))))
	user := regexp.MustCompile(`(?m)^WP_USER=(.*)$`).FindStringSubmatch(env)
	pass := regexp.MustCompile(`(?m)^WP_APP_PASS="?([^"\n]*)"?$`).FindStringSubmatch(env)
	if user == nil || pass == nil {
		check(errors.New("wordpress/creds.env has no WP_USER / WP_APP_PASS"))
	}
	return user[1], pass[1]
}

// installWPPlugin puts picbed's webhook plugin in mu-plugins and points it
// at this picbed (WordPress core sends no webhooks).
func installWPPlugin() {
	const dir = "/var/lib/wordpress/wp-content/mu-plugins"
	const cfg = "/etc/wordpress/config-127.0.0.1.php"
	check(os.MkdirAll(dir, 0o755))
	check(os.WriteFile(filepath.Join(dir, "picbed-webhook.php"), must(os.ReadFile(*plugin)), 0o644))
	c := string(must(os.ReadFile(cfg)))
	line := fmt.Sprintf("define('PICBED_WEBHOOK_URL', '%s/webhook'); define('PICBED_WEBHOOK_SECRET', '%s'); // make e2e-cms\n", picbed, webhookSecret)
	if !strings.Contains(c, line) {
		c = regexp.MustCompile(`(?m)^define\('PICBED_WEBHOOK_URL'.*\n`).ReplaceAllString(c, "")
		check(os.WriteFile(cfg, []byte(c+line), 0o644))
	}
	fmt.Printf("wordpress: clients/wordpress/picbed-webhook.php installed as a must-use plugin, pointing at %s/webhook\n", picbed)
}

func runWordPress(user, pass string) {
	installWPPlugin()
	auth := func(r *http.Request) { r.SetBasicAuth(user, pass) }
	api := *wpBase + "/wp-json/wp/v2"
	req := must(http.NewRequest("POST", api+"/media", bytes.NewReader(pngBytes())))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Content-Disposition", `attachment; filename="e2e-wp-`+randHex()+`.png"`)
	auth(req)
	st, b := do(req)
	var media struct {
		SourceURL string `json:"source_url"`
	}
	json.Unmarshal(b, &media)
	if st != 201 || media.SourceURL == "" {
		fail("wordpress: media upload: %d %s", st, b)
		return
	}
	remote := origin + "/wp-inline-" + randHex() + ".png"
	content := "<!-- wp:image -->\n<figure class=\"wp-block-image\"><img src=\"" + media.SourceURL + "\" alt=\"\"/></figure>\n<!-- /wp:image -->\n\n" +
		"<!-- wp:paragraph -->\n<p>remote <img src=\"" + remote + "\"> refused <img src=\"" + refused + "\"></p>\n<!-- /wp:paragraph -->"
	st, b = call("POST", api+"/posts", auth, map[string]any{"title": "picbed e2e " + time.Now().Format(time.RFC3339), "status": "publish", "content": content})
	var created struct{ ID int }
	json.Unmarshal(b, &created)
	if st != 201 || created.ID == 0 {
		fail("wordpress: creating the post: %d %s", st, b)
		return
	}
	fmt.Printf("wordpress: published post %d with %s (media library), %s and %s\n", created.ID, media.SourceURL, remote, refused)
	type wpPost struct {
		ModifiedGMT string `json:"modified_gmt"`
		Content     struct{ Raw string }
	}
	read := func() wpPost {
		_, b := call("GET", fmt.Sprintf("%s/posts/%d?context=edit", api, created.ID), auth, nil)
		var p wpPost
		json.Unmarshal(b, &p)
		return p
	}
	var p wpPost
	if !waitFor("wordpress: the write-back", 90*time.Second, func() bool {
		p = read()
		return p.Content.Raw != "" && !strings.Contains(p.Content.Raw, media.SourceURL) && !strings.Contains(p.Content.Raw, remote)
	}) {
		return
	}
	links := picbedLinks(p.Content.Raw)
	fmt.Printf("wordpress: written back at modified_gmt %s, %d picbed links\n", p.ModifiedGMT, len(links))
	expect(strings.Contains(p.Content.Raw, refused), "wordpress: the refused link stays in the post")
	expect(strings.Contains(p.Content.Raw, "<!-- wp:image -->"), "wordpress: block markup kept")
	expect(len(links) == 2, "wordpress: 2 picbed links; got %v", links)
	openLinks("wordpress", links)
	noLoop("wordpress", "wordpress", func() string { return read().ModifiedGMT })
}

// ---- Gitea

func runGitea(tok string) {
	auth := func(r *http.Request) { r.Header.Set("Authorization", "token "+tok) }
	api := *giteaBase + "/api/v1"
	repo := "blog-e2e-" + randHex()
	st, b := call("POST", api+"/user/repos", auth, map[string]any{"name": repo, "auto_init": true, "default_branch": "main"})
	var r struct {
		FullName string `json:"full_name"`
	}
	json.Unmarshal(b, &r)
	if st != 201 {
		fail("gitea: creating a repository: %d %s", st, b)
		return
	}
	full := r.FullName
	st, b = call("POST", api+"/repos/"+full+"/hooks", auth, map[string]any{"type": "gitea", "active": true, "events": []string{"push"}, "branch_filter": "*",
		"config": map[string]string{"url": picbed + "/webhook", "content_type": "json", "secret": webhookSecret}})
	if st != 201 {
		fail("gitea: creating the push webhook: %d %s", st, b)
		return
	}
	put := func(path, content, msg string) bool {
		st, b := call("POST", api+"/repos/"+full+"/contents/"+path, auth, map[string]any{
			"content": base64.StdEncoding.EncodeToString([]byte(content)), "message": msg, "branch": "main"})
		if st != 201 {
			fail("gitea: creating %s: %d %s", path, st, b)
		}
		return st == 201
	}
	if !put("static/img/cover.png", string(pngBytes()), "add an image") {
		return
	}
	cmsImage := *giteaBase + "/" + full + "/raw/branch/main/static/img/cover.png"
	remote := origin + "/gitea-inline-" + randHex() + ".png"
	md := "---\ntitle: picbed e2e\n---\n\n![cover](" + cmsImage + ")\n\nRemote: ![r](" + remote + ")\n\nRefused: ![x](" + refused + ")\n\n```md\n![in code](" + remote + ")\n```\n"
	if !put("source/_posts/hello.md", md, "add a post") {
		return
	}
	fmt.Printf("gitea: pushed %s/source/_posts/hello.md with %s (in the repository), %s and %s (and one in a code block)\n", full, cmsImage, remote, refused)
	raw := func() string {
		req := must(http.NewRequest("GET", api+"/repos/"+full+"/raw/source/_posts/hello.md?ref=main", nil))
		auth(req)
		_, b := do(req)
		return string(b)
	}
	var text string
	if !waitFor("gitea: the write-back commit", 90*time.Second, func() bool {
		text = raw()
		return strings.Contains(text, public) && !strings.Contains(text, cmsImage)
	}) {
		return
	}
	links := picbedLinks(text)
	expect(len(links) == 2, "gitea: 2 picbed links; got %v", links)
	expect(strings.Contains(text, refused), "gitea: the refused link stays")
	expect(strings.Contains(text, "![in code]("+remote+")"), "gitea: the image in a code block is left alone")
	commits := func() []string {
		_, b := call("GET", api+"/repos/"+full+"/commits?sha=main&limit=20", auth, nil)
		var cs []struct{ Commit struct{ Message string } }
		json.Unmarshal(b, &cs)
		var out []string
		for _, c := range cs {
			out = append(out, strings.SplitN(c.Commit.Message, "\n", 2)[0])
		}
		return out
	}
	cs := commits()
	fmt.Printf("gitea: commits, newest first: %q\n", cs)
	expect(len(cs) > 0 && strings.HasPrefix(cs[0], "picbed: rehost 2 images in source/_posts/hello.md"), "gitea: picbed's one commit says what it did")
	openLinks("gitea", links)
	noLoop("gitea", "git", func() string { return strings.Join(commits(), "|") })
}

// ---- checks shared by the three

var picbedLink = regexp.MustCompile(`https?://127\.0\.0\.1:\d+/f/[A-Za-z0-9_./-]+`)

func picbedLinks(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range picbedLink.FindAllString(s, -1) {
		if strings.HasPrefix(l, public) && !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

func openLinks(name string, links []string) {
	for _, l := range links {
		r, err := http.Get(l)
		if err != nil {
			fail("%s: %s: %v", name, l, err)
			continue
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		_, format, err := image.DecodeConfig(bytes.NewReader(b))
		expect(r.StatusCode == 200 && err == nil, "%s: %s opens: %d %s, %d bytes, %s", name, l, r.StatusCode, r.Header.Get("Content-Type"), len(b), format)
	}
}

// noLoop waits for picbed's own write to come back as a webhook job that
// finds nothing to do, then checks the content's version stays put.
func noLoop(name, cms string, version func() string) {
	var jobs []map[string]any
	waitFor(name+": the webhook of picbed's own write, answered with nothing to do", 60*time.Second, func() bool {
		jobs = jobLines(cms)
		return len(jobs) >= 2 && jobs[len(jobs)-1]["written"] == false
	})
	v := version()
	time.Sleep(5 * time.Second)
	writes := 0
	for _, j := range jobLines(cms) {
		if j["written"] == true {
			writes++
		}
	}
	expect(writes == 1, "%s: exactly one write-back (got %d)", name, writes)
	expect(version() == v, "%s: no further change after 5 s (version %s)", name, v)
	for _, j := range jobs {
		req := must(http.NewRequest("GET", picbed+"/api/jobs/"+fmt.Sprint(j["job"]), nil))
		req.Header.Set("Authorization", "Bearer "+token)
		st, b := do(req)
		fmt.Printf("%s: GET /api/jobs/%v -> %d %s\n", name, j["job"], st, b)
	}
}

// jobLines are picbed's "job finished" log lines for one connector.
func jobLines(cms string) []map[string]any {
	f, err := os.Open(logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "job finished" && m["cms"] == cms {
			out = append(out, m)
		}
	}
	return out
}

// webhookTimes reports how fast picbed answered the CMSes' webhooks (its
// request log lines): the work happens after the answer.
func webhookTimes() {
	f := must(os.Open(logPath))
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, worst := 0, 0.0
	statuses := map[string]int{}
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["msg"] == "request" && m["route"] == "/webhook" {
			n++
			statuses[fmt.Sprint(m["status"])]++
			if d, _ := m["duration_ms"].(float64); d > worst {
				worst = d
			}
		}
	}
	fmt.Printf("\nPOST /webhook answered %d times (status: count %v), slowest answer %.0f ms\n", n, statuses, worst)
	expect(n > 0 && worst < 1000, "every webhook answered within a second")
}

// ---- the remote test origin

func startOrigin() string {
	ln := must(net.Listen("tcp", "127.0.0.1:0"))
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, ".png") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngBytes())
	}))
	return "http://" + ln.Addr().String()
}

// pngBytes is a small PNG that differs every call (a new image each run).
func pngBytes() []byte {
	seed := make([]byte, 3)
	rand.Read(seed)
	m := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			m.Set(x, y, color.NRGBA{uint8(x*4) ^ seed[0], uint8(y*5) ^ seed[1], seed[2], 255})
		}
	}
	var b bytes.Buffer
	check(png.Encode(&b, m))
	return b.Bytes()
}

// ---- helpers

func call(method, url string, auth func(*http.Request), body any) (int, []byte) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(must(json.Marshal(body)))
	}
	req := must(http.NewRequest(method, url, rd))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != nil {
		auth(req)
	}
	return do(req)
}

func do(req *http.Request) (int, []byte) {
	c := http.Client{Timeout: 30 * time.Second}
	r, err := c.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, b
}

func waitFor(what string, d time.Duration, ok func() bool) bool {
	start := time.Now()
	for time.Since(start) < d {
		if ok() {
			fmt.Printf("ok   %s (%.1fs)\n", what, time.Since(start).Seconds())
			return true
		}
		time.Sleep(250 * time.Millisecond)
	}
	fail("%s: not within %s", what, d)
	return false
}

func expect(ok bool, format string, args ...any) {
	if ok {
		fmt.Printf("ok   "+format+"\n", args...)
	} else {
		fail(format, args...)
	}
}

func fail(format string, args ...any) {
	failed = true
	fmt.Printf("FAIL "+format+"\n", args...)
}

func randHex() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func must[T any](v T, err error) T {
	check(err)
	return v
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e-cms:", err)
		exit(1)
	}
}

// stop ends picbed; exit runs it first (os.Exit skips deferred calls).
var stop = func() {}

func exit(code int) {
	stop()
	os.Exit(code)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
