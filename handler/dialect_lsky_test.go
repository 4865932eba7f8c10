package handler

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestLskyUpload(t *testing.T) {
	e := newClientEnv(t, nil)
	photo := fixture(t, "phone.jpg")
	body, ct := multipartBody(t, formPart{field: "file", filename: "IMG_0001.jpg", contentType: "image/jpeg", data: photo},
		formPart{field: "strategy_id", data: []byte("1")}, formPart{field: "permission", data: []byte("1")})
	a := e.do(t, "POST", "/api/v1/upload", body, "Content-Type: "+ct, "Authorization: Bearer "+clientToken, "Accept: application/json")
	if a.status != 200 {
		t.Fatalf("status = %d: %s", a.status, a.body)
	}
	m := a.json(t)
	if m["status"] != true || m["message"] == "" {
		t.Fatalf("status/message = %v/%v", m["status"], m["message"])
	}
	d, _ := m["data"].(map[string]any)
	for _, k := range []string{"key", "name", "pathname", "origin_name", "size", "mimetype", "extension", "md5", "sha1", "links"} {
		if _, ok := d[k]; !ok {
			t.Errorf("data lacks %q", k)
		}
	}
	links, _ := d["links"].(map[string]any)
	for _, k := range []string{"url", "html", "bbcode", "markdown", "markdown_with_link", "thumbnail_url", "delete_url"} {
		if s, _ := links[k].(string); s == "" {
			t.Errorf("links.%s is empty", k)
		}
	}
	m5, s1 := md5.Sum(photo), sha1.Sum(photo)
	key, _ := d["key"].(string)
	u, _ := links["url"].(string)
	checks := []struct{ name, got, want string }{
		{"origin_name", str(d["origin_name"]), "IMG_0001.jpg"},
		{"pathname", str(d["pathname"]), key},
		{"mimetype", str(d["mimetype"]), "image/jpeg"},
		{"extension", str(d["extension"]), "jpg"},
		{"md5", str(d["md5"]), hex.EncodeToString(m5[:])},
		{"sha1", str(d["sha1"]), hex.EncodeToString(s1[:])},
		{"url", u, "https://img.example.com/" + key},
		{"bbcode", str(links["bbcode"]), "[img]" + u + "[/img]"},
		{"markdown", str(links["markdown"]), "![IMG_0001](" + u + ")"},
		{"markdown_with_link", str(links["markdown_with_link"]), "[![IMG_0001](" + u + ")](" + u + ")"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if size, _ := d["size"].(float64); size <= 0 || size > float64(len(photo))/1024+1 {
		t.Errorf("size = %v KiB, want the stored size in KiB", d["size"])
	}
	if !e.exists(key) {
		t.Errorf("%s not stored", key)
	}
}

func TestLskyAuth(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"Bearer", "Authorization: Bearer " + clientToken, 200},
		{"bare Authorization", "Authorization: " + clientToken, 200},
		{"Lsky v1 token header", "Token: " + clientToken, 200},
		{"X-Upload-Token", "X-Upload-Token: " + clientToken, 200},
		{"wrong bare Authorization", "Authorization: x" + clientToken, 401},
		{"Basic is not a token", "Authorization: Basic " + clientToken, 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "file", filename: "a.png", data: clientPNG(t, 4, 4, uint8(60+i))})
			a := e.do(t, "POST", "/api/v1/upload", body, "Content-Type: "+ct, tt.header)
			if a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
			if got := a.json(t)["status"] == true; got != (tt.want == 200) {
				t.Errorf("status field = %v", a.json(t)["status"])
			}
		})
	}
}

func TestLskyErrors(t *testing.T) {
	e := newClientEnv(t, nil)
	one, ct1 := multipartBody(t, formPart{field: "file", filename: "a.png", data: clientPNG(t, 4, 4, 1)})
	two, ct2 := multipartBody(t, formPart{field: "file", filename: "a.png", data: clientPNG(t, 4, 4, 1)}, formPart{field: "file", filename: "b.png", data: clientPNG(t, 4, 4, 2)})
	txt, ct3 := multipartBody(t, formPart{field: "file", filename: "a.txt", data: []byte("hello")})
	none, ct4 := multipartBody(t, formPart{field: "strategy_id", data: []byte("1")})
	auth := "Authorization: Bearer " + clientToken
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		want    int
	}{
		{"upload without token", "POST", "/api/v1/upload", readAllString(t, one), []string{"Content-Type: " + ct1}, 401},
		{"upload with wrong token", "POST", "/api/v1/upload", "", []string{"Authorization: Bearer nope-nope-nope-nope-nope"}, 401},
		{"two files", "POST", "/api/v1/upload", readAllString(t, two), []string{"Content-Type: " + ct2, auth}, 400},
		{"not an image", "POST", "/api/v1/upload", readAllString(t, txt), []string{"Content-Type: " + ct3, auth}, 415},
		{"no file", "POST", "/api/v1/upload", readAllString(t, none), []string{"Content-Type: " + ct4, auth}, 400},
		{"list without token", "GET", "/api/v1/images", "", nil, 401},
		{"list bad page", "GET", "/api/v1/images?page=0", "", []string{auth}, 400},
		{"delete outside the prefix", "DELETE", "/api/v1/images/inbox/x.jpg", "", []string{auth}, 403},
		{"delete missing", "DELETE", "/api/v1/images/img/2026/11/nothing.jpg", "", []string{auth}, 404},
		{"delete without token", "DELETE", "/api/v1/images/img/2026/11/nothing.jpg", "", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.method, tt.path, strings.NewReader(tt.body), tt.headers...)
			if a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
			m := a.json(t)
			d, isObj := m["data"].(map[string]any)
			if m["status"] != false || str(m["message"]) == "" || !isObj || len(d) != 0 {
				t.Errorf("answer = %s, want {status: false, message, data: {}}", a.body)
			}
		})
	}
}

func TestLskyListAndDelete(t *testing.T) {
	e := newClientEnv(t, nil)
	var keys []string
	for i := 0; i < 3; i++ {
		keys = append(keys, e.uploadPNG(t, uint8(i)))
	}
	auth := "Authorization: Bearer " + clientToken
	seen := map[string]bool{}
	for _, page := range []struct {
		n, items, last int
	}{{1, 2, 2}, {2, 1, 2}, {3, 0, 3}} {
		a := e.do(t, "GET", "/api/v1/images?per_page=2&page="+strconv.Itoa(page.n), nil, auth)
		if a.status != 200 {
			t.Fatalf("page %d: status %d: %s", page.n, a.status, a.body)
		}
		d, _ := a.json(t)["data"].(map[string]any)
		items, _ := d["data"].([]any)
		if len(items) != page.items || d["current_page"] != float64(page.n) || d["last_page"] != float64(page.last) || d["per_page"] != float64(2) {
			t.Errorf("page %d: %d items, current %v, last %v, per %v; want %d items, last %d", page.n, len(items), d["current_page"], d["last_page"], d["per_page"], page.items, page.last)
		}
		for _, it := range items {
			im := it.(map[string]any)
			seen[str(im["key"])] = true
			if l, _ := im["links"].(map[string]any); str(l["url"]) == "" || str(im["date"]) == "" || str(im["mimetype"]) != "image/png" {
				t.Errorf("item lacks links.url, date or mimetype: %v", im)
			}
		}
	}
	for _, k := range keys {
		if !seen[k] {
			t.Errorf("%s was not listed", k)
		}
	}
	// The key goes in the path as is or escaped (%2F), as clients differ.
	for i, p := range []string{"/api/v1/images/" + keys[0], "/api/v1/images/" + url.PathEscape(keys[1])} {
		a := e.do(t, "DELETE", p, nil, auth)
		if a.status != 200 || a.json(t)["status"] != true {
			t.Fatalf("delete %s: status %d: %s", p, a.status, a.body)
		}
		if e.exists(keys[i]) {
			t.Errorf("%s still stored after delete", keys[i])
		}
	}
	if !e.exists(keys[2]) {
		t.Errorf("%s was deleted too", keys[2])
	}
}

func str(v any) string { s, _ := v.(string); return s }
