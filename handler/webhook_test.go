package handler

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rhNow = time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)

func rhMAC(secret string, parts ...string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

// Signers for each scheme, as each CMS computes them.
func ghostSig(secret, body string, at time.Time) string {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	return "sha256=" + hex.EncodeToString(rhMAC(secret, body, ts)) + ", t=" + ts
}

func githubSig(secret, body string) string {
	return "sha256=" + hex.EncodeToString(rhMAC(secret, body))
}

func wpSig(secret, body string) string {
	return base64.StdEncoding.EncodeToString(rhMAC(secret, body))
}

func TestWebhookSignatures(t *testing.T) {
	e := newRhEnv(t, nil, WithClock(func() time.Time { return rhNow }))
	body := `{"markdown": "no images here"}`
	altered := `{"markdown": "no images here!"}`
	ts := strconv.FormatInt(rhNow.UnixMilli(), 10)
	tests := []struct {
		name    string
		headers []string
		body    string
		status  int
	}{
		{"ghost valid", []string{"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow)}, body, 200},
		{"ghost valid, 4 minutes old", []string{"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow.Add(-4*time.Minute))}, body, 200},
		{"ghost body altered", []string{"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow)}, altered, 401},
		{"ghost wrong secret", []string{"X-Ghost-Signature", ghostSig("another-secret-0123456789", body, rhNow)}, body, 401},
		{"ghost stale", []string{"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow.Add(-6*time.Minute))}, body, 401},
		{"ghost from the future", []string{"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow.Add(6*time.Minute))}, body, 401},
		{"ghost timestamp swapped", []string{"X-Ghost-Signature", strings.Replace(ghostSig(rhSecret, body, rhNow.Add(-time.Minute)), "t=", "t=1", 1)}, body, 401},
		{"ghost over the body only", []string{"X-Ghost-Signature", githubSig(rhSecret, body) + ", t=" + ts}, body, 401},
		{"ghost over timestamp+body", []string{"X-Ghost-Signature", "sha256=" + hex.EncodeToString(rhMAC(rhSecret, ts, body)) + ", t=" + ts}, body, 401},
		{"ghost without t", []string{"X-Ghost-Signature", githubSig(rhSecret, body)}, body, 401},
		{"ghost malformed", []string{"X-Ghost-Signature", "sha256=zz, t=1"}, body, 401},
		{"github valid", []string{"X-Hub-Signature-256", githubSig(rhSecret, body)}, body, 200},
		{"github body altered", []string{"X-Hub-Signature-256", githubSig(rhSecret, body)}, altered, 401},
		{"github wrong secret", []string{"X-Hub-Signature-256", githubSig("another-secret-0123456789", body)}, body, 401},
		{"github without prefix", []string{"X-Hub-Signature-256", hex.EncodeToString(rhMAC(rhSecret, body))}, body, 401},
		{"github base64", []string{"X-Hub-Signature-256", "sha256=" + wpSig(rhSecret, body)}, body, 401},
		{"wp valid", []string{"X-WP-Webhook-Signature", wpSig(rhSecret, body)}, body, 200},
		{"wp body altered", []string{"X-WP-Webhook-Signature", wpSig(rhSecret, body)}, altered, 401},
		{"wp wrong secret", []string{"X-WP-Webhook-Signature", wpSig("another-secret-0123456789", body)}, body, 401},
		{"wp hex", []string{"X-WP-Webhook-Signature", hex.EncodeToString(rhMAC(rhSecret, body))}, body, 401},
		{"bearer valid", []string{"Authorization", "Bearer " + rhSecret}, body, 200},
		{"bearer wrong", []string{"Authorization", "Bearer another-secret-0123456789"}, body, 401},
		{"bearer prefix of the secret", []string{"Authorization", "Bearer " + rhSecret[:20]}, body, 401},
		{"upload token is not the webhook secret", []string{"Authorization", "Bearer " + rhToken}, body, 401},
		{"missing", nil, body, 401},
		{"basic auth", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+rhSecret))}, body, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader(tt.body), tt.headers...)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status == 401 {
				msg, _ := m["message"].(string)
				if m["error"] == nil || msg == "" || strings.Contains(msg, rhSecret) {
					t.Errorf("answer %v", m)
				}
			}
		})
	}
}

// countingReader records how much of a body was read.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestWebhookRefusesBeforeReading(t *testing.T) {
	e := newRhEnv(t, nil)
	for _, tt := range []struct {
		name    string
		headers []string
	}{
		{"unsigned", nil},
		{"wrong bearer", []string{"Authorization", "Bearer another-secret-0123456789"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := &countingReader{r: strings.NewReader(`{"markdown": "` + strings.Repeat("a", 1<<20) + `"}`)}
			rec, _ := e.do(t, "POST", "/webhook", "application/json", body, tt.headers...)
			if rec.Code != 401 || body.n != 0 {
				t.Errorf("status %d after reading %d bytes, want 401 after none", rec.Code, body.n)
			}
		})
	}
	t.Run("too large", func(t *testing.T) {
		big := `{"markdown": "` + strings.Repeat("a", webhookMaxBody) + `"}`
		rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader(big), "X-Hub-Signature-256", githubSig(rhSecret, big))
		if rec.Code != 413 || m["error"] != "too_large" {
			t.Errorf("status %d: %v", rec.Code, m)
		}
	})
	t.Run("not json", func(t *testing.T) {
		rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader("{"), "Authorization", "Bearer "+rhSecret)
		if rec.Code != 400 || m["error"] != "bad_json" {
			t.Errorf("status %d: %v", rec.Code, m)
		}
	})
}

func TestWebhookNoSecret(t *testing.T) {
	e := newRhEnv(t, func(c *Config) { c.WebhookSecret = "" })
	rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader("{}"), "Authorization", "Bearer anything")
	msg, _ := m["message"].(string)
	if rec.Code != 503 || !strings.Contains(msg, "PICBED_WEBHOOK_SECRET") {
		t.Errorf("status %d: %v", rec.Code, m)
	}
}

// TestWebhookGhost drives a Ghost post.published payload (fixture in
// testdata/webhooks) signed the way Ghost signs it.
func TestWebhookGhost(t *testing.T) {
	e := newRhEnv(t, nil, WithClock(func() time.Time { return rhNow }))
	o := e.origin.URL
	body := strings.ReplaceAll(string(fixture(t, "webhooks/ghost-post-published.json")), "https://images.example.com", o)
	rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader(body),
		"X-Ghost-Signature", ghostSig(rhSecret, body, rhNow.Add(-30*time.Second)))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	imgs := rhImages(t, m)
	for _, src := range []string{"/2024/05/phone.jpg", "/brand/logo.png", "/2024/05/tea.jpg", "/2024/05/feature.png"} {
		im, ok := imgs[o+src]
		if !ok {
			t.Errorf("%s not listed", src)
			continue
		}
		if u, _ := im["url"].(string); !e.stored(t, u) {
			t.Errorf("%s: %v", src, im)
		}
	}
	if len(imgs) != 4 {
		t.Errorf("%d images, want 4: %v", len(imgs), m["images"])
	}
	for _, p := range []string{"/2024/05/removed.jpg", "/2024/05/old-feature.png"} {
		if e.hitCount(p) != 0 {
			t.Errorf("%s from post.previous was fetched", p)
		}
	}

	html, _ := m["html"].(string)
	if html == "" || strings.Contains(html, o) {
		t.Errorf("html not rewritten: %q", html)
	}
	if !strings.Contains(html, `src="https://img.example.net/img/2024/05/0123456789abcdef.jpg"`) {
		t.Error("our own image changed")
	}
	lex, _ := m["lexical"].(string)
	var doc struct {
		Root struct {
			Children []map[string]any `json:"children"`
		} `json:"root"`
	}
	if err := json.Unmarshal([]byte(lex), &doc); err != nil {
		t.Fatalf("lexical is not JSON any more: %v", err)
	}
	kids := doc.Root.Children
	if len(kids) != 4 {
		t.Fatalf("lexical has %d nodes", len(kids))
	}
	for i, f := range map[int]string{1: "src", 2: "html", 3: "markdown"} {
		if s, _ := kids[i][f].(string); !strings.Contains(s, rhPublic+"/") || strings.Contains(s, o) {
			t.Errorf("lexical node %d %s = %q", i, f, s)
		}
	}
	if kids[1]["width"] != 1600.0 {
		t.Errorf("lexical numbers changed: %v", kids[1]["width"])
	}
	if _, ok := m["mobiledoc"]; ok {
		t.Error("a null mobiledoc was answered")
	}
}

func TestWebhookTopLevelDocument(t *testing.T) {
	e := newRhEnv(t, nil)
	o := e.origin.URL
	body := `{"event": "entry.publish", "content": "<p><img src='` + o + `/brand/logo.png'></p>\n\n![x](` + o + `/2024/05/phone.jpg)", "cover_image": "` + o + `/2024/05/tea.jpg"}`
	rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader(body), "X-WP-Webhook-Signature", wpSig(rhSecret, body))
	if rec.Code != 200 || m["rehosted"] != 3.0 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if c, _ := m["content"].(string); strings.Contains(c, o) || !strings.Contains(c, "<img src='"+rhPublic) {
		t.Errorf("content = %q", c)
	}
}

func TestWebhookWordPress(t *testing.T) {
	e := newRhEnv(t, nil)
	o := e.origin.URL
	payload := map[string]any{
		"post_id": 42,
		"post": map[string]any{
			"ID":           42,
			"post_title":   "Hello",
			"post_content": `<!-- wp:image --><figure class="wp-block-image"><img src="` + o + `/brand/logo.png" alt="" class="wp-image-7"/></figure><!-- /wp:image -->`,
			"guid":         "https://blog.example.com/?p=42",
		},
		"post_thumbnail": o + "/2024/05/tea.jpg",      // a whole-string URL under an image key
		"guid":           o + "/brand/logo final.png", // a URL, but not an image key: left alone
	}
	b, _ := json.Marshal(payload)
	body := string(b)
	rec, m := e.do(t, "POST", "/webhook", "application/json", strings.NewReader(body), "X-WP-Webhook-Signature", wpSig(rhSecret, body))
	if rec.Code != 200 || m["rehosted"] != 2.0 || e.hitCount("/brand/logo final.png") != 0 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	c, _ := m["post_content"].(string)
	if !strings.Contains(c, `<img src="`+rhPublic+"/") || !strings.HasPrefix(c, "<!-- wp:image -->") {
		t.Errorf("post_content = %q", c)
	}
}
