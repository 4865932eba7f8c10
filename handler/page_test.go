package handler

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"picbed/imageproc"
)

func TestPage(t *testing.T) {
	e := newClientEnv(t, nil)
	a := e.do(t, "GET", "/", nil)
	if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: status %d, type %q", a.status, a.header.Get("Content-Type"))
	}
	csp := a.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "img-src 'self' https://img.example.com blob:", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	if got := a.header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	page := string(a.body)
	for _, want := range []string{`<script src="/assets/app.js" defer></script>`, `href="/assets/app.css"`, `id="files"`, `data-max-bytes="33554432"`, `up to 32 MiB each`, `data-watermark="false"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, `id="opt-wm"`) {
		t.Error("watermark option shown with no watermark configured")
	}

	for _, tt := range []struct{ path, ctype string }{{"/assets/app.js", "text/javascript"}, {"/assets/app.css", "text/css"}} {
		a := e.do(t, "GET", tt.path, nil)
		if a.status != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), tt.ctype) || a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("ETag") == "" {
			t.Errorf("%s: status %d type %q nosniff %q etag %q", tt.path, a.status, a.header.Get("Content-Type"), a.header.Get("X-Content-Type-Options"), a.header.Get("ETag"))
		}
		again := e.do(t, "GET", tt.path, nil, "If-None-Match: "+a.header.Get("ETag"))
		if again.status != 304 {
			t.Errorf("%s revalidation: status %d, want 304", tt.path, again.status)
		}
	}
	for _, p := range []string{"/assets/index.html", "/assets/nope.js", "/nope"} {
		if a := e.do(t, "GET", p, nil); a.status != 404 {
			t.Errorf("%s: status %d, want 404", p, a.status)
		}
	}
}

func TestPageConfigured(t *testing.T) {
	e := newClientEnv(t, func(c *Config) {
		wm, err := imageproc.NewWatermark(imageproc.Watermark{Text: "© me", Position: "bottom-right", Opacity: 0.7, Scale: 0.15})
		if err != nil {
			t.Fatal(err)
		}
		c.Watermark, c.MaxBytes = wm, 524288
	})
	page := string(e.do(t, "GET", "/", nil).body)
	for _, want := range []string{`id="opt-wm"`, `data-watermark="true"`, `data-max-bytes="524288"`, `up to 512 KiB each`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestPageSelfContained keeps the page free of anything its CSP would
// block or that would leak a visit: no inline scripts, styles or event
// handlers, and no external URL.
func TestPageSelfContained(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=|javascript:`)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(webFS, p)
		if strings.HasSuffix(p, ".html") && inline.Match(b) {
			t.Errorf("%s has inline script or style: %q", p, inline.Find(b))
		}
		if m := external.Find(b); m != nil {
			t.Errorf("%s refers to an external URL: %q", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
