package config

import (
	"strings"
	"testing"

	"picbed/handler/admission"
	"picbed/imageproc"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigDefaults(t *testing.T) {
	old := cgroupMemoryMB
	cgroupMemoryMB = func() int64 { return 0 }
	defer func() { cgroupMemoryMB = old }()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatalf("Load(empty) = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"OnFC", c.OnFC, false},
		{"Listen", c.Listen, "127.0.0.1:9000"},
		{"Storage", c.Storage, "local"},
		{"DataDir", c.DataDir, "./data"},
		{"PublicURL", c.PublicURL, "http://127.0.0.1:9000/f"},
		{"Tokens", len(c.Tokens), 0},
		{"KeyTemplate", c.KeyTemplate.String(), "img/{year}/{month}/{hash}.{ext}"},
		{"MaxBytes", c.MaxBytes, int64(32 << 20)},
		{"MaxPixels", c.MaxPixels, int64(50_000_000)},
		{"MaxWidth", c.MaxWidth, 0},
		{"Format", c.Format, imageproc.Format("")},
		{"Quality", c.Quality, 82},
		{"Strip", c.Strip, true},
		{"Watermark", c.Watermark == nil, true},
		{"InboxPrefix", c.InboxPrefix, "inbox/"},
		{"InboxAfter", c.InboxAfter, "keep"},
		{"MemoryMB", c.MemoryMB, admission.DefaultMemoryMB},
		{"Budget", admission.Budget(c.MemoryMB), int64(admission.DefaultMemoryMB-admission.MemoryOverheadMB) << 20},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestConfigValues(t *testing.T) {
	old := cgroupMemoryMB
	defer func() { cgroupMemoryMB = old }()
	tests := []struct {
		name   string
		env    map[string]string
		cgroup int64
		check  func(Config) bool
	}{
		{"listen moves the public URL", map[string]string{"PICBED_LISTEN": "0.0.0.0:8080"}, 0,
			func(c Config) bool { return c.PublicURL == "http://0.0.0.0:8080/f" }},
		{"public URL trailing slash dropped", map[string]string{"PICBED_PUBLIC_URL": "https://img.example.com/"}, 0,
			func(c Config) bool { return c.PublicURL == "https://img.example.com" }},
		{"tokens split and trimmed", map[string]string{"PICBED_TOKENS": " aaaaaaaaaaaaaaaa , bbbbbbbbbbbbbbbb,"}, 0,
			func(c Config) bool { return len(c.Tokens) == 2 && c.Tokens[1] == "bbbbbbbbbbbbbbbb" }},
		{"memory from FC", map[string]string{"FC_FUNCTION_MEMORY_SIZE": "512"}, 4096,
			func(c Config) bool {
				return c.MemoryMB == 512 && admission.Budget(c.MemoryMB) == (512-admission.MemoryOverheadMB)<<20
			}},
		{"memory from the cgroup", nil, 2048, func(c Config) bool { return c.MemoryMB == 2048 }},
		{"memory set wins", map[string]string{"PICBED_MEMORY_MB": "3000", "FC_FUNCTION_MEMORY_SIZE": "512"}, 0,
			func(c Config) bool { return c.MemoryMB == 3000 }},
		{"tiny memory keeps a floor", map[string]string{"PICBED_MEMORY_MB": "128"}, 0,
			func(c Config) bool { return admission.Budget(c.MemoryMB) == 64<<20 }},
		{"oss endpoint on FC is internal", map[string]string{"FC_RUNTIME_API": "127.0.0.1:9", "PICBED_TOKENS": "aaaaaaaaaaaaaaaa",
			"PICBED_OSS_BUCKET": "b", "FC_REGION": "cn-hangzhou"}, 0,
			func(c Config) bool {
				return c.Storage == "oss" && c.OSSEndpoint == "https://oss-cn-hangzhou-internal.aliyuncs.com" &&
					c.PublicURL == "https://b.oss-cn-hangzhou.aliyuncs.com"
			}},
		{"OSS styles per variant width", map[string]string{"PICBED_OSS_STYLE_400": "thumb", "PICBED_OSS_STYLE_1280": "blog_1280.v2"}, 0,
			func(c Config) bool {
				return len(c.OSSStyles) == 2 && c.OSSStyles[400] == "thumb" && c.OSSStyles[1280] == "blog_1280.v2"
			}},
		{"anonymous on FC when asked", map[string]string{"FC_RUNTIME_API": "x", "PICBED_ALLOW_ANONYMOUS": "true",
			"PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-beijing"}, 0,
			func(c Config) bool { return c.AllowAnonymous && len(c.Tokens) == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cgroupMemoryMB = func() int64 { return tt.cgroup }
			c, err := Load(env(tt.env))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(c) {
				t.Errorf("config %+v does not hold", c)
			}
		})
	}
}

// TestConfigReportsEveryBadVariable sets many bad variables at once: one
// error must name each of them.
func TestConfigReportsEveryBadVariable(t *testing.T) {
	bad := map[string]string{
		"PICBED_STORAGE":            "s3",
		"PICBED_TOKENS":             "short",
		"PICBED_KEY_TEMPLATE":       "img/{nope}.{ext}",
		"PICBED_MAX_BYTES":          "lots",
		"PICBED_MAX_PIXELS":         "-1",
		"PICBED_MAX_WIDTH":          "70000",
		"PICBED_MAX_HEIGHT":         "1.5",
		"PICBED_FORMAT":             "bmp",
		"PICBED_QUALITY":            "101",
		"PICBED_STRIP":              "maybe",
		"PICBED_INBOX_PREFIX":       "/",
		"PICBED_INBOX_AFTER":        "shred",
		"PICBED_WEBHOOK_SECRET":     "short",
		"PICBED_PUBLIC_URL":         "ftp://x",
		"PICBED_ALLOW_ANONYMOUS":    "yes please",
		"PICBED_MEMORY_MB":          "12",
		"PICBED_WATERMARK_POSITION": "middle-ish",
		"PICBED_WATERMARK_OPACITY":  "2",
		"PICBED_OSS_STYLE_640":      "w640/../x",
	}
	e := map[string]string{"PICBED_WATERMARK_TEXT": "me"} // valid: lets the other watermark variables be read
	for k, v := range bad {
		e[k] = v
	}
	_, err := Load(env(e))
	if err == nil {
		t.Fatal("Load accepted every bad variable")
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("the error does not name %s:\n%v", name, err)
		}
	}
}

func TestConfigRefusals(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // variable named in the error
	}{
		{"FC without a token", map[string]string{"FC_RUNTIME_API": "127.0.0.1:9000", "PICBED_OSS_BUCKET": "b", "PICBED_OSS_REGION": "cn-hangzhou"}, "PICBED_TOKENS"},
		{"FC with local storage", map[string]string{"FC_RUNTIME_API": "x", "PICBED_TOKENS": "aaaaaaaaaaaaaaaa", "PICBED_STORAGE": "local"}, "PICBED_STORAGE"},
		{"oss without a bucket", map[string]string{"PICBED_STORAGE": "oss", "PICBED_OSS_REGION": "cn-hangzhou"}, "PICBED_OSS_BUCKET"},
		{"oss without a region", map[string]string{"PICBED_STORAGE": "oss", "PICBED_OSS_BUCKET": "b", "PICBED_PUBLIC_URL": "https://x.example"}, "PICBED_OSS_REGION"},
		{"inbox inside the public prefix", map[string]string{"PICBED_INBOX_PREFIX": "img/inbox/"}, "PICBED_INBOX_PREFIX"},
		{"public prefix inside the inbox", map[string]string{"PICBED_INBOX_PREFIX": "up/", "PICBED_KEY_TEMPLATE": "up/img/{hash}.{ext}"}, "PICBED_INBOX_PREFIX"},
		{"template without a folder", map[string]string{"PICBED_KEY_TEMPLATE": "{hash}.{ext}"}, "PICBED_INBOX_PREFIX"},
		{"inbox without a slash", map[string]string{"PICBED_INBOX_PREFIX": "inbox"}, "PICBED_INBOX_PREFIX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want+":") {
				t.Errorf("Load = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

func TestConfigVariablesListed(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range Variables {
		listed[v] = true
	}
	for _, v := range []string{"PICBED_MEMORY_MB", "PICBED_TOKENS", "PICBED_MAX_BYTES", "PICBED_KEY_TEMPLATE",
		"PICBED_OSS_STYLE_400", "PICBED_OSS_STYLE_640", "PICBED_OSS_STYLE_960", "PICBED_OSS_STYLE_1280", "PICBED_OSS_STYLE_1920"} {
		if !listed[v] {
			t.Errorf("Variables lacks %s", v)
		}
	}
}

func TestParseMemoryMax(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"max\n", 0},
		{"536870912\n", 512},
		{"1073741824", 1024},
		{"9223372036854771712\n", 0},
		{"", 0},
		{"-1", 0},
		{"garbage", 0},
	}
	for _, tt := range tests {
		if got := parseMemoryMax(tt.in); got != tt.want {
			t.Errorf("parseMemoryMax(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestConfigRefusesInboxLoops(t *testing.T) {
	tests := []struct {
		name     string
		inbox    string
		template string
		ok       bool
	}{
		{"defaults", "", "", true},
		{"separate folders", "uploads/", "public/{hash}.{ext}", true},
		{"inbox inside the public folder", "img/inbox/", "", false},
		{"public folder inside the inbox", "inbox/", "inbox/out/{hash}.{ext}", false},
		{"same folder", "img/", "", false},
		{"template without a folder", "inbox/", "{hash}.{ext}", false},
		{"root", "/", "", false},
		{"no trailing slash", "inbox", "", false},
		{"leading slash", "/inbox/", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"PICBED_INBOX_PREFIX": tc.inbox, "PICBED_KEY_TEMPLATE": tc.template}
			_, err := Load(func(k string) string { return env[k] })
			if got := err == nil; got != tc.ok {
				t.Fatalf("inbox %q template %q: err = %v, want ok = %v", tc.inbox, tc.template, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "PICBED_INBOX_PREFIX") {
				t.Errorf("error %q does not name PICBED_INBOX_PREFIX", err)
			}
		})
	}
}
