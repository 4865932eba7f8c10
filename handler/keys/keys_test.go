package keys

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"picbed/storage"
)

func TestParse(t *testing.T) {
	tests := []struct {
		tmpl   string
		ok     bool
		prefix string
		det    bool
	}{
		{"img/{year}/{month}/{hash}.{ext}", true, "img/", false},
		{"{hash}.{ext}", true, "", true},
		{"a/b/{hash:12}.{ext}", true, "a/b/", true},
		{"photos/{name}-{rand:6}.{ext}", true, "photos/", false},
		{"p/{timestamp}.{ext}", true, "p/", false},
		{"{year}{month}{day}{hour}{minute}{second}-{hash:8}.{ext}", true, "", false},
		{"", false, "", false},
		{"/abs/{hash}.{ext}", false, "", false},
		{"a/../{hash}.{ext}", false, "", false},
		{`a\{hash}.{ext}`, false, "", false},
		{"img/{name}.{ext}", false, "", false},    // nothing unique
		{"img/{hash}.jpg", false, "", false},      // no {ext}
		{"img/{ext}/{hash}", false, "", false},    // {ext} not last
		{"img/{hash:4}.{ext}", false, "", false},  // too short to be unique
		{"img/{hash:65}.{ext}", false, "", false}, // longer than the hash
		{"img/{rand}.{ext}", false, "", false},    // rand needs a length
		{"img/{rand:3}.{ext}", false, "", false},  // too short
		{"img/{year:4}/{hash}.{ext}", false, "", false},
		{"img/{unknown}/{hash}.{ext}", false, "", false},
		{"img/{hash.{ext}", false, "", false},
		{"img/hash}/{hash}.{ext}", false, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			kt, err := Parse(tt.tmpl)
			if (err == nil) != tt.ok {
				t.Fatalf("Parse(%q) error = %v, want ok=%v", tt.tmpl, err, tt.ok)
			}
			if !tt.ok {
				return
			}
			if got := kt.Prefix(); got != tt.prefix {
				t.Errorf("Prefix() = %q, want %q", got, tt.prefix)
			}
			if got := kt.Deterministic(); got != tt.det {
				t.Errorf("Deterministic() = %v, want %v", got, tt.det)
			}
		})
	}
}

func TestKeyTemplateExecute(t *testing.T) {
	hash := strings.Repeat("0123456789abcdef", 4)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CST", 8*3600)) // 2026-03-03 21:06:07 UTC
	tests := []struct {
		tmpl, name, ext string
		want            string // a regexp, anchored
	}{
		{Default, "x.jpg", "jpg", `img/2026/03/0123456789abcdef0123456789abcdef\.jpg`},
		{"{year}-{month}-{day} {hour}:{minute}:{second}/{hash:8}.{ext}", "", "png", `2026-03-03 21:06:07/01234567\.png`},
		{"t/{timestamp}.{ext}", "", "gif", `t/1772571967\.gif`},
		{"r/{rand:10}.{ext}", "", "webp", `r/[0-9a-z]{10}\.webp`},
		{"n/{name}-{hash:8}.{ext}", "My Photo (1).JPG", "jpg", `n/my-photo-1-01234567\.jpg`},
		{"n/{name}-{hash:8}.{ext}", "../../etc/passwd.jpg", "jpg", `n/passwd-01234567\.jpg`},
		{"n/{name}/{hash:8}.{ext}", "", "jpg", `n/image/01234567\.jpg`},
		{"n/{name}/{hash:64}.{ext}", "猫.png", "png", `n/猫/` + hash + `\.png`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+"|"+tt.name, func(t *testing.T) {
			kt, err := Parse(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kt.Execute(Vars{Time: at, Hash: hash, Name: tt.name, Ext: tt.ext})
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if !regexp.MustCompile("^" + tt.want + "$").MatchString(got) {
				t.Errorf("key = %q, want /%s/", got, tt.want)
			}
			if err := storage.CheckKey(got); err != nil {
				t.Errorf("CheckKey(%q) = %v", got, err)
			}
		})
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Photo.JPG", "photo"},
		{"My  Summer -- Trip!!.jpeg", "my-summer-trip"},
		{"../../etc/passwd.jpg", "passwd"},
		{`C:\Users\me\IMG_0001.HEIC`, "img-0001"},
		{"a\x00b.png", "a-b"},
		{"photo\u202egnp.exe", "photo-gnp"},
		{"\u202e\u2066", "image"},
		{"", "image"},
		{"....", "image"},
		{".hidden", "image"},
		{"北京 故宫.jpg", "北京-故宫"},
		{"Cafe\u0301.png", "café"},
		{"emoji😀cat.png", "emoji-cat"},
		{strings.Repeat("ab", 3000) + ".png", strings.Repeat("ab", 32)},
	}
	for _, tt := range tests {
		t.Run(short(tt.in, 20), func(t *testing.T) {
			if got := slug(tt.in); got != tt.want {
				t.Errorf("slug(%q) = %q, want %q", short(tt.in, 40), got, tt.want)
			}
		})
	}
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func TestTimeFolders(t *testing.T) {
	for _, tt := range []struct {
		tmpl string
		want int
	}{
		{Default, 2},
		{"img/{year}/{hash}.{ext}", 1},
		{"a/b/{year}/{month}/{day}/{hash}.{ext}", 3},
		{"p/{year}/{month}/{day}/{hour}/{minute}-{hash}.{ext}", 4},
		{"img/{year}/{month}/x-{hash}.{ext}", 2},
		{"{year}/{month}/{hash}.{ext}", 0},     // no fixed folder first
		{"img/{month}/{year}/{hash}.{ext}", 0}, // not most significant first
		{"img/{year}{month}/{hash}.{ext}", 0},  // not one folder per part
		{"img/{year}-{month}/{hash}.{ext}", 0},
		{"img/{hash}.{ext}", 0},
		{"{hash}.{ext}", 0},
	} {
		tmpl, err := Parse(tt.tmpl)
		if err != nil {
			t.Fatalf("%s: %v", tt.tmpl, err)
		}
		if got := tmpl.TimeFolders(); got != tt.want {
			t.Errorf("%s: TimeFolders = %d, want %d", tt.tmpl, got, tt.want)
		}
	}
}
