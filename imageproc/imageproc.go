// Package imageproc is picbed's image pipeline: bytes and a Recipe in, bytes
// and Info out. It does no I/O, keeps no globals and never logs; the caller
// decides what to do with the result and how to report errors.
package imageproc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Version is part of every content-derived key: bump it when the same
// source and recipe would produce different output bytes.
const Version = "1"

// The error kinds Process returns, wrapped with detail. The caller maps
// them to statuses (415, 422, 422).
var (
	ErrUnsupported = errors.New("unsupported image format")
	ErrCorrupt     = errors.New("corrupt image")
	ErrTooLarge    = errors.New("image too large")
)

// Limits bound what Process agrees to decode, checked on the header before
// any pixel buffer exists.
type Limits struct {
	MaxPixels int64 // width*height of one frame; 0 = no limit
	MaxSide   int   // longest side; 0 = no limit
	MaxFrames int   // frames of an animation; 0 = no limit
}

// Recipe says what to make of a source image. The zero Recipe passes the
// image through unchanged.
type Recipe struct {
	MaxWidth, MaxHeight int    // fit within, never upscale; 0 = keep
	Format              Format // "" = keep the source format where browsers can show it
	Quality             int    // lossy quality 1-100; 0 = 82
	Strip               bool   // drop EXIF/XMP/IPTC/comments (GPS, camera)
	Watermark           *Watermark
	Limits              Limits
}

// DefaultQuality is the lossy quality used when a Recipe leaves it at 0.
const DefaultQuality = 82

// Key is a canonical spelling of everything in the recipe that changes the
// output bytes; with the source bytes and Version it names the result.
func (r Recipe) Key() string {
	q := r.Quality
	if q == 0 {
		q = DefaultQuality
	}
	parts := []string{
		"v" + Version,
		"w" + strconv.Itoa(r.MaxWidth),
		"h" + strconv.Itoa(r.MaxHeight),
		"f" + string(r.Format),
		"q" + strconv.Itoa(q),
		"s" + strconv.FormatBool(r.Strip),
	}
	if r.Watermark != nil {
		parts = append(parts, "wm"+r.Watermark.Key())
	}
	return strings.Join(parts, ";")
}

// OutputFormat is the format Process writes for a source of format src.
// Browsers cannot show HEIC, AVIF is not universal yet, and BMP/TIFF are
// wasteful, so those become JPEG (opaque photos) unless a format is asked.
func (r Recipe) OutputFormat(src Format) Format {
	if r.Format != "" {
		return r.Format
	}
	switch src {
	case HEIC, AVIF, BMP, TIFF:
		return JPEG
	}
	return src
}

// ImageInfo describes one image: what came in or what went out.
type ImageInfo struct {
	Format Format `json:"format"`
	Width  int    `json:"width"`  // as displayed: after EXIF orientation
	Height int    `json:"height"` // as displayed: after EXIF orientation
	Size   int    `json:"size"`
	Frames int    `json:"frames,omitempty"`
}

// Path names the way Process took through the pipeline.
type Path string

// The paths, cheapest first.
const (
	PathPassThrough Path = "passthrough"
	PathStrip       Path = "strip"
	PathFull        Path = "full"
)

// Step is one timed stage of the pipeline.
type Step struct {
	Name     string        `json:"name"`
	Duration time.Duration `json:"duration"`
}

// Info reports what Process did.
type Info struct {
	Source          ImageInfo `json:"source"`
	Output          ImageInfo `json:"output"`
	Path            Path      `json:"path"`
	MetadataRemoved bool      `json:"metadata_removed"`
	KeptSource      bool      `json:"kept_source,omitempty"` // a re-encode came out larger
	Note            string    `json:"note,omitempty"`
	Steps           []Step    `json:"steps,omitempty"`
}

// Result is the processed image and what happened to it.
type Result struct {
	Data []byte
	Info Info
}

// CheckLimits refuses a header whose dimensions or frame count exceed l.
func CheckLimits(h Header, l Limits) error {
	if l.MaxSide > 0 && (h.Width > l.MaxSide || h.Height > l.MaxSide) {
		return fmt.Errorf("%w: %dx%d has a side over %d pixels", ErrTooLarge, h.Width, h.Height, l.MaxSide)
	}
	if px := int64(h.Width) * int64(h.Height); l.MaxPixels > 0 && px > l.MaxPixels {
		return fmt.Errorf("%w: %dx%d is %.1f megapixels, over the limit of %.1f", ErrTooLarge,
			h.Width, h.Height, float64(px)/1e6, float64(l.MaxPixels)/1e6)
	}
	if l.MaxFrames > 0 && h.Frames > l.MaxFrames {
		return fmt.Errorf("%w: %d frames, over the limit of %d", ErrTooLarge, h.Frames, l.MaxFrames)
	}
	return nil
}
