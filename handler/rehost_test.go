package handler

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// rhImages indexes an answer's "images" by source.
func rhImages(t *testing.T, m map[string]any) map[string]map[string]any {
	t.Helper()
	list, ok := m["images"].([]any)
	if !ok {
		t.Fatalf("no images list in %v", m)
	}
	out := map[string]map[string]any{}
	for _, v := range list {
		im := v.(map[string]any)
		src := im["source"].(string)
		if _, dup := out[src]; dup {
			t.Errorf("source %q listed twice", src)
		}
		out[src] = im
	}
	return out
}

func (e *rhEnv) rehost(t *testing.T, query string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	rec, m := e.do(t, "POST", "/api/rehost"+query, "application/json", strings.NewReader(string(b)), "Authorization", "Bearer "+rhToken)
	return rec.Code, m
}

// TestRehostPost rehosts testdata/post.md, a real post mixing every
// image syntax, against an origin serving real photos.
func TestRehostPost(t *testing.T) {
	e := newRhEnv(t, nil)
	o := e.origin.URL
	post := strings.ReplaceAll(string(fixture(t, "post.md")), "https://images.example.com", o)
	status, m := e.rehost(t, "", map[string]any{"markdown": post})
	if status != 200 {
		t.Fatalf("status %d: %v", status, m)
	}
	imgs := rhImages(t, m)
	want := map[string]string{ // source -> error code ("" = rehosted)
		o + "/2024/05/phone.jpg":             "",
		o + "/brand/logo%20final.png":        "",
		o + "/2024/05/tea%20fields.jpg":      "",
		o + "/brand/logo.png?v=2&size=small": "",
		o + "/2019/01/gone.jpg":              "upstream_status",
		o + "/not-an-image.png":              "unsupported_format",
		o + "/icon.svg":                      "unsupported_format",
	}
	if len(imgs) != len(want) {
		t.Errorf("%d images listed, want %d: %v", len(imgs), len(want), m["images"])
	}
	out := m["markdown"].(string)
	for src, code := range want {
		im, ok := imgs[src]
		if !ok {
			t.Errorf("%s not listed", src)
			continue
		}
		if im["code"] != nil && im["code"] != code || im["code"] == nil && code != "" {
			t.Errorf("%s: code %v, want %q (%v)", src, im["code"], code, im["error"])
		}
		if code != "" {
			if im["url"] != nil || im["error"] == "" {
				t.Errorf("%s: failed image has url %v, error %v", src, im["url"], im["error"])
			}
			continue
		}
		u, _ := im["url"].(string)
		if !e.stored(t, u) {
			t.Errorf("%s: %q is not stored", src, u)
		}
		if !strings.Contains(out, u) {
			t.Errorf("%s: new link %q not in the document", src, u)
		}
	}
	if m["rehosted"] != 4.0 || m["failed"] != 3.0 {
		t.Errorf("rehosted, failed = %v, %v", m["rehosted"], m["failed"])
	}
	for _, kept := range []string{
		"](" + o + "/2024/05/phone.jpg)\n", // the link around the thumbnail is a link, not an image
		"![gone](" + o + "/2019/01/gone.jpg)",
		"![a web page](" + o + "/not-an-image.png)",
		"![ours](https://img.example.net/img/2024/05/0123456789abcdef.jpg)",
		"![dot](data:image/gif;base64,R0lGODlhAQABAAAAACw=)",
		"```markdown\n![alt text](" + o + "/example.png)\n```",
		"`![alt](" + o + "/inline-example.png)`",
		"[unused]: " + o + "/not-used-by-an-image.jpg",
		`"West Lake, 6:12 am")`,
		`"Longjing tea fields"`,
	} {
		if !strings.Contains(out, kept) {
			t.Errorf("document lost %q", kept)
		}
	}
	if n := strings.Count(out, o+"/2024/05/phone.jpg"); n != 1 {
		t.Errorf("old phone.jpg link appears %d times, want 1 (the outer link)", n)
	}
	if strings.Contains(out, "logo.png?v=2&amp;size=small") {
		t.Error("the <img> links were not rewritten")
	}
	for _, p := range []string{"/example.png", "/inline-example.png", "/not-used-by-an-image.jpg"} {
		if e.hitCount(p) != 0 {
			t.Errorf("%s was fetched", p)
		}
	}
	if n := e.hitCount("/2024/05/phone.jpg"); n != 1 {
		t.Errorf("phone.jpg fetched %d times, want once", n)
	}

	// Rehosting the result again changes nothing: every image is ours now
	// or failed before.
	_, again := e.rehost(t, "", map[string]any{"markdown": out})
	if again["markdown"] != out || again["rehosted"] != 0.0 {
		t.Errorf("second pass rehosted %v and changed the document", again["rehosted"])
	}
}

func TestRehostForms(t *testing.T) {
	e := newRhEnv(t, nil)
	o := e.origin.URL
	t.Run("html", func(t *testing.T) {
		doc := `<p><IMG SRC=` + o + `/brand/logo.png alt=x><img srcset='` + o + `/2024/05/phone.jpg 2x'></p>`
		status, m := e.rehost(t, "", map[string]any{"html": doc})
		if status != 200 || m["rehosted"] != 2.0 {
			t.Fatalf("status %d: %v", status, m)
		}
		out := m["html"].(string)
		if strings.Contains(out, o) || !strings.HasPrefix(out, "<p><IMG SRC="+rhPublic) {
			t.Errorf("html = %q", out)
		}
	})
	t.Run("text/markdown body", func(t *testing.T) {
		rec, m := e.do(t, "POST", "/api/rehost", "text/markdown; charset=utf-8",
			strings.NewReader("![x]("+o+"/brand/logo.png)"), "Authorization", "Bearer "+rhToken)
		if rec.Code != 200 || !strings.HasPrefix(m["markdown"].(string), "![x]("+rhPublic+"/") {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	})
	t.Run("relative with base", func(t *testing.T) {
		status, m := e.rehost(t, "", map[string]any{"markdown": "![x](/brand/logo.png) ![y](logo.png)", "base": o + "/brand/"})
		if status != 200 || m["rehosted"] != 1.0 || m["failed"] != 0.0 {
			t.Fatalf("status %d: %v", status, m)
		}
		if strings.Contains(m["markdown"].(string), "(/brand") {
			t.Errorf("markdown = %q", m["markdown"])
		}
	})
	t.Run("relative without base", func(t *testing.T) {
		status, m := e.rehost(t, "", map[string]any{"markdown": "![x](/brand/logo.png)"})
		if status != 200 || rhImages(t, m)["/brand/logo.png"]["code"] != "relative_url" {
			t.Fatalf("status %d: %v", status, m)
		}
	})
	t.Run("options apply", func(t *testing.T) {
		status, m := e.rehost(t, "?w=100&format=png", map[string]any{"markdown": "![x](" + o + "/2024/05/phone.jpg)"})
		if status != 200 || m["rehosted"] != 1.0 || !strings.HasSuffix(m["markdown"].(string), ".png)") {
			t.Fatalf("status %d: %v", status, m)
		}
	})
	t.Run("no images", func(t *testing.T) {
		status, m := e.rehost(t, "", map[string]any{"markdown": "just text"})
		if status != 200 || m["markdown"] != "just text" || len(m["images"].([]any)) != 0 {
			t.Fatalf("status %d: %v", status, m)
		}
	})
}

func TestRehostRefusals(t *testing.T) {
	e := newRhEnv(t, nil)
	for _, tt := range []struct {
		name, ct, body, auth string
		status               int
		code                 string
	}{
		{"no token", "application/json", `{"markdown": ""}`, "", 401, "unauthorized"},
		{"both fields", "application/json", `{"markdown": "", "html": ""}`, rhToken, 400, "bad_json"},
		{"neither", "application/json", `{}`, rhToken, 400, "bad_json"},
		{"unknown field", "application/json", `{"md": ""}`, rhToken, 400, "bad_json"},
		{"bad base", "application/json", `{"markdown": "", "base": "ftp://x"}`, rhToken, 400, "bad_option"},
		{"content type", "image/png", `x`, rhToken, 415, "unsupported_content_type"},
		{"too large", "text/markdown", strings.Repeat("a", rehostMaxBody+1), rhToken, 413, "too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var hd []string
			if tt.auth != "" {
				hd = []string{"Authorization", "Bearer " + tt.auth}
			}
			rec, m := e.do(t, "POST", "/api/rehost", tt.ct, strings.NewReader(tt.body), hd...)
			if rec.Code != tt.status || m["error"] != tt.code {
				t.Fatalf("status %d %v, want %d %s: %s", rec.Code, m["error"], tt.status, tt.code, rec.Body)
			}
		})
	}
}

// TestRehostBounds: at most rehostMaxImages distinct images per request,
// rehostWorkers fetched at once, never more.
func TestRehostBounds(t *testing.T) {
	e := newRhEnv(t, nil)
	var b strings.Builder
	n := rehostMaxImages + 3
	for i := range n {
		fmt.Fprintf(&b, "![%d](%s/n/%d.png)\n", i, e.origin.URL, i)
	}
	status, m := e.rehost(t, "", map[string]any{"markdown": b.String()})
	if status != 200 {
		t.Fatalf("status %d: %v", status, m)
	}
	if m["rehosted"] != float64(rehostMaxImages) || m["failed"] != 3.0 {
		t.Errorf("rehosted, failed = %v, %v", m["rehosted"], m["failed"])
	}
	last := fmt.Sprintf("%s/n/%d.png", e.origin.URL, n-1)
	if im := rhImages(t, m)[last]; im["code"] != "too_many_images" {
		t.Errorf("the last image: %v", im)
	}
	if !strings.Contains(m["markdown"].(string), last) {
		t.Error("an image over the limit lost its link")
	}
	if e.hitCount(fmt.Sprintf("/n/%d.png", n-1)) != 0 {
		t.Error("an image over the limit was fetched")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.maxIn != rehostWorkers {
		t.Errorf("%d fetches at once, want %d (the bound, reached)", e.maxIn, rehostWorkers)
	}
}

// TestOriginMetadataKeepsNoSecrets: the source URL stored with a rehosted
// image (x-oss-meta-picbed-origin, which OSS serves on every public GET)
// keeps its host and path, not its query string or fragment.
func TestOriginMetadataKeepsNoSecrets(t *testing.T) {
	e := newRhEnv(t, nil)
	src := e.origin.URL + "/brand/logo.png?token=SECRET-TOKEN-123&X-Amz-Signature=SECRETSIG#SECRETFRAG"
	status, m := e.rehost(t, "", map[string]any{"markdown": "![logo](" + src + ")"})
	if status != 200 || m["rehosted"] != 1.0 {
		t.Fatalf("status %d: %v", status, m)
	}
	u, _ := rhImages(t, m)[src]["url"].(string)
	key, _ := e.h.ourKey(u)
	obj, err := e.store.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := url.QueryUnescape(obj.Meta["picbed-origin"])
	if want := "rehost:" + e.origin.URL + "/brand/logo.png"; origin != want {
		t.Errorf("picbed-origin = %q, want %q", origin, want)
	}
	for k, v := range obj.Meta {
		if strings.Contains(v, "SECRET") {
			t.Errorf("metadata %s = %q carries the source's secret", k, v)
		}
	}
}

func TestPublicOrigin(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"upload", "upload"},
		{"oss://bucket/inbox/a.jpg", "oss://bucket/inbox/a.jpg"},
		{"file:a.jpg", "file:a.jpg"},
		{"rehost:https://x.test/a%20b.png?sig=1#f", "rehost:https://x.test/a%20b.png"},
		{"rehost:https://user:pass@x.test:8443/p/a.png?token=t", "rehost:https://x.test:8443/p/a.png"},
		{"https://x.test/a.png?X-Oss-Signature=s", "https://x.test/a.png"},
		{"rehost:https://%zz", "rehost:https:"},
	} {
		if got := publicOrigin(tt.in); got != tt.want {
			t.Errorf("publicOrigin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
