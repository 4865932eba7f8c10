package config

import (
	"maps"
	"strings"
	"testing"
)

const testGhostKey = "6650a1b2c3d4e5f6a7b8c9d0:5f0c3d1e5f0c3d1e5f0c3d1e5f0c3d1e5f0c3d1e5f0c3d1e5f0c3d1e5f0c3d1e"

func cmsEnv(extra map[string]string) map[string]string {
	m := map[string]string{
		"PICBED_WEBHOOK_SECRET":  "webhook-secret-0123456789",
		"PICBED_GHOST_URL":       "http://blog.lan:2368",
		"PICBED_GHOST_ADMIN_KEY": testGhostKey,
		"PICBED_WP_URL":          "https://wp.example.com/",
		"PICBED_WP_USER":         "editor",
		"PICBED_WP_APP_PASSWORD": "abcd EFGH ijkl MNOP qrst UVWX",
		"PICBED_GIT_API":         "https://git.example.com/api/v1",
		"PICBED_GIT_TOKEN":       "git-token-0123456789",
	}
	maps.Copy(m, extra)
	for k, v := range m {
		if v == "-" {
			delete(m, k)
		}
	}
	return m
}

func TestConfigConnectors(t *testing.T) {
	c, err := Load(env(cmsEnv(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.GhostURL != "http://blog.lan:2368" || c.WPAppPassword != "abcd EFGH ijkl MNOP qrst UVWX" || c.GitToken == "" || c.JobsViaInbox {
		t.Errorf("loaded %+v", c.Config)
	}
	fc := cmsEnv(map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "PICBED_TOKENS": "aaaaaaaaaaaaaaaa", "PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-hangzhou"})
	if c, err := Load(env(fc)); err != nil || !c.JobsViaInbox {
		t.Errorf("on FC jobs must go through the inbox: %v %v", c.JobsViaInbox, err)
	}
}

func TestConfigConnectorRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ghost without key", map[string]string{"PICBED_GHOST_ADMIN_KEY": "-"}, "PICBED_GHOST_ADMIN_KEY"},
		{"ghost key not id:secret", map[string]string{"PICBED_GHOST_ADMIN_KEY": "sekrit-value-not-hex:zz"}, "PICBED_GHOST_ADMIN_KEY"},
		{"key without url", map[string]string{"PICBED_GHOST_URL": "-"}, "PICBED_GHOST_ADMIN_KEY"},
		{"wp url with credentials", map[string]string{"PICBED_WP_URL": "https://editor:pw@wp.example.com"}, "PICBED_WP_URL"},
		{"wp without password", map[string]string{"PICBED_WP_APP_PASSWORD": "-"}, "PICBED_WP_APP_PASSWORD"},
		{"git api not a url", map[string]string{"PICBED_GIT_API": "git.example.com"}, "PICBED_GIT_API"},
		{"git bad glob", map[string]string{"PICBED_GIT_PATHS": "posts/[.md"}, "PICBED_GIT_PATHS"},
		{"no webhook secret", map[string]string{"PICBED_WEBHOOK_SECRET": "-"}, "PICBED_WEBHOOK_SECRET"},
		{"webhook secret as a digest", map[string]string{"PICBED_WEBHOOK_SECRET": "sha256:" + strings.Repeat("ab", 32)}, "PICBED_WEBHOOK_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(cmsEnv(tc.env)))
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("Load = %v, want an error naming %s", err, tc.want)
			}
			for _, secret := range []string{"sekrit", "5f0c3d1e", "abcd EFGH", "git-token", ":pw@"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error repeats a secret: %v", err)
				}
			}
		})
	}
}
