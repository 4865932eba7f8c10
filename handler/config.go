package handler

import (
	"net/netip"

	"picbed/handler/keys"
	"picbed/imageproc"
)

// Config is what the handler needs to know, fixed for its lifetime. It
// holds values, not where they came from: function/config reads them from
// the environment (PICBED_*), tests set them directly.
type Config struct {
	PublicURL string // base of every link, without a trailing slash
	// LocalFiles serves GET /f/{key} from the store (local storage, where
	// nothing else serves the files).
	LocalFiles bool

	Tokens         []string // upload tokens, each in clear or as "sha256:<hex>" of the token
	AllowAnonymous bool     // no token needed when Tokens is empty
	// TokenHint ends 401 messages: where the right token is, e.g. "; the
	// local server's token is in data/.picbed-token".
	TokenHint string

	KeyTemplate *keys.Template

	MaxBytes  int64 // largest accepted upload
	MaxPixels int64
	MaxWidth  int // 0: no limit
	MaxHeight int
	Format    imageproc.Format
	Quality   int
	Strip     bool
	Watermark *imageproc.Watermark // nil = off
	MemoryMB  int                  // the instance's memory, for admission control (0: admission.DefaultMemoryMB)

	InboxPrefix string // the OSS inbox folder, e.g. inbox/
	InboxAfter  string // keep | delete

	WebhookSecret string
	DeleteSecret  string // signs delete links (default: derived from the tokens given in clear)

	OSSBucket string // the bucket picbed writes to; events from others are skipped
	// OSSStyles names an OSS image style to use for a variant width instead
	// of inline resize parameters (PICBED_OSS_STYLE_<width>).
	OSSStyles map[int]string

	// Write-back connectors (handler/cms): a webhook from a configured CMS
	// becomes a job that writes the post back. An empty URL leaves one off.
	GhostURL, GhostAdminKey      string
	WPURL, WPUser, WPAppPassword string
	GitAPI, GitToken, GitPaths   string
	// JobsViaInbox drops each webhook job as an object under InboxPrefix,
	// for the OSS trigger to run (Function Compute may freeze the instance
	// once the webhook is answered); otherwise a goroutine runs it.
	JobsViaInbox bool

	// FetchDeny are addresses the remote fetcher never connects to, on top
	// of its own table: hosts that look public but belong to the platform.
	// The door passes Function Compute's runtime API here (FC_RUNTIME_API).
	FetchDeny []netip.Prefix
}

// The defaults of DESIGN.md.
const (
	DefaultMaxBytes  = 32 << 20
	DefaultMaxPixels = 50_000_000
)

// DefaultConfig is the configuration with every default of DESIGN.md and
// no token, for a public URL: what function/config starts from, and what
// tests adjust.
func DefaultConfig(publicURL string) Config {
	tmpl, err := keys.Parse(keys.Default)
	if err != nil {
		panic(err)
	}
	return Config{
		PublicURL:   publicURL,
		KeyTemplate: tmpl,
		MaxBytes:    DefaultMaxBytes,
		MaxPixels:   DefaultMaxPixels,
		Quality:     imageproc.DefaultQuality,
		Strip:       true,
		InboxPrefix: "inbox/",
		InboxAfter:  "keep",
	}
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
