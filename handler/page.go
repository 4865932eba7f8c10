package handler

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"sync"
	"time"
)

// The upload page (GET /) and its assets, embedded in the binary. The page
// runs no inline script or style, so its Content-Security-Policy can say
// script-src 'self' with no 'unsafe-inline': an injected tag could not run.

//go:embed web
var webFS embed.FS

var pageTemplate = template.Must(template.ParseFS(webFS, "web/index.html"))

// pageData is what index.html is rendered with: server facts the page
// needs before its first API call.
type pageData struct {
	Watermark bool
	Anonymous bool // uploads need no token; the gallery (listing) is off
	MaxBytes  int64
	MaxSize   string // MaxBytes for people
	Version   string
}

// humanBytes writes a size the way the page shows it.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// page is GET /: the upload page.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) error {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, pageData{Watermark: h.cfg.Watermark != nil, Anonymous: h.anonymous(), MaxBytes: h.cfg.MaxBytes, MaxSize: humanBytes(h.cfg.MaxBytes), Version: Version}); err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", h.pageCSP())
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-cache")
	_, err := w.Write(b.Bytes())
	return err
}

// pageCSP allows scripts, styles and API calls from picbed itself only,
// and images from picbed, the public URL's origin (thumbnails) and local
// previews (blob:).
func (h *Handler) pageCSP() string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src " + h.imgSources() +
		" blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// imgSources is 'self' plus the origin of the public URL, where every
// link points.
func (h *Handler) imgSources() string {
	s := "'self'"
	if u, err := url.Parse(h.cfg.PublicURL); err == nil && u.Host != "" {
		s += " " + u.Scheme + "://" + u.Host
	}
	return s
}

// webAsset is one embedded script or stylesheet with its type and ETag.
type webAsset struct {
	data     []byte
	ct, etag string
}

// webAssets reads and hashes the page's assets once, on first use. The
// page itself (.html) is not among them: it is rendered by page.
var webAssets = sync.OnceValue(func() map[string]webAsset {
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	m := map[string]webAsset{}
	entries, _ := fs.ReadDir(webFS, "web")
	for _, e := range entries {
		ct := types[path.Ext(e.Name())]
		if ct == "" || e.IsDir() {
			continue
		}
		b, _ := fs.ReadFile(webFS, "web/"+e.Name())
		sum := sha256.Sum256(b)
		m[e.Name()] = webAsset{b, ct, `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
})

// asset serves GET /assets/{name}: the page's script and stylesheet, with
// an ETag so browsers revalidate cheaply after an upgrade.
func (h *Handler) asset(w http.ResponseWriter, r *http.Request) error {
	a, ok := webAssets()[r.PathValue("name")]
	if !ok {
		return errorf(http.StatusNotFound, "not_found", "no such asset")
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ct)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", a.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
	return nil
}

// favicon answers 204 so that browsers stop asking (and logs stay clean).
func (h *Handler) favicon(w http.ResponseWriter, r *http.Request) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
