package handler

import (
	"net/url"
	"strings"
	"testing"
)

// uploadForDeleteURL stores an image through the Chevereto dialect and
// returns its key and delete_url (made relative to the test server).
func (e *clientEnv) uploadForDeleteURL(t *testing.T, seed uint8) (key, link string) {
	t.Helper()
	b, ct := multipartBody(t, formPart{field: "source", filename: "a.png", data: clientPNG(t, 6, 6, seed)})
	a := e.do(t, "POST", "/api/1/upload", b, "Content-Type: "+ct, "X-API-Key: "+clientToken)
	img, _ := a.json(t)["image"].(map[string]any)
	key, link = str(img["key"]), str(img["delete_url"])
	if key == "" || !strings.HasPrefix(link, e.srv.URL) {
		t.Fatalf("upload answered key %q delete_url %q", key, link)
	}
	return key, strings.TrimPrefix(link, e.srv.URL)
}

func TestDeleteLink(t *testing.T) {
	e := newClientEnv(t, nil)
	key, link := e.uploadForDeleteURL(t, 1)
	other, _ := e.uploadForDeleteURL(t, 2)
	u, _ := url.Parse(link)
	sig := u.Query().Get("sig")
	alteredSig := []byte(sig)
	alteredSig[5] ^= 1
	if alteredSig[5] == '-' || alteredSig[5] == '_' {
		alteredSig[5] = 'A'
	}
	tests := []struct {
		name string
		path string
		want int
	}{
		{"altered key", "/api/1/delete/" + other + "?sig=" + sig, 403},
		{"altered signature", u.Path + "?sig=" + string(alteredSig), 403},
		{"truncated signature", u.Path + "?sig=" + sig[:20], 403},
		{"no signature", u.Path, 403},
		{"signature of another key", "/api/1/delete/" + key + "x?sig=" + sig, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{"GET", "POST", "DELETE"} {
				a := e.do(t, method, tt.path, strings.NewReader(""), "Content-Type: application/x-www-form-urlencoded")
				if a.status != tt.want {
					t.Errorf("%s: status = %d, want %d: %s", method, a.status, tt.want, a.body)
				}
			}
			if !e.exists(key) || !e.exists(other) {
				t.Fatal("an image was deleted by a bad link")
			}
		})
	}

	t.Run("GET only asks", func(t *testing.T) {
		a := e.do(t, "GET", link, nil)
		page := string(a.body)
		if a.status != 200 || !strings.Contains(page, `<form method="post"`) || !strings.Contains(page, `name="sig" value="`+sig+`"`) {
			t.Fatalf("status %d, page %s", a.status, page)
		}
		if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP = %q", csp)
		}
		if !e.exists(key) {
			t.Fatal("GET deleted the image")
		}
	})
	t.Run("the form's POST deletes that image only", func(t *testing.T) {
		form := url.Values{"sig": {sig}}.Encode()
		a := e.do(t, "POST", u.Path, strings.NewReader(form), "Content-Type: application/x-www-form-urlencoded")
		if a.status != 200 || !strings.Contains(string(a.body), "Deleted") {
			t.Fatalf("status %d: %s", a.status, a.body)
		}
		if e.exists(key) || !e.exists(other) {
			t.Fatalf("after delete: %s exists %v, %s exists %v", key, e.exists(key), other, e.exists(other))
		}
		if a := e.do(t, "DELETE", link, nil); a.status != 404 {
			t.Errorf("second delete: status %d, want 404", a.status)
		}
	})
}

func TestDeleteLinkSecret(t *testing.T) {
	withSecret := newClientEnv(t, func(c *Config) { c.DeleteSecret = "a-delete-secret-of-some-length" })
	plain := newClientEnv(t, nil)
	anonymous := newClientEnv(t, func(c *Config) { c.Tokens, c.AllowAnonymous = nil, true })
	k1, l1 := withSecret.uploadForDeleteURL(t, 3)
	k2, l2 := plain.uploadForDeleteURL(t, 3)
	if k1 != k2 {
		t.Fatalf("same image, different keys %q %q", k1, k2)
	}
	if l1 == l2 {
		t.Error("PICBED_DELETE_SECRET did not change the signature")
	}
	if a := plain.do(t, "DELETE", l1, nil); a.status != 403 {
		t.Errorf("a link signed with another secret: status %d, want 403", a.status)
	}
	if a := withSecret.do(t, "DELETE", l1, nil); a.status != 200 {
		t.Errorf("DELETE on the link: status %d: %s", a.status, a.body)
	}

	b, ct := multipartBody(t, formPart{field: "source", filename: "a.png", data: clientPNG(t, 6, 6, 4)})
	a := anonymous.do(t, "POST", "/api/1/upload", b, "Content-Type: "+ct)
	img, _ := a.json(t)["image"].(map[string]any)
	if a.status != 200 || img["delete_url"] != nil {
		t.Errorf("anonymous without a secret: status %d, delete_url %v; want no delete link", a.status, img["delete_url"])
	}
	if a := anonymous.do(t, "GET", "/api/1/delete/"+str(img["key"])+"?sig=x", nil); a.status != 404 {
		t.Errorf("delete links off: status %d, want 404", a.status)
	}
}

func TestDeleteSigProperties(t *testing.T) {
	k := []byte("0123456789abcdef0123456789abcdef")
	sig := deleteSig(k, "img/a.png")
	tests := []struct {
		name, key, sig string
		want           bool
	}{
		{"valid", "img/a.png", sig, true},
		{"other key", "img/b.png", sig, false},
		{"prefix of the key", "img/a.pn", sig, false},
		{"empty signature", "img/a.png", "", false},
		{"padded signature", "img/a.png", sig + "=", false},
		{"not base64", "img/a.png", "!!!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validDeleteSig(k, tt.key, tt.sig); got != tt.want {
				t.Errorf("validDeleteSig(%q, %q) = %v, want %v", tt.key, tt.sig, got, tt.want)
			}
		})
	}
	if validDeleteSig(nil, "img/a.png", sig) {
		t.Error("a nil key validated a signature")
	}
}
