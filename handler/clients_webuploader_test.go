package handler

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPicGoWebUploader sends POST /upload exactly as picgo-plugin-web-uploader
// does (request library form-data: the file under the user's paramName,
// the customBody fields as more form fields, User-Agent PicGo, the
// plugin's literal "contentType" header and the customHeader headers) and
// reads the link the way the plugin does: JSON.parse, then jsonPath split
// on dots.
func TestPicGoWebUploader(t *testing.T) {
	e := newClientEnv(t, nil)
	customBody := map[string]string{"album": "blog", "strategy_id": "1", "token": "ignored-by-picbed"}
	tests := []struct {
		name       string
		paramName  string
		jsonPath   string
		header     string // customHeader, as JSON
		wantStatus int
	}{
		{"file field, bearer", "file", "url", `{"Authorization": "Bearer ` + clientToken + `"}`, 200},
		{"custom field, X-Upload-Token", "image", "url", `{"X-Upload-Token": "` + clientToken + `"}`, 200},
		{"markdown path", "smfile", "markdown", `{"Authorization": "Bearer ` + clientToken + `"}`, 200},
		{"nested path", "file", "source.format", `{"Authorization": "Bearer ` + clientToken + `"}`, 200},
		{"wrong token", "file", "url", `{"Authorization": "Bearer wrong-token-0123456789"}`, 401},
		{"no token", "file", "url", `{}`, 401},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := []formPart{{field: tt.paramName, filename: "Screenshot 2026-11-27.png", contentType: "image/png", data: clientPNG(t, 20, 10, uint8(i))}}
			for k, v := range customBody {
				parts = append(parts, formPart{field: k, data: []byte(v)})
			}
			body, ct := multipartBody(t, parts...)
			headers := []string{"Content-Type: " + ct, "User-Agent: PicGo", "contentType: multipart/form-data"}
			var custom map[string]string
			if err := json.Unmarshal([]byte(tt.header), &custom); err != nil {
				t.Fatal(err)
			}
			for k, v := range custom {
				headers = append(headers, k+": "+v)
			}
			a := e.do(t, "POST", "/upload", body, headers...)
			if a.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d: %s", a.status, tt.wantStatus, a.body)
			}
			m := a.json(t)
			if tt.wantStatus != 200 {
				if msg, _ := m["message"].(string); msg == "" || m["error"] != "unauthorized" {
					t.Errorf("error answer = %s, want {error: unauthorized, message: ...} for PicGo to show", a.body)
				}
				return
			}
			got, _ := walkJSON(m, tt.jsonPath).(string)
			if got == "" {
				t.Fatalf("jsonPath %q found nothing in %s", tt.jsonPath, a.body)
			}
			if tt.jsonPath == "url" && !strings.HasPrefix(got, "https://img.example.com/img/") {
				t.Errorf("url = %q, want a link under the public URL", got)
			}
			if tt.jsonPath == "markdown" && !strings.HasPrefix(got, "![Screenshot 2026-11-27](https://img.example.com/img/") {
				t.Errorf("markdown = %q", got)
			}
		})
	}
}

// TestShortcutRecipes sends what the README's iOS Shortcuts, Android HTTP
// Shortcuts and Typora "Custom Command" recipes send: one multipart file
// under "file", the token as Bearer, and output=markdown or output=text.
func TestShortcutRecipes(t *testing.T) {
	e := newClientEnv(t, nil)
	tests := []struct {
		name, output, prefix string
	}{
		{"iOS / Android: markdown", "markdown", "![IMG_4242](https://img.example.com/img/"},
		{"Typora custom command: text", "text", "https://img.example.com/img/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, ct := multipartBody(t, formPart{field: "file", filename: "IMG_4242.jpg", contentType: "image/jpeg", data: fixture(t, "phone.jpg")})
			a := e.do(t, "POST", "/upload?output="+tt.output, body, "Content-Type: "+ct, "Authorization: Bearer "+clientToken)
			got := string(a.body)
			if a.status != 200 || !strings.HasPrefix(got, tt.prefix) || !strings.HasSuffix(got, "\n") || strings.Count(got, "\n") != 1 {
				t.Fatalf("status %d, body %q; want one line starting %q", a.status, got, tt.prefix)
			}
			if !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain") {
				t.Errorf("Content-Type = %q, want text/plain (a shortcut copies it as text)", a.header.Get("Content-Type"))
			}
		})
	}
}
