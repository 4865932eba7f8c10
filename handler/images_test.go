package handler

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListImages(t *testing.T) {
	e := newClientEnv(t, nil)
	var keys []string
	for i := 0; i < 5; i++ {
		k := e.uploadPNG(t, uint8(i))
		// Distinct times, oldest first, whatever the file system's resolution.
		ts := time.Now().Add(time.Duration(i-10) * time.Minute)
		if err := os.Chtimes(filepath.Join(e.dir, filepath.FromSlash(k)), ts, ts); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	// Something outside the key template's folder is never listed.
	os.MkdirAll(filepath.Join(e.dir, "inbox"), 0o755)
	os.WriteFile(filepath.Join(e.dir, "inbox", "raw.png"), clientPNG(t, 4, 4, 99), 0o644)

	auth := "Authorization: Bearer " + clientToken
	var got []string
	cursor := ""
	for page := 0; page < 4; page++ {
		a := e.do(t, "GET", "/api/images?limit=2&cursor="+url.QueryEscape(cursor), nil, auth)
		if a.status != 200 {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		m := a.json(t)
		imgs, _ := m["images"].([]any)
		for _, it := range imgs {
			im := it.(map[string]any)
			for _, f := range []string{"key", "url", "markdown", "html", "size", "time"} {
				if _, ok := im[f]; !ok {
					t.Errorf("image lacks %q: %v", f, im)
				}
			}
			if !strings.HasPrefix(str(im["url"]), "https://img.example.com/img/") || im["format"] != "png" {
				t.Errorf("url %v format %v", im["url"], im["format"])
			}
			got = append(got, str(im["key"]))
		}
		cursor = str(m["next_cursor"])
		if cursor == "" {
			break
		}
		if page == 0 { // the gallery's Delete on the last tile must not lose the next page
			if a := e.do(t, "DELETE", "/api/images/"+got[len(got)-1], nil, auth); a.status != 200 {
				t.Fatalf("delete: %d %s", a.status, a.body)
			}
		}
	}
	want := []string{keys[4], keys[3], keys[2], keys[1], keys[0]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("listed\n%v\nwant newest first\n%v", got, want)
	}
}

func TestImagesErrors(t *testing.T) {
	e := newClientEnv(t, nil)
	key := e.uploadPNG(t, 1)
	os.MkdirAll(filepath.Join(e.dir, "inbox"), 0o755)
	os.WriteFile(filepath.Join(e.dir, "inbox", "raw.png"), clientPNG(t, 4, 4, 99), 0o644)
	auth := "Authorization: Bearer " + clientToken
	tests := []struct {
		name    string
		method  string
		path    string
		headers []string
		want    int
	}{
		{"list without token", "GET", "/api/images", nil, 401},
		{"list with wrong token", "GET", "/api/images", []string{"Authorization: Bearer wrong-wrong-wrong-wrong"}, 401},
		{"limit 0", "GET", "/api/images?limit=0", []string{auth}, 400},
		{"limit too big", "GET", "/api/images?limit=1000", []string{auth}, 400},
		{"limit not a number", "GET", "/api/images?limit=ten", []string{auth}, 400},
		{"cursor outside the prefix", "GET", "/api/images?cursor=inbox/raw.png", []string{auth}, 400},
		{"delete without token", "DELETE", "/api/images/" + key, nil, 401},
		{"delete outside the prefix", "DELETE", "/api/images/inbox/raw.png", []string{auth}, 403},
		{"delete a hidden file", "DELETE", "/api/images/img/.meta/x.json", []string{auth}, 400},
		{"delete missing", "DELETE", "/api/images/img/2020/01/missing.png", []string{auth}, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, nil, tt.headers...)
			if a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
			if m := a.json(t); str(m["error"]) == "" || str(m["message"]) == "" {
				t.Errorf("answer = %s, want {error, message}", a.body)
			}
		})
	}
	if !e.exists(key) || !e.exists("inbox/raw.png") {
		t.Fatal("a refused delete deleted something")
	}
	a := e.do(t, "DELETE", "/api/images/"+key, nil, auth)
	if a.status != 200 || str(a.json(t)["deleted"]) != key || e.exists(key) {
		t.Fatalf("delete: status %d %s; still stored: %v", a.status, a.body, e.exists(key))
	}
}
