package handler

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"picbed/handler/fetch"
)

func TestCheveretoUpload(t *testing.T) {
	e := newClientEnv(t, nil)
	png := clientPNG(t, 30, 20, 7)
	b64 := base64.StdEncoding.EncodeToString(png)
	file := func() (string, string) {
		b, ct := multipartBody(t, formPart{field: "source", filename: "shot.png", contentType: "image/png", data: png})
		return readAllString(t, b), ct
	}
	fb, fct := file()
	keyField, kct := multipartBody(t, formPart{field: "key", data: []byte(clientToken)}, formPart{field: "source", filename: "shot.png", data: png})
	b64Field, bct := multipartBody(t, formPart{field: "source", data: []byte(b64)}, formPart{field: "format", data: []byte("json")})
	form := url.Values{"key": {clientToken}, "image": {b64}}.Encode()
	tests := []struct {
		name    string
		query   string
		body    string
		headers []string
	}{
		{"ShareX: file part, X-API-Key", "?format=json", fb, []string{"Content-Type: " + fct, "X-API-Key: " + clientToken}},
		{"key in the query", "?key=" + clientToken, fb, []string{"Content-Type: " + fct}},
		{"key as a form field", "", readAllString(t, keyField), []string{"Content-Type: " + kct}},
		{"base64 source field", "", readAllString(t, b64Field), []string{"Content-Type: " + bct, "X-API-Key: " + clientToken}},
		{"ImgBB urlencoded image", "", form, []string{"Content-Type: application/x-www-form-urlencoded"}},
		{"bearer", "", fb, []string{"Content-Type: " + fct, "Authorization: Bearer " + clientToken}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "POST", "/api/1/upload"+tt.query, strings.NewReader(tt.body), tt.headers...)
			if a.status != 200 {
				t.Fatalf("status = %d: %s", a.status, a.body)
			}
			m := a.json(t)
			succ, _ := m["success"].(map[string]any)
			if m["status_code"] != float64(200) || m["status_txt"] != "OK" || succ["message"] != "image uploaded" || succ["code"] != float64(200) {
				t.Errorf("envelope = %s", a.body)
			}
			img, _ := m["image"].(map[string]any)
			for _, k := range []string{"name", "extension", "size", "width", "height", "url", "display_url", "thumb", "delete_url"} {
				if _, ok := img[k]; !ok {
					t.Errorf("image lacks %q", k)
				}
			}
			u := str(img["url"])
			thumb, _ := img["thumb"].(map[string]any)
			if !strings.HasPrefix(u, "https://img.example.com/img/") || img["display_url"] != u || thumb["url"] != u {
				t.Errorf("url %q, display_url %v, thumb.url %v", u, img["display_url"], thumb["url"])
			}
			if img["width"] != float64(30) || img["height"] != float64(20) || img["extension"] != "png" {
				t.Errorf("width/height/extension = %v/%v/%v", img["width"], img["height"], img["extension"])
			}
			if d := str(img["delete_url"]); !strings.HasPrefix(d, e.srv.URL+"/api/1/delete/img/") || !strings.Contains(d, "?sig=") {
				t.Errorf("delete_url = %q", d)
			}
		})
	}
}

func TestCheveretoText(t *testing.T) {
	e := newClientEnv(t, nil)
	b, ct := multipartBody(t, formPart{field: "source", filename: "a.png", data: clientPNG(t, 5, 5, 9)})
	a := e.do(t, "POST", "/api/1/upload?format=txt", b, "Content-Type: "+ct, "X-API-Key: "+clientToken)
	if a.status != 200 || !strings.HasPrefix(string(a.body), "https://img.example.com/img/") || strings.ContainsAny(string(a.body), "{\n") {
		t.Fatalf("format=txt: status %d, body %q, want the bare URL", a.status, a.body)
	}
}

func TestCheveretoErrors(t *testing.T) {
	e := newClientEnv(t, nil)
	b, ct := multipartBody(t, formPart{field: "source", filename: "a.png", data: clientPNG(t, 5, 5, 9)})
	fb := readAllString(t, b)
	key := "X-API-Key: " + clientToken
	tests := []struct {
		name    string
		query   string
		body    string
		headers []string
		want    int
	}{
		{"no key", "", fb, []string{"Content-Type: " + ct}, 401},
		{"wrong key", "", fb, []string{"Content-Type: " + ct, "X-API-Key: wrong-key-0123456789"}, 401},
		{"wrong key in the query", "?key=wrong-key-0123456789", fb, []string{"Content-Type: " + ct}, 401},
		{"no source", "", "", []string{"Content-Type: application/x-www-form-urlencoded", key}, 400},
		{"bad base64", "", "source=%%%not-base64", []string{"Content-Type: application/x-www-form-urlencoded", key}, 400},
		{"text is not an image", "", "source=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("hello there"))), []string{"Content-Type: application/x-www-form-urlencoded", key}, 415},
		{"bad format", "?format=xml", fb, []string{"Content-Type: " + ct, key}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "POST", "/api/1/upload"+tt.query, strings.NewReader(tt.body), tt.headers...)
			if a.status != tt.want {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.want, a.body)
			}
			m := a.json(t)
			er, _ := m["error"].(map[string]any)
			if m["status_code"] != float64(tt.want) || str(er["message"]) == "" || er["code"] != float64(tt.want) || m["status_txt"] == "" {
				t.Errorf("answer = %s, want Chevereto's {status_code, error: {message, code}, status_txt}", a.body)
			}
		})
	}
}

// TestCheveretoSourceURL uploads by URL (source=https://...), as ImgBB
// and Chevereto allow.
func TestCheveretoSourceURL(t *testing.T) {
	e := newClientEnv(t, nil, WithFetchOptions(fetch.Options{AllowLoopback: true}))
	origin := imageOrigin(t, map[string][]byte{"pic.png": clientPNG(t, 12, 9, 3)})
	a := e.do(t, "POST", "/api/1/upload?key="+clientToken+"&format=txt&source="+url.QueryEscape(origin.URL+"/pic.png"), nil)
	if a.status != 200 || !strings.HasPrefix(string(a.body), "https://img.example.com/img/") {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	refusing := newClientEnv(t, nil)
	a = refusing.do(t, "POST", "/api/1/upload?key="+clientToken+"&source="+url.QueryEscape(origin.URL+"/pic.png"), nil)
	if er, _ := a.json(t)["error"].(map[string]any); a.status < 400 || a.status >= 500 || str(er["message"]) == "" {
		t.Errorf("a loopback URL without the test option: status %d: %s", a.status, a.body)
	}
}
