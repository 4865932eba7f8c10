package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalVariants(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	const key = "img/2026/11/a.jpg"
	if err := l.Put(ctx, key, []byte("original"), PutOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetVariant(ctx, key, "w640.jpg"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing variant: err = %v, want ErrNotFound", err)
	}
	if err := l.PutVariant(ctx, key, "w640.jpg", []byte("small")); err != nil {
		t.Fatal(err)
	}
	if b, err := l.GetVariant(ctx, key, "w640.jpg"); err != nil || string(b) != "small" {
		t.Fatalf("GetVariant = %q, %v", b, err)
	}
	for _, bad := range []string{"", "../x.jpg", "w640.jpg/../../a", ".w640.jpg", "w640", "640.jpg", "w640.jpg.exe"} {
		if err := l.PutVariant(ctx, key, bad, []byte("x")); err == nil {
			t.Errorf("PutVariant accepted the name %q", bad)
		}
	}
	if err := l.PutVariant(ctx, "../escape", "w640.jpg", []byte("x")); err == nil {
		t.Error("PutVariant accepted the key ../escape")
	}
	// Variants are never listed as images.
	res, err := l.List(ctx, ListQuery{})
	if err != nil || len(res.Objects) != 1 || res.Objects[0].Key != key || len(res.Prefixes) != 0 {
		t.Fatalf("List = %+v, %v; want only the image", res, err)
	}
	// They go with the image.
	if err := l.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetVariant(ctx, key, "w640.jpg"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after Delete: err = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, variantDir, filepath.FromSlash(key))); !os.IsNotExist(err) {
		t.Errorf("the variant directory is still there: %v", err)
	}
}
