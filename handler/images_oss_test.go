package handler

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"picbed/storage"
	"picbed/storage/osstest"
)

// TestGalleryOverOSS runs the gallery and the Lsky listing against the
// fake OSS: its listing has no content type or metadata, which the
// handler looks up per object, and deletes reach the bucket.
func TestGalleryOverOSS(t *testing.T) {
	cred := osstest.Credential{ID: "LTAI-test", Secret: "secret-for-tests", Token: "sts-token"}
	fake := osstest.New(cred, "blog")
	t.Cleanup(fake.Close)
	store, err := storage.NewOSS(storage.OSSConfig{Endpoint: fake.Endpoint(), Bucket: "blog",
		Credentials: func(context.Context) (storage.Credentials, error) {
			return storage.Credentials{AccessKeyID: cred.ID, AccessKeySecret: cred.Secret, SecurityToken: cred.Token}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig("https://img.example.com")
	cfg.Tokens, cfg.OSSBucket = []string{clientToken}, "blog"
	srv := httptest.NewServer(New(cfg, store))
	t.Cleanup(srv.Close)
	e := &clientEnv{srv: srv}
	keys := []string{e.uploadPNG(t, 1), e.uploadPNG(t, 2)}
	fake.Seed("blog", "inbox/raw.jpg", osstest.Object{Data: fixture(t, "phone.jpg"), ContentType: "image/jpeg"})
	auth := "Authorization: Bearer " + clientToken

	heads, lists := fake.Count("HeadObject", "")+fake.Count("GetObjectMeta", ""), fake.Count("ListObjectsV2", "")
	a := e.do(t, "GET", "/api/images", nil, auth)
	imgs, _ := a.json(t)["images"].([]any)
	if a.status != 200 || len(imgs) != 2 {
		t.Fatalf("status %d, %d images, want 2 (the inbox is not listed): %s", a.status, len(imgs), a.body)
	}
	for _, it := range imgs {
		im := it.(map[string]any)
		if im["width"] != float64(16) || im["height"] != float64(12) || im["format"] != "png" || im["name"] != "p.png" {
			t.Errorf("image %v: want width 16, height 12, format png, name p.png from the object's metadata", im)
		}
	}
	// The listing is walked by folder (img/, img/2026/, the month), and only
	// the page's own images are looked up for their metadata.
	if n := fake.Count("ListObjectsV2", "") - lists; n != 3 {
		t.Errorf("the gallery made %d LIST requests, want 3", n)
	}
	if n := fake.Count("HeadObject", "") + fake.Count("GetObjectMeta", "") - heads; n > len(imgs) {
		t.Errorf("the gallery made %d HEAD requests for %d images", n, len(imgs))
	}
	a = e.do(t, "GET", "/api/v1/images", nil, auth)
	d, _ := a.json(t)["data"].(map[string]any)
	items, _ := d["data"].([]any)
	if len(items) != 2 || str(items[0].(map[string]any)["mimetype"]) != "image/png" {
		t.Errorf("lsky list: %s", a.body)
	}
	if a := e.do(t, "DELETE", "/api/images/"+keys[0], nil, auth); a.status != 200 {
		t.Fatalf("delete: status %d: %s", a.status, a.body)
	}
	if _, ok := fake.Object("blog", keys[0]); ok {
		t.Errorf("%s is still in the bucket", keys[0])
	}
	if a := e.do(t, "DELETE", "/api/images/inbox/raw.jpg", nil, auth); a.status != 403 {
		t.Errorf("delete in the inbox: status %d, want 403", a.status)
	}
	if got := strings.Join(fake.Keys("blog"), " "); got != keys[1]+" inbox/raw.jpg" {
		t.Errorf("bucket holds %q", got)
	}
}
