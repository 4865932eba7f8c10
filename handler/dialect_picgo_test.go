package handler

import (
	"strings"
	"testing"

	"picbed/handler/fetch"
)

func TestPicgoUploadShapes(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name  string
		parts []formPart
		want  int // images in result
	}{
		{"list field, two files", []formPart{
			{field: "list", filename: "1732666000000.png", contentType: "image/png", data: clientPNG(t, 8, 8, 1)},
			{field: "list", filename: "/home/me/vault/photo.jpg", contentType: "image/jpeg", data: fixture(t, "phone.jpg")}}, 2},
		{"files field", []formPart{{field: "files", filename: "a.png", data: clientPNG(t, 8, 8, 2)}}, 1},
		{"any field name", []formPart{{field: "whatever", filename: "b.png", data: clientPNG(t, 8, 8, 3)}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.parts...)
			a := e.do(t, "POST", "/picgo/upload?secret="+clientToken, body, "Content-Type: "+ct)
			if a.status != 200 {
				t.Fatalf("status = %d: %s", a.status, a.body)
			}
			m := a.json(t)
			if m["success"] != true {
				t.Fatalf("success = %v: %s", m["success"], a.body)
			}
			res, _ := m["result"].([]any)
			full, _ := m["fullResult"].([]any)
			if len(res) != tt.want || len(full) != tt.want {
				t.Fatalf("got %d results and %d fullResults, want %d: %s", len(res), len(full), tt.want, a.body)
			}
			for i, r := range res {
				u, _ := r.(string)
				f, _ := full[i].(map[string]any)
				if !strings.HasPrefix(u, "https://img.example.com/img/") {
					t.Errorf("result[%d] = %q", i, u)
				}
				for _, k := range []string{"imgUrl", "url", "fileName", "key", "markdown", "width", "height"} {
					if _, ok := f[k]; !ok {
						t.Errorf("fullResult[%d] lacks %q: %v", i, k, f)
					}
				}
				if f["imgUrl"] != u || f["url"] != u {
					t.Errorf("fullResult[%d] imgUrl/url = %v/%v, want %q", i, f["imgUrl"], f["url"], u)
				}
				if !e.exists(f["key"].(string)) {
					t.Errorf("key %v was not stored", f["key"])
				}
			}
		})
	}
}

func TestPicgoAuth(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name    string
		query   string
		headers []string
		ok      bool
	}{
		{"secret query", "?secret=" + clientToken, nil, true},
		{"key query", "?key=" + clientToken, nil, true},
		{"X-PicGo-Secret", "", []string{"X-PicGo-Secret: " + clientToken}, true},
		{"bearer", "", []string{"Authorization: Bearer " + clientToken}, true},
		{"X-Upload-Token", "", []string{"X-Upload-Token: " + clientToken}, true},
		{"none", "", nil, false},
		{"wrong secret", "?secret=not-the-token-0123456", nil, false},
		{"right token in the wrong place", "?token=" + clientToken, nil, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "list", filename: "x.png", data: clientPNG(t, 6, 6, uint8(40+i))})
			a := e.do(t, "POST", "/picgo/upload"+tt.query, body, append(tt.headers, "Content-Type: "+ct)...)
			m := a.json(t)
			if a.status != 200 {
				t.Fatalf("status = %d, want 200 (PicGo-Server answers 200 and tells by success)", a.status)
			}
			if got := m["success"] == true; got != tt.ok {
				t.Fatalf("success = %v, want %v: %s", m["success"], tt.ok, a.body)
			}
			if !tt.ok {
				if msg, _ := m["message"].(string); !strings.Contains(msg, "secret") {
					t.Errorf("message = %q, want it to tell how to send the token", msg)
				}
				if got := a.header.Get("X-Picbed-Status"); got != "401" {
					t.Errorf("X-Picbed-Status = %q, want 401", got)
				}
			}
		})
	}
}

func TestPicgoErrors(t *testing.T) {
	e := newClientEnv(t, nil)
	auth := "X-PicGo-Secret: " + clientToken
	notImage, ct1 := multipartBody(t, formPart{field: "list", filename: "notes.txt", data: []byte("just text, not an image")})
	empty, ct2 := multipartBody(t, formPart{field: "other", data: []byte("no file")})
	tests := []struct {
		name       string
		body       string
		ct         string
		wantStatus string
		wantInMsg  string
	}{
		{"local paths (PicGo's local mode)", `{"list": ["/Users/me/vault/a.png"]}`, "application/json", "400", "remote server mode"},
		{"malformed JSON", `{"list": [`, "application/json", "400", "malformed"},
		{"not an image", readAllString(t, notImage), ct1, "415", "JPEG"},
		{"no file", readAllString(t, empty), ct2, "400", "list"},
		{"loopback URL refused by the fetcher", `{"list": ["` + e.srv.URL + `/x.png"]}`, "application/json", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, "POST", "/picgo/upload", strings.NewReader(tt.body), "Content-Type: "+tt.ct, auth)
			m := a.json(t)
			if a.status != 200 || m["success"] != false {
				t.Fatalf("status %d success %v, want 200 and false: %s", a.status, m["success"], a.body)
			}
			st := a.header.Get("X-Picbed-Status")
			if tt.wantStatus != "" && st != tt.wantStatus {
				t.Errorf("X-Picbed-Status = %q, want %q", st, tt.wantStatus)
			}
			if st == "" || st[0] != '4' && st[0] != '5' {
				t.Errorf("X-Picbed-Status = %q, want an error status", st)
			}
			if msg, _ := m["message"].(string); msg == "" || !strings.Contains(msg, tt.wantInMsg) {
				t.Errorf("message = %q, want it to contain %q", msg, tt.wantInMsg)
			}
		})
	}
}

// TestPicgoJSONList fetches every URL of {"list": [...]} (PicGo-Server's
// JSON form) through the SSRF-safe fetcher.
func TestPicgoJSONList(t *testing.T) {
	e := newClientEnv(t, nil, WithFetchOptions(fetch.Options{AllowLoopback: true}))
	origin := imageOrigin(t, map[string][]byte{"a.png": clientPNG(t, 10, 10, 5), "photo.jpg": fixture(t, "phone.jpg")})
	body := `{"list": ["` + origin.URL + `/a.png", "` + origin.URL + `/photo.jpg"]}`
	a := e.do(t, "POST", "/picgo/upload?key="+clientToken, strings.NewReader(body), "Content-Type: application/json")
	m := a.json(t)
	res, _ := m["result"].([]any)
	if a.status != 200 || m["success"] != true || len(res) != 2 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	if !strings.HasSuffix(str(res[0]), ".png") || !strings.HasSuffix(str(res[1]), ".jpg") {
		t.Errorf("result = %v, want the PNG then the JPEG", res)
	}
	a = e.do(t, "POST", "/picgo/upload?key="+clientToken, strings.NewReader(`{"list": ["`+origin.URL+`/missing.png"]}`), "Content-Type: application/json")
	if m := a.json(t); m["success"] != false || str(m["message"]) == "" {
		t.Errorf("a missing remote image: %s", a.body)
	}
}
