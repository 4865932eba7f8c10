package handler

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"picbed/imageproc"
)

// Config is picbed's whole configuration, read once from the environment
// at start and validated; nothing in it changes afterwards.
type Config struct {
	OnFC bool // running as a Function Compute function

	Listen    string // PICBED_LISTEN
	Storage   string // PICBED_STORAGE: local | oss
	DataDir   string // PICBED_DATA_DIR
	PublicURL string // PICBED_PUBLIC_URL, without a trailing slash

	Tokens         []string // PICBED_TOKENS
	AllowAnonymous bool     // PICBED_ALLOW_ANONYMOUS

	KeyTemplate *KeyTemplate // PICBED_KEY_TEMPLATE

	MaxBytes  int64 // PICBED_MAX_BYTES
	MaxPixels int64 // PICBED_MAX_PIXELS
	MaxWidth  int   // PICBED_MAX_WIDTH
	MaxHeight int   // PICBED_MAX_HEIGHT
	Format    imageproc.Format
	Quality   int
	Strip     bool
	Watermark *imageproc.Watermark // nil = off
	MemoryMB  int                  // PICBED_MEMORY_MB: the instance's memory, for admission control

	InboxPrefix string // PICBED_INBOX_PREFIX
	InboxAfter  string // PICBED_INBOX_AFTER: keep | delete

	WebhookSecret string // PICBED_WEBHOOK_SECRET
	DeleteSecret  string // PICBED_DELETE_SECRET: signs delete links (default: derived from the tokens)

	OSSBucket   string // PICBED_OSS_BUCKET
	OSSEndpoint string // PICBED_OSS_ENDPOINT, scheme included
	OSSRegion   string // PICBED_OSS_REGION
}

// The defaults of DESIGN.md.
const (
	DefaultListen      = "127.0.0.1:9000"
	DefaultKeyTemplate = "img/{year}/{month}/{hash}.{ext}"
	DefaultMaxBytes    = 32 << 20
	DefaultMaxPixels   = 50_000_000
)

// Variables lists every environment variable LoadConfig reads, so that
// deployment files can be checked against it.
var Variables = []string{
	"PICBED_LISTEN", "PICBED_STORAGE", "PICBED_DATA_DIR", "PICBED_PUBLIC_URL",
	"PICBED_TOKENS", "PICBED_ALLOW_ANONYMOUS", "PICBED_KEY_TEMPLATE",
	"PICBED_MAX_BYTES", "PICBED_MAX_PIXELS", "PICBED_MAX_WIDTH", "PICBED_MAX_HEIGHT",
	"PICBED_FORMAT", "PICBED_QUALITY", "PICBED_STRIP",
	"PICBED_WATERMARK_TEXT", "PICBED_WATERMARK_IMAGE", "PICBED_WATERMARK_FONT",
	"PICBED_WATERMARK_POSITION", "PICBED_WATERMARK_OPACITY", "PICBED_WATERMARK_SCALE",
	"PICBED_INBOX_PREFIX", "PICBED_INBOX_AFTER", "PICBED_WEBHOOK_SECRET", "PICBED_DELETE_SECRET",
	"PICBED_OSS_BUCKET", "PICBED_OSS_ENDPOINT", "PICBED_OSS_REGION",
	"PICBED_MEMORY_MB",
}

// LoadConfig reads the configuration from getenv (os.Getenv in main, a
// map in tests). Every bad variable is reported, by name, in one error.
func LoadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	integer := func(name string, def, lo, hi int64) int64 {
		v := str(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			bad(name, "%q is not a whole number from %d to %d", v, lo, hi)
			return def
		}
		return n
	}
	boolean := func(name string, def bool) bool {
		v := str(name, "")
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(name, "%q is not true or false", v)
			return def
		}
		return b
	}

	c := Config{OnFC: getenv("FC_RUNTIME_API") != ""}
	c.Listen = str("PICBED_LISTEN", DefaultListen)
	defStorage := "local"
	if c.OnFC {
		defStorage = "oss"
	}
	c.Storage = str("PICBED_STORAGE", defStorage)
	if c.Storage != "local" && c.Storage != "oss" {
		bad("PICBED_STORAGE", "%q is not local or oss", c.Storage)
	}
	if c.OnFC && c.Storage == "local" {
		bad("PICBED_STORAGE", "local storage does not survive a Function Compute instance; use oss")
	}
	c.DataDir = str("PICBED_DATA_DIR", "./data")
	for _, t := range strings.Split(getenv("PICBED_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			if len(t) < 16 {
				bad("PICBED_TOKENS", "every token needs at least 16 characters (one has %d)", len(t))
			}
			c.Tokens = append(c.Tokens, t)
		}
	}
	c.AllowAnonymous = boolean("PICBED_ALLOW_ANONYMOUS", false)
	if c.OnFC && len(c.Tokens) == 0 && !c.AllowAnonymous {
		bad("PICBED_TOKENS", "no upload token is set; set one (or PICBED_ALLOW_ANONYMOUS=true to let anyone upload)")
	}

	tmpl, err := ParseKeyTemplate(str("PICBED_KEY_TEMPLATE", DefaultKeyTemplate))
	if err != nil {
		bad("PICBED_KEY_TEMPLATE", "%v", err)
		tmpl, _ = ParseKeyTemplate(DefaultKeyTemplate)
	}
	c.KeyTemplate = tmpl

	c.MaxBytes = integer("PICBED_MAX_BYTES", DefaultMaxBytes, 1024, 1<<30)
	c.MaxPixels = integer("PICBED_MAX_PIXELS", DefaultMaxPixels, 1, 1<<31)
	c.MaxWidth = int(integer("PICBED_MAX_WIDTH", 0, 0, 65535))
	c.MaxHeight = int(integer("PICBED_MAX_HEIGHT", 0, 0, 65535))
	if c.Format, err = imageproc.ParseFormat(str("PICBED_FORMAT", "original")); err != nil {
		bad("PICBED_FORMAT", "%v", err)
	}
	c.Quality = int(integer("PICBED_QUALITY", imageproc.DefaultQuality, 1, 100))
	c.Strip = boolean("PICBED_STRIP", true)
	c.Watermark = loadWatermark(str, bad)
	c.MemoryMB = int(integer("PICBED_MEMORY_MB", defaultMemoryMB(getenv), 128, 1<<20))

	c.InboxPrefix = str("PICBED_INBOX_PREFIX", "inbox/")
	if c.InboxPrefix == "/" || strings.HasPrefix(c.InboxPrefix, "/") || !strings.HasSuffix(c.InboxPrefix, "/") {
		bad("PICBED_INBOX_PREFIX", "%q must be a folder like inbox/ (not empty, not /, ending in /)", c.InboxPrefix)
	} else if pub := c.KeyTemplate.Prefix(); strings.HasPrefix(pub, c.InboxPrefix) || strings.HasPrefix(c.InboxPrefix, pub) {
		bad("PICBED_INBOX_PREFIX", "%q overlaps the key template's folder %q: processed images would trigger new events forever", c.InboxPrefix, pub)
	}
	c.InboxAfter = str("PICBED_INBOX_AFTER", "keep")
	if c.InboxAfter != "keep" && c.InboxAfter != "delete" {
		bad("PICBED_INBOX_AFTER", "%q is not keep or delete", c.InboxAfter)
	}
	c.WebhookSecret = str("PICBED_WEBHOOK_SECRET", "")
	if c.WebhookSecret != "" && len(c.WebhookSecret) < 16 {
		bad("PICBED_WEBHOOK_SECRET", "needs at least 16 characters")
	}
	c.DeleteSecret = str("PICBED_DELETE_SECRET", "")
	if c.DeleteSecret != "" && len(c.DeleteSecret) < 16 {
		bad("PICBED_DELETE_SECRET", "needs at least 16 characters")
	}

	c.OSSBucket = str("PICBED_OSS_BUCKET", "")
	c.OSSRegion = str("PICBED_OSS_REGION", getenv("FC_REGION"))
	c.OSSEndpoint = str("PICBED_OSS_ENDPOINT", "")
	if c.Storage == "oss" {
		if c.OSSBucket == "" {
			bad("PICBED_OSS_BUCKET", "is required with oss storage")
		}
		if c.OSSRegion == "" && c.OSSEndpoint == "" {
			bad("PICBED_OSS_REGION", "is required with oss storage (or set PICBED_OSS_ENDPOINT)")
		}
		if c.OSSEndpoint == "" && c.OSSRegion != "" {
			host := "oss-" + c.OSSRegion + ".aliyuncs.com"
			if c.OnFC {
				host = "oss-" + c.OSSRegion + "-internal.aliyuncs.com"
			}
			c.OSSEndpoint = "https://" + host
		}
		if c.OSSEndpoint != "" && !strings.Contains(c.OSSEndpoint, "://") {
			c.OSSEndpoint = "https://" + c.OSSEndpoint
		}
	}

	def := ""
	switch {
	case c.Storage == "local":
		def = "http://" + c.Listen + "/f"
	case c.OSSBucket != "" && c.OSSRegion != "":
		def = "https://" + c.OSSBucket + ".oss-" + c.OSSRegion + ".aliyuncs.com"
	}
	c.PublicURL = strings.TrimRight(str("PICBED_PUBLIC_URL", def), "/")
	if u, err := url.Parse(c.PublicURL); c.PublicURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PICBED_PUBLIC_URL", "%q is not an http(s) URL", c.PublicURL)
	}
	return c, errors.Join(errs...)
}

// loadWatermark reads the PICBED_WATERMARK_* variables; nil when neither a
// text nor an image is set. imageproc.NewWatermark parses the font or logo
// once, here, so a text the font cannot draw (Chinese with the built-in
// Latin font) stops the start instead of printing boxes on every image.
func loadWatermark(str func(string, string) string, bad func(string, string, ...any)) *imageproc.Watermark {
	text, img := str("PICBED_WATERMARK_TEXT", ""), str("PICBED_WATERMARK_IMAGE", "")
	if text == "" && img == "" {
		return nil
	}
	w := &imageproc.Watermark{Text: text, Position: str("PICBED_WATERMARK_POSITION", "bottom-right")}
	ok := true
	if img != "" {
		b, err := os.ReadFile(img)
		if err != nil {
			bad("PICBED_WATERMARK_IMAGE", "cannot read %s: %v", img, err)
			ok = false
		}
		w.Image = b
	}
	if f := str("PICBED_WATERMARK_FONT", ""); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			bad("PICBED_WATERMARK_FONT", "cannot read %s: %v", f, err)
			ok = false
		}
		w.Font = b
	}
	num := func(name string, def float64) float64 {
		v := str(name, "")
		if v == "" {
			return def
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 1 {
			bad(name, "%q is not a number in (0, 1]", v)
			return def
		}
		return f
	}
	w.Opacity = num("PICBED_WATERMARK_OPACITY", 0.7)
	w.Scale = num("PICBED_WATERMARK_SCALE", 0.15)
	switch w.Position {
	case "top-left", "top", "top-right", "left", "center", "right", "bottom-left", "bottom", "bottom-right":
	default:
		bad("PICBED_WATERMARK_POSITION", "%q is not one of top-left, top, top-right, left, center, right, bottom-left, bottom, bottom-right", w.Position)
		ok = false
	}
	if !ok {
		return w
	}
	ready, err := imageproc.NewWatermark(*w)
	var we *imageproc.WatermarkError
	switch {
	case err == nil:
		return ready
	case errors.As(err, &we) && we.Field == "image":
		bad("PICBED_WATERMARK_IMAGE", "%s: %v", img, we)
	case errors.As(err, &we) && we.Field == "font":
		bad("PICBED_WATERMARK_FONT", "%s: %v", str("PICBED_WATERMARK_FONT", ""), we)
	case errors.As(err, &we) && we.Field == "text" && str("PICBED_WATERMARK_FONT", "") == "":
		bad("PICBED_WATERMARK_TEXT", "%v (PICBED_WATERMARK_FONT is unset, and the built-in font is Latin only)", we)
	default:
		bad("PICBED_WATERMARK_TEXT", "%v", err)
	}
	return w
}

// Recipe is the server's default recipe; requests may tighten it.
func (c Config) Recipe() imageproc.Recipe {
	return imageproc.Recipe{
		MaxWidth:  c.MaxWidth,
		MaxHeight: c.MaxHeight,
		Format:    c.Format,
		Quality:   c.Quality,
		Strip:     c.Strip,
		Watermark: c.Watermark,
		Limits:    imageproc.Limits{MaxPixels: c.MaxPixels, MaxSide: 65535, MaxFrames: 1000},
	}
}
