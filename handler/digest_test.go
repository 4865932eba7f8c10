package handler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"picbed/handler/webhooksig"
	"picbed/storage"
	"picbed/tools/hostile"
)

func sha256Hex(s string) string {
	d := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(d[:])
}

// TestTokenDigests: a token configured as its sha256: digest accepts the
// real token and refuses the digest itself; delete links, which need a
// key nobody reading the configuration has, are off with digests only.
func TestTokenDigests(t *testing.T) {
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.Tokens = []string{sha256Hex(testToken)} }})
	png := hostile.SmallPNG(8, 8)
	for _, tc := range []struct {
		token string
		want  int
	}{
		{testToken, 200},
		{sha256Hex(testToken), 401},
		{strings.TrimPrefix(sha256Hex(testToken), "sha256:"), 401},
	} {
		req := must(http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(png)))
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Authorization", "Bearer "+tc.token)
		if resp, body := s.send(t, req); resp.StatusCode != tc.want {
			t.Errorf("token %.20q: %d %s, want %d", tc.token, resp.StatusCode, body, tc.want)
		}
	}
	if k := deleteLinkKey(Config{Tokens: []string{sha256Hex(testToken)}}); k != nil {
		t.Errorf("delete links keyed by a digest that sits in config dumps")
	}
	if a, b := deleteLinkKey(Config{Tokens: []string{testToken, sha256Hex("x")}}), deleteLinkKey(Config{Tokens: []string{testToken}}); !bytes.Equal(a, b) {
		t.Errorf("a digest token changed the delete-link key derived from the clear ones")
	}
}

func TestUnauthorizedSaysWhereTheTokenIs(t *testing.T) {
	hint := "; the local server's token is in data/.picbed-token (printed at start)"
	s := newTestServer(t, serverOpts{cfg: func(c *Config) { c.TokenHint = hint }})
	for _, auth := range []string{"", "Bearer wrong-token-0123456789"} {
		req := must(http.NewRequest("POST", s.URL+"/upload", bytes.NewReader(hostile.SmallPNG(8, 8))))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, body := s.send(t, req)
		if _, msg := errorBody(t, body); resp.StatusCode != 401 || !strings.Contains(msg, "data/.picbed-token") {
			t.Errorf("%q: %d %q, want 401 naming data/.picbed-token", auth, resp.StatusCode, msg)
		}
	}
}

// TestWebhookSecretDigest: a digest checks a bearer secret, and refuses
// HMAC signatures with a message saying why (an HMAC needs the secret).
func TestWebhookSecretDigest(t *testing.T) {
	secret := "webhook-secret-0123456789"
	body := []byte(`{"post":{"current":{"html":"<p>hi</p>"}}}`)
	now := time.Now()
	hd := http.Header{"Authorization": {"Bearer " + secret}}
	if err := webhooksig.Verify(webhooksig.Bearer, hd, body, sha256Hex(secret), now); err != nil {
		t.Errorf("bearer against its digest: %v", err)
	}
	hd = http.Header{"Authorization": {"Bearer " + sha256Hex(secret)}}
	if err := webhooksig.Verify(webhooksig.Bearer, hd, body, sha256Hex(secret), now); err == nil {
		t.Errorf("the digest itself was accepted as the bearer secret")
	}
	hd = http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(rhMAC(secret, string(body)))}}
	if err := webhooksig.Verify(webhooksig.GitHub, hd, body, secret, now); err != nil {
		t.Fatalf("GitHub signature with the clear secret: %v", err)
	}
	err := webhooksig.Verify(webhooksig.GitHub, hd, body, sha256Hex(secret), now)
	if err == nil || !strings.Contains(err.Error(), "HMAC") || !strings.Contains(err.Error(), "Bearer") {
		t.Errorf("GitHub signature against a digest: %v; want a refusal that explains", err)
	}
}

type noCredStore struct{ Store }

func (noCredStore) Stat(context.Context, string) (storage.Object, error) {
	return storage.Object{}, storage.ErrNoCredentials
}

// TestNoCredentialsIsAConfigurationError: a store without credentials is
// picbed's configuration, not an upstream failure.
func TestNoCredentialsIsAConfigurationError(t *testing.T) {
	s := newTestServer(t, serverOpts{wrap: func(l *storage.Local) Store { return noCredStore{l} }})
	resp, body := s.send(t, s.newRequest(t, "POST", "/upload", bytes.NewReader(hostile.SmallPNG(8, 8)), "image/png"))
	code, msg := errorBody(t, body)
	if resp.StatusCode != 500 || code != "not_configured" || !strings.Contains(msg, "role") || !strings.Contains(msg, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Errorf("%d %s %q; want 500 not_configured saying what to set", resp.StatusCode, code, msg)
	}
}
