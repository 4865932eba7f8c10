package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var ctx = context.Background()

func newLocal(t *testing.T) *Local {
	t.Helper()
	l, err := NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// tree lists every file and symlink under dir, relative.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out
}

func TestLocalPutGetStat(t *testing.T) {
	l := newLocal(t)
	data := []byte("\x89PNG not really")
	meta := map[string]string{"picbed": "1", "width": "3"}
	if err := l.Put(ctx, "img/2026/11/a.png", data, PutOptions{ContentType: "image/png", Meta: meta}); err != nil {
		t.Fatal(err)
	}
	b, o, err := l.Get(ctx, "img/2026/11/a.png")
	if err != nil || !bytes.Equal(b, data) {
		t.Fatalf("Get = %q, %v; want the bytes put", b, err)
	}
	if o.Key != "img/2026/11/a.png" || o.Size != int64(len(data)) || o.ContentType != "image/png" || o.Meta["width"] != "3" || o.Modified.IsZero() {
		t.Errorf("Object = %+v", o)
	}
	st, err := l.Stat(ctx, "img/2026/11/a.png")
	if err != nil || st.Size != o.Size || st.ContentType != o.ContentType {
		t.Errorf("Stat = %+v, %v; want %+v", st, err, o)
	}
	for _, f := range tree(t, l.Root()) {
		if strings.Contains(f, ".tmp-") {
			t.Errorf("temp file left behind: %s", f)
		}
	}
	if _, err := l.Stat(ctx, "img/none.png"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want ErrNotFound", err)
	}
	if _, _, err := l.Get(ctx, "img/2026"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(a directory) = %v, want ErrNotFound", err)
	}
}

// TestLocalAtomicOverwrite overwrites one key with two contents of
// different sizes while readers read it: every read sees one whole version.
func TestLocalAtomicOverwrite(t *testing.T) {
	l := newLocal(t)
	versions := [][]byte{bytes.Repeat([]byte("a"), 300_000), bytes.Repeat([]byte("b"), 7_000)}
	if err := l.Put(ctx, "k/x.jpg", versions[0], PutOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad sync.Map
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				b, _, err := l.Get(ctx, "k/x.jpg")
				if err != nil || !(bytes.Equal(b, versions[0]) || bytes.Equal(b, versions[1])) {
					bad.Store(len(b), err)
				}
			}
		}()
	}
	for i := range 60 {
		if err := l.Put(ctx, "k/x.jpg", versions[i%2], PutOptions{ContentType: "image/jpeg"}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	bad.Range(func(k, v any) bool {
		t.Errorf("a reader saw %v bytes (err %v): a partial object", k, v)
		return true
	})
	if got := tree(t, l.Root()); len(got) != 2 { // the object and its sidecar
		t.Errorf("files = %v, want the object and its sidecar only", got)
	}
}

func TestLocalRefusesEscapes(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "data")
	l, err := NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(parent, "outside")
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "secret.jpg"), []byte("secret"), 0o644)
	os.WriteFile(filepath.Join(parent, "passwd"), []byte("root:x"), 0o644)
	// a symlinked directory and a symlinked file inside the root, both
	// pointing outside: picbed decides never to follow them.
	if err := os.Symlink(outside, filepath.Join(root, "img")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(parent, "passwd"), filepath.Join(root, "passwd.jpg"))

	for _, key := range []string{"../passwd", "../outside/secret.jpg", "/etc/passwd", "a/../../passwd", `..\passwd`,
		"a//b.jpg", "./a.jpg", ".meta/x.json", "a/.hidden/b.jpg", ".picbed-token", "a\x00b.jpg", "a\u202eb.jpg", "",
		strings.Repeat("a", MaxKeyLen+1), "a\xffb.jpg"} {
		t.Run(fmt.Sprintf("%.30q", key), func(t *testing.T) {
			err := l.Put(ctx, key, []byte("x"), PutOptions{ContentType: "image/jpeg"})
			var se *Error
			if !errors.As(err, &se) || se.HTTPStatus() != http.StatusBadRequest {
				t.Errorf("Put = %v, want a 400 storage error", err)
			}
			if _, err := l.Stat(ctx, key); err == nil {
				t.Errorf("Stat succeeded")
			}
			if err := l.Delete(ctx, key); err == nil {
				t.Errorf("Delete succeeded")
			}
		})
	}
	t.Run("through a symlinked directory", func(t *testing.T) {
		if err := l.Put(ctx, "img/new.jpg", []byte("x"), PutOptions{}); err == nil {
			t.Errorf("Put through a symlink to outside succeeded")
		}
		if _, err := l.Stat(ctx, "img/secret.jpg"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Stat(img/secret.jpg) = %v, want ErrNotFound", err)
		}
		if _, _, err := l.Get(ctx, "img/secret.jpg"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(img/secret.jpg) = %v, want ErrNotFound", err)
		}
		if _, _, err := l.Get(ctx, "passwd.jpg"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(symlinked file) = %v, want ErrNotFound", err)
		}
		l.Delete(ctx, "img/secret.jpg")
		if _, err := os.Stat(filepath.Join(outside, "secret.jpg")); err != nil {
			t.Errorf("Delete removed a file outside the root: %v", err)
		}
		if _, err := os.Stat(filepath.Join(outside, "new.jpg")); err == nil {
			t.Errorf("Put wrote outside the root")
		}
		res, err := l.List(ctx, ListQuery{})
		if err != nil || len(res.Objects) != 0 || len(res.Prefixes) != 0 {
			t.Errorf("List = %+v, %v; want nothing (symlinks are not objects)", res, err)
		}
	})
}

// TestMissingByErrorValue: an os.Root escape is told by its error value;
// a real I/O failure whose text happens to read the same is a failure.
func TestMissingByErrorValue(t *testing.T) {
	l := newLocal(t)
	os.Symlink(t.TempDir(), filepath.Join(l.Root(), "out"))
	_, err := l.r.Lstat("out/x.jpg")
	if err == nil || !missing(err) {
		t.Errorf("missing(%v) = false, want true (an escape through a symlink)", err)
	}
	if fake := errors.New("disk I/O: path escapes from parent"); missing(fake) {
		t.Errorf("missing(%q) = true: matched by its text, not its value", fake)
	}
}

func TestLocalDelete(t *testing.T) {
	l := newLocal(t)
	l.Put(ctx, "img/a.png", []byte("a"), PutOptions{ContentType: "image/png", Meta: map[string]string{"x": "y"}})
	if err := l.Delete(ctx, "img/a.png"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Stat(ctx, "img/a.png"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat after Delete = %v, want ErrNotFound", err)
	}
	if err := l.Delete(ctx, "img/a.png"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil as OSS does", err)
	}
	for _, f := range tree(t, l.Root()) {
		t.Errorf("left behind: %s", f)
	}
}

func TestCheckKey(t *testing.T) {
	for _, ok := range []string{"img/2026/11/abc.jpg", "a.png", "猫/照片.jpg", "a b/c-d_e.webp"} {
		if err := CheckKey(ok); err != nil {
			t.Errorf("CheckKey(%q) = %v, want ok", ok, err)
		}
	}
}
