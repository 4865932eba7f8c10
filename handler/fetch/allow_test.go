package fetch

import (
	"context"
	"net/http"
	"testing"
)

// TestAllowOriginsExactly: the configured CMS origin passes on a loopback
// address; another port on the same address, and a redirect from the
// allowed origin to it, stay refused and are never requested.
func TestAllowOriginsExactly(t *testing.T) {
	img := phone(t)
	other := newOrigin(t, serveBytes(img))
	cms := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jump" {
			http.Redirect(w, r, other.URL+"/a.jpg", http.StatusFound)
			return
		}
		serveBytes(img)(w, r)
	})
	f := New(Options{AllowOrigins: []string{cms.URL, "not a url", "ftp://x"}})
	ctx := context.Background()
	if res, err := f.Get(ctx, cms.URL+"/content/images/a.jpg"); err != nil || len(res.Data) != len(img) {
		t.Fatalf("the allowed origin: %v", err)
	}
	if _, err := f.Get(ctx, other.URL+"/a.jpg"); err == nil {
		t.Error("another loopback port was fetched")
	} else {
		wantKind(t, err, KindRefused, http.StatusBadRequest)
	}
	if _, err := f.Get(ctx, cms.URL+"/jump"); err == nil {
		t.Error("a redirect from the allowed origin to another private address was followed")
	}
	if _, err := f.Get(ctx, "http://127.0.0.1:9/never.png"); err == nil {
		t.Error("127.0.0.1:9 was not refused")
	}
	if other.hits.Load() != 0 {
		t.Errorf("the refused origin answered %d requests", other.hits.Load())
	}
	if _, err := New(Options{}).Get(ctx, cms.URL+"/a.jpg"); err == nil {
		t.Error("without AllowOrigins the CMS origin was fetched")
	}
}
