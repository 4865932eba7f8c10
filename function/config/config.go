// Package config reads picbed's configuration from the environment, once,
// at start: the PICBED_* variables (Variables lists them; s.yaml is checked
// against that list), what Function Compute says about the instance
// (FC_RUNTIME_API, FC_REGION, FC_FUNCTION_MEMORY_SIZE) and the cgroup
// memory limit. It is the door's side of the boundary: it builds the
// handler.Config the application needs plus what main and the stores need;
// the handler never reads the environment.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"picbed/handler"
	"picbed/handler/admission"
	"picbed/handler/cms"
	"picbed/handler/keys"
	"picbed/handler/variant"
	"picbed/handler/webhooksig"
	"picbed/imageproc"
)

// Config is the whole configuration: the handler's part, embedded (its
// fields read as cfg.MaxBytes etc.), and what only main and the stores use.
type Config struct {
	handler.Config

	OnFC bool // running as a Function Compute function (FC_RUNTIME_API set)
	// RuntimeAPIName is FC_RUNTIME_API's host when it is a name, not an
	// address: the door resolves it at start and denies it to the fetcher.
	RuntimeAPIName string

	Listen  string // PICBED_LISTEN
	Storage string // PICBED_STORAGE: local | oss
	DataDir string // PICBED_DATA_DIR

	OSSEndpoint string // PICBED_OSS_ENDPOINT, scheme included
	OSSRegion   string // PICBED_OSS_REGION (default FC_REGION)
}

// DefaultListen is where the local server listens by default.
const DefaultListen = "127.0.0.1:9000"

// Variables lists every environment variable Load reads, so that
// deployment files can be checked against it and LoadEnviron can name a
// PICBED_* variable nobody reads (a typo): add every new variable here.
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
	"PICBED_GHOST_URL", "PICBED_GHOST_ADMIN_KEY",
	"PICBED_WP_URL", "PICBED_WP_USER", "PICBED_WP_APP_PASSWORD",
	"PICBED_GIT_API", "PICBED_GIT_TOKEN", "PICBED_GIT_PATHS",
}

func init() {
	for _, w := range variant.Widths() {
		Variables = append(Variables, ossStyleVar(w))
	}
}

// ossStyleVar names the variable that sets the OSS style of width w's
// variant links: PICBED_OSS_STYLE_640.
func ossStyleVar(w int) string { return "PICBED_OSS_STYLE_" + strconv.Itoa(w) }

// ossStyleName is what an OSS image style may be called.
var ossStyleName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// LoadEnviron is Load over environ (os.Environ() in main), refusing, by
// name and with the closest known name, every PICBED_* variable that is
// not in Variables: a typo such as PICBED_QUALTY would otherwise be
// ignored without a word.
func LoadEnviron(environ []string) (Config, error) {
	vars := map[string]string{}
	var unknown []error
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
		if strings.HasPrefix(k, "PICBED_") && !known(k) {
			unknown = append(unknown, fmt.Errorf("%s: picbed has no such variable; did you mean %s? (main help, README \"Configuration\")", k, closest(k)))
		}
	}
	c, err := Load(func(k string) string { return vars[k] })
	return c, errors.Join(append(unknown, err)...)
}

// DeployVariables are the PICBED_* variables of the deploy (README step
// 1): s.yaml and deploy/setup read them, the binary does not, but they
// live in the same shell, so they are known names, not typos.
var DeployVariables = []string{
	"PICBED_REGION", "PICBED_DOMAIN", "PICBED_DOMAIN_HTTP", "PICBED_CERT", "PICBED_CERT_KEY", "PICBED_CERT_NAME",
	"PICBED_TOKEN", "PICBED_S_ACCESS", "PICBED_SETUP_OSS_ENDPOINT", "PICBED_SETUP_RAM_ENDPOINT",
}

func known(name string) bool {
	return slices.Contains(Variables, name) || slices.Contains(DeployVariables, name)
}

// closest is the known variable with the smallest edit distance to name.
func closest(name string) string {
	best, bestD := "", 1<<30
	for _, v := range slices.Concat(Variables, DeployVariables) {
		if d := editDistance(name, v); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Load reads the configuration from getenv (os.Getenv in main, a map in
// tests). Every bad variable is reported, by name, in one error.
func Load(getenv func(string) string) (Config, error) {
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

	c := Config{Config: handler.DefaultConfig(""), OnFC: getenv("FC_RUNTIME_API") != ""}
	c.FetchDeny, c.RuntimeAPIName = runtimeAPI(getenv("FC_RUNTIME_API"))
	c.Listen = str("PICBED_LISTEN", DefaultListen)
	listenOK := true
	if host, port, err := net.SplitHostPort(c.Listen); err != nil || strings.ContainsAny(host, "/ ") {
		bad("PICBED_LISTEN", "%q is not host:port, e.g. 127.0.0.1:9000 (or :9000 for every interface)", c.Listen)
		listenOK = false
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("PICBED_LISTEN", "%q: the port must be a number from 0 to 65535", c.Listen)
		listenOK = false
	}
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
	c.LocalFiles = c.Storage == "local"
	c.DataDir = str("PICBED_DATA_DIR", "./data")
	for _, t := range strings.Split(getenv("PICBED_TOKENS"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			if _, digest, err := webhooksig.SecretDigest(t); err != nil {
				bad("PICBED_TOKENS", "%v", err)
			} else if !digest && len(t) < 16 {
				bad("PICBED_TOKENS", "every token needs at least 16 characters (one has %d)", len(t))
			}
			c.Tokens = append(c.Tokens, t)
		}
	}
	c.AllowAnonymous = boolean("PICBED_ALLOW_ANONYMOUS", false)
	if c.OnFC && len(c.Tokens) == 0 && !c.AllowAnonymous {
		bad("PICBED_TOKENS", "no upload token is set; set one (or PICBED_ALLOW_ANONYMOUS=true to let anyone upload)")
	}

	if tmpl, err := keys.Parse(str("PICBED_KEY_TEMPLATE", keys.Default)); err != nil {
		bad("PICBED_KEY_TEMPLATE", "%v", err)
	} else {
		c.KeyTemplate = tmpl
	}

	c.MaxBytes = integer("PICBED_MAX_BYTES", c.MaxBytes, 1024, 1<<30)
	c.MaxPixels = integer("PICBED_MAX_PIXELS", c.MaxPixels, 1, 1<<31)
	c.MaxWidth = int(integer("PICBED_MAX_WIDTH", 0, 0, 65535))
	c.MaxHeight = int(integer("PICBED_MAX_HEIGHT", 0, 0, 65535))
	var err error
	if c.Format, err = imageproc.ParseFormat(str("PICBED_FORMAT", "original")); err != nil {
		bad("PICBED_FORMAT", "%v", err)
	}
	c.Quality = int(integer("PICBED_QUALITY", int64(c.Quality), 1, 100))
	c.Strip = boolean("PICBED_STRIP", c.Strip)
	c.Watermark = loadWatermark(str, bad)
	c.MemoryMB = int(integer("PICBED_MEMORY_MB", defaultMemoryMB(getenv), 128, 1<<20))

	c.InboxPrefix = str("PICBED_INBOX_PREFIX", c.InboxPrefix)
	if c.InboxPrefix == "/" || strings.HasPrefix(c.InboxPrefix, "/") || !strings.HasSuffix(c.InboxPrefix, "/") {
		bad("PICBED_INBOX_PREFIX", "%q must be a folder like inbox/ (not empty, not /, ending in /)", c.InboxPrefix)
	} else if pub := c.KeyTemplate.Prefix(); strings.HasPrefix(pub, c.InboxPrefix) || strings.HasPrefix(c.InboxPrefix, pub) {
		bad("PICBED_INBOX_PREFIX", "%q overlaps the key template's folder %q: processed images would trigger new events forever", c.InboxPrefix, pub)
	}
	c.InboxAfter = str("PICBED_INBOX_AFTER", c.InboxAfter)
	if c.InboxAfter != "keep" && c.InboxAfter != "delete" {
		bad("PICBED_INBOX_AFTER", "%q is not keep or delete", c.InboxAfter)
	}
	c.WebhookSecret = str("PICBED_WEBHOOK_SECRET", "")
	if _, digest, err := webhooksig.SecretDigest(c.WebhookSecret); err != nil {
		bad("PICBED_WEBHOOK_SECRET", "%v", err)
	} else if c.WebhookSecret != "" && !digest && len(c.WebhookSecret) < 16 {
		bad("PICBED_WEBHOOK_SECRET", "needs at least 16 characters")
	}
	c.DeleteSecret = str("PICBED_DELETE_SECRET", "")
	if strings.HasPrefix(c.DeleteSecret, webhooksig.DigestPrefix) {
		bad("PICBED_DELETE_SECRET", "cannot be a sha256: digest: it is the HMAC key that signs delete links, so picbed needs the secret itself")
	} else if c.DeleteSecret != "" && len(c.DeleteSecret) < 16 {
		bad("PICBED_DELETE_SECRET", "needs at least 16 characters")
	}

	for _, w := range variant.Widths() {
		name := ossStyleVar(w)
		if v := str(name, ""); v != "" {
			if !ossStyleName.MatchString(v) {
				bad(name, "%q is not an OSS style name (letters, digits, '-', '_' and '.', at most 64)", v)
			}
			if c.OSSStyles == nil {
				c.OSSStyles = map[int]string{}
			}
			c.OSSStyles[w] = v
		}
	}
	loadConnectors(&c, str, bad)

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
		// On FC the credentials come with every invocation; elsewhere
		// nothing can be stored without them, so say so now rather than
		// on the first upload.
		if !c.OnFC && (getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") == "" || getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") == "") {
			bad("ALIBABA_CLOUD_ACCESS_KEY_ID", "PICBED_STORAGE=oss outside Function Compute needs ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (best a short-lived STS token from `aliyun sts AssumeRole`, with ALIBABA_CLOUD_SECURITY_TOKEN)")
		}
	}

	def := ""
	switch {
	case c.Storage == "local" && listenOK:
		def = "http://" + c.Listen + "/f"
	case c.OSSBucket != "" && c.OSSRegion != "":
		def = "https://" + c.OSSBucket + ".oss-" + c.OSSRegion + ".aliyuncs.com"
	}
	c.PublicURL = strings.TrimRight(str("PICBED_PUBLIC_URL", def), "/")
	// An empty default follows from a variable already reported (bucket,
	// region, listen address): no knock-on error for the public URL.
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("PICBED_PUBLIC_URL", "%q is not an http(s) URL", c.PublicURL)
	}
	return c, errors.Join(errs...)
}

// loadConnectors reads the write-back connectors (handler/cms), each off
// unless its URL is set, and checks each by building it: a key that is
// not "id:secret", a URL with credentials in it, a glob that does not
// parse stop the start. Values are never repeated in messages: they are
// secrets. A connector without PICBED_WEBHOOK_SECRET could never be
// triggered, so that is refused too.
func loadConnectors(c *Config, str func(string, string) string, bad func(string, string, ...any)) {
	c.GhostURL, c.GhostAdminKey = str("PICBED_GHOST_URL", ""), str("PICBED_GHOST_ADMIN_KEY", "")
	c.WPURL, c.WPUser, c.WPAppPassword = str("PICBED_WP_URL", ""), str("PICBED_WP_USER", ""), str("PICBED_WP_APP_PASSWORD", "")
	c.GitAPI, c.GitToken, c.GitPaths = str("PICBED_GIT_API", ""), str("PICBED_GIT_TOKEN", ""), str("PICBED_GIT_PATHS", "")
	c.JobsViaInbox = c.OnFC
	var on []string
	check := func(urlVar, url string, needs [][2]string, build func() (string, error)) {
		for _, nv := range needs {
			name, v := nv[0], nv[1]
			if url == "" && v != "" {
				bad(name, "is set but %s is not: set both, or neither", urlVar)
			}
		}
		if url == "" {
			return
		}
		on = append(on, urlVar)
		if _, err := cms.ParseBase(url); err != nil {
			bad(urlVar, "%v", err)
			return
		}
		for _, nv := range needs {
			if name, v := nv[0], nv[1]; v == "" && name != "PICBED_GIT_PATHS" {
				bad(name, "is required with %s", urlVar)
				return
			}
		}
		if name, err := build(); err != nil {
			bad(name, "%v", err)
		}
	}
	check("PICBED_GHOST_URL", c.GhostURL, [][2]string{{"PICBED_GHOST_ADMIN_KEY", c.GhostAdminKey}}, func() (string, error) {
		_, err := cms.NewGhost(c.GhostURL, c.GhostAdminKey)
		return "PICBED_GHOST_ADMIN_KEY", err
	})
	check("PICBED_WP_URL", c.WPURL, [][2]string{{"PICBED_WP_USER", c.WPUser}, {"PICBED_WP_APP_PASSWORD", c.WPAppPassword}}, func() (string, error) {
		_, err := cms.NewWordPress(c.WPURL, c.WPUser, c.WPAppPassword)
		return "PICBED_WP_URL", err
	})
	check("PICBED_GIT_API", c.GitAPI, [][2]string{{"PICBED_GIT_TOKEN", c.GitToken}, {"PICBED_GIT_PATHS", c.GitPaths}}, func() (string, error) {
		_, err := cms.NewGit(c.GitAPI, c.GitToken, c.GitPaths)
		return "PICBED_GIT_PATHS", err
	})
	if len(on) > 0 && c.WebhookSecret == "" {
		bad("PICBED_WEBHOOK_SECRET", "is required with %s: the CMS's webhooks are signed with it", strings.Join(on, ", "))
	} else if _, digest, _ := webhooksig.SecretDigest(c.WebhookSecret); len(on) > 0 && digest {
		bad("PICBED_WEBHOOK_SECRET", "cannot be a sha256: digest with %s: Ghost, WordPress and Git forges sign with HMAC, which needs the secret itself", strings.Join(on, ", "))
	}
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

// defaultMemoryMB is the instance's memory: FC tells it in
// FC_FUNCTION_MEMORY_SIZE (MB); a container has its cgroup limit.
func defaultMemoryMB(getenv func(string) string) int64 {
	if n, err := strconv.ParseInt(strings.TrimSpace(getenv("FC_FUNCTION_MEMORY_SIZE")), 10, 64); err == nil && n > 0 {
		return n
	}
	if n := cgroupMemoryMB(); n > 0 {
		return n
	}
	return admission.DefaultMemoryMB
}

// cgroupMemoryMB reads the cgroup v2 memory limit; 0 when there is none.
// A variable so that tests can pretend to run in a container.
var cgroupMemoryMB = func() int64 {
	b, err := os.ReadFile("/sys/fs/cgroup/memory.max")
	if err != nil {
		return 0
	}
	return parseMemoryMax(string(b))
}

// parseMemoryMax reads cgroup v2's memory.max: bytes, or "max" for none.
// A limit so large it means none (some runtimes write 2^63-ish) is none.
func parseMemoryMax(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n >= 1<<50 {
		return 0
	}
	return n >> 20
}

// SetMemoryLimit tells the garbage collector the instance's memory, so the
// heap is collected before it outgrows the instance (GOMEMLIMIT, when set,
// wins). It changes the whole process, so main calls it once.
func SetMemoryLimit(c Config) {
	if os.Getenv("GOMEMLIMIT") == "" && c.MemoryMB > 0 {
		debug.SetMemoryLimit(int64(c.MemoryMB) << 20 * 9 / 10)
	}
}

// runtimeAPI reads FC_RUNTIME_API (host:port): the runtime API's own
// address looks public (21.0.5.7) but is the platform's endpoint, so the
// remote fetcher must never reach it. An address is denied here; a name is
// returned for the door to resolve.
func runtimeAPI(v string) (deny []netip.Prefix, name string) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, ""
	}
	host := v
	if h, _, err := net.SplitHostPort(v); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, ""
	}
	return nil, host
}
