package webhooksig

import (
	"strings"
	"testing"
	"time"
)

func TestVerifyWebhookUnit(t *testing.T) {
	// The pure check against a fixed vector: HMAC-SHA256("It's a Secret
	// to Everybody", "Hello, World!") as GitHub documents it.
	hd := map[string][]string{"X-Hub-Signature-256": {"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}}
	if err := Verify(GitHub, hd, []byte("Hello, World!"), "It's a Secret to Everybody", time.Now()); err != nil {
		t.Errorf("GitHub's documented vector: %v", err)
	}
}

func TestGhostSignatureParse(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"sha256=" + strings.Repeat("ab", 32) + ", t=1716540000000", true},
		{"t=1716540000000, sha256=" + strings.Repeat("ab", 32), true},
		{"sha256=" + strings.Repeat("ab", 32) + ",t=1716540000000", true},
		{"sha256=" + strings.Repeat("ab", 31) + ", t=1716540000000", false},
		{"sha256=" + strings.Repeat("ab", 32) + ", t=", false},
		{"sha256=" + strings.Repeat("ab", 32) + ", t=12a", false},
		{"sha256=" + strings.Repeat("ab", 32), false},
		{"", false},
		{"garbage", false},
	} {
		_, _, ok := parseGhostSignature(tt.in)
		if ok != tt.ok {
			t.Errorf("parseGhostSignature(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
	}
}
