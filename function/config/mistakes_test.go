package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestUnknownVariableNamedWithTheClosest(t *testing.T) {
	for _, tc := range []struct {
		set, closest string
	}{
		{"PICBED_QUALTY", "PICBED_QUALITY"},
		{"PICBED_TOKEN_LIST", "PICBED_TOKENS"},
		{"PICBED_MAXWIDTH", "PICBED_MAX_WIDTH"},
		{"PICBED_OSS_BUKET", "PICBED_OSS_BUCKET"},
		{"PICBED_REGOIN", "PICBED_REGION"},
	} {
		_, err := LoadEnviron([]string{tc.set + "=1", "HOME=/x"})
		if err == nil || !strings.Contains(err.Error(), tc.set+": picbed has no such variable; did you mean "+tc.closest+"?") {
			t.Errorf("%s: %v; want it named with %s", tc.set, err, tc.closest)
		}
		if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
			t.Errorf("%s: %d errors, want only the unknown variable:\n%v", tc.set, n, err)
		}
	}
	// Every listed variable and the deploy's own exports are known, and
	// other prefixes are none of picbed's business.
	var environ []string
	for _, v := range append(append([]string(nil), Variables...), DeployVariables...) {
		environ = append(environ, v+"=")
	}
	environ = append(environ, "PICBEDX=1", "MY_PICBED_THING=1", "GOMEMLIMIT=1GiB")
	if _, err := LoadEnviron(environ); err != nil {
		t.Errorf("known variables refused: %v", err)
	}
}

func TestListenValidated(t *testing.T) {
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:9000", true}, {":8080", true}, {"[::1]:9000", true}, {"localhost:0", true},
		{"9000", false}, {"127.0.0.1", false}, {"127.0.0.1:port", false}, {"127.0.0.1:70000", false}, {"http://127.0.0.1:9000", false},
	} {
		_, err := Load(env(map[string]string{"PICBED_LISTEN": tc.listen}))
		if tc.ok != (err == nil) {
			t.Errorf("PICBED_LISTEN=%q: %v", tc.listen, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "PICBED_LISTEN:") || strings.Contains(err.Error(), "PICBED_PUBLIC_URL")) {
			t.Errorf("PICBED_LISTEN=%q: %v; want only PICBED_LISTEN named", tc.listen, err)
		}
	}
}

func TestNoKnockOnErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		only string
	}{
		{"missing bucket", map[string]string{"PICBED_STORAGE": "oss", "PICBED_OSS_REGION": "cn-hongkong", "ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"}, "PICBED_OSS_BUCKET"},
		{"missing region", map[string]string{"PICBED_STORAGE": "oss", "PICBED_OSS_BUCKET": "b", "ALIBABA_CLOUD_ACCESS_KEY_ID": "a", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "b"}, "PICBED_OSS_REGION"},
		{"bad listen", map[string]string{"PICBED_LISTEN": "nope"}, "PICBED_LISTEN"},
		{"missing credentials", map[string]string{"PICBED_STORAGE": "oss", "PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-hongkong"}, "ALIBABA_CLOUD_ACCESS_KEY_ID"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || strings.Count(err.Error(), ":") < 1 || !strings.HasPrefix(err.Error(), tc.only+":") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want exactly one error, naming %s", tc.name, err, tc.only)
		}
	}
	// On FC the credentials come with each invocation: none needed here.
	if _, err := Load(env(map[string]string{"FC_RUNTIME_API": "x", "PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-hongkong", "PICBED_TOKENS": strings.Repeat("t", 16)})); err != nil {
		t.Errorf("FC without ALIBABA_CLOUD_*: %v", err)
	}
}

func TestSecretsAsDigests(t *testing.T) {
	sum := sha256.Sum256([]byte("my-upload-token-123"))
	digest := "sha256:" + hex.EncodeToString(sum[:])
	c, err := Load(env(map[string]string{"PICBED_TOKENS": digest + ",another-clear-token", "PICBED_WEBHOOK_SECRET": digest}))
	if err != nil || len(c.Tokens) != 2 || c.Tokens[0] != digest || c.WebhookSecret != digest {
		t.Fatalf("digests refused: %+v %v", c.Tokens, err)
	}
	for _, tc := range []struct{ name, value, want string }{
		{"PICBED_TOKENS", "sha256:abc", "64 hex digits"},
		{"PICBED_TOKENS", "sha256:" + strings.Repeat("zz", 32), "64 hex digits"},
		{"PICBED_WEBHOOK_SECRET", "sha256:1234", "64 hex digits"},
		{"PICBED_DELETE_SECRET", digest, "HMAC key"},
	} {
		_, err := Load(env(map[string]string{tc.name: tc.value}))
		if err == nil || !strings.Contains(err.Error(), tc.name+":") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%s: %v; want %q", tc.name, tc.value, err, tc.want)
		}
	}
}
