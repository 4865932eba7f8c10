// Package variant names the smaller copies picbed offers of every stored
// image: a thumbnail about 400 px wide and a fixed ladder of widths below
// the stored width (never above it), and writes the links and the
// responsive <img> that use them.
//
// The widths are fixed, not asked for: on OSS each is an image-processing
// link on the stored object (or a named style), locally GET /f/{key}?w=N
// makes it once and keeps it. Either way no one can make picbed resize to
// an arbitrary size.
package variant

import (
	"html"
	"strconv"
	"strings"

	"picbed/imageproc"
)

// Thumb is the width of the thumbnail (the page's gallery, Lsky's
// thumbnail_url, Chevereto's thumb).
const Thumb = 400

// Ladder is the widths a blog's srcset chooses from, narrowest first.
var Ladder = []int{640, 960, 1280, 1920}

// Widths are every width picbed makes: the thumbnail and the ladder.
func Widths() []int { return append([]int{Thumb}, Ladder...) }

// Image is what the variants of one stored image depend on.
type Image struct {
	URL           string           // the stored object's public link
	Width, Height int              // stored (displayed) size
	Format        imageproc.Format // stored format
	Animated      bool             // animations are never resized: no variants
}

// Link is one variant: its size and where it is.
type Link struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	URL    string `json:"url"`
}

// Offers reports whether w is a width this image is offered at: the
// thumbnail or a ladder width, strictly below the stored width, and never
// for an animation.
func (im Image) Offers(w int) bool {
	if im.Animated || w <= 0 || w >= im.Width {
		return false
	}
	if w == Thumb {
		return true
	}
	for _, l := range Ladder {
		if l == w {
			return true
		}
	}
	return false
}

// heightAt is the height of the w-wide variant: imageproc's own fit, so the
// answer states exactly what the resize makes.
func (im Image) heightAt(w int) int {
	_, h := imageproc.FitSize(im.Width, im.Height, w, 0)
	return h
}

// Namer turns a stored link and a width into the variant's link. Local
// mode and OSS spell it differently.
type Namer struct {
	// OSS: image-processing parameters on the stored object; else ?w=N.
	OSS bool
	// WebP: variants are WebP whatever the stored format (PICBED_FORMAT=webp).
	WebP bool
	// Styles: an OSS style name that replaces the inline parameters for a
	// width (PICBED_OSS_STYLE_<width>).
	Styles map[int]string
}

// Format is the format of im's variants: WebP when configured, else the
// stored format.
func (n Namer) Format(stored imageproc.Format) imageproc.Format {
	if n.WebP {
		return imageproc.WebP
	}
	return stored
}

// URL is the link to the w-wide variant of the image at url (stored as
// format).
func (n Namer) URL(url string, format imageproc.Format, w int) string {
	if !n.OSS {
		return url + "?w=" + strconv.Itoa(w)
	}
	if s := n.Styles[w]; s != "" {
		return url + "?x-oss-process=style/" + s
	}
	p := url + "?x-oss-process=image/resize,w_" + strconv.Itoa(w)
	if f := n.Format(format); f != format {
		p += "/format," + string(f)
	}
	return p
}

// Set is what an upload answer says about the variants of one image.
type Set struct {
	Thumbnail string // the thumbnail, or the image itself when it is not wider
	Variants  []Link // the ladder widths below the stored width; never nil
}

// For lists the thumbnail and ladder variants of im.
func (n Namer) For(im Image) Set {
	s := Set{Thumbnail: im.URL, Variants: []Link{}}
	if im.Offers(Thumb) {
		s.Thumbnail = n.URL(im.URL, im.Format, Thumb)
	}
	for _, w := range Ladder {
		if im.Offers(w) {
			s.Variants = append(s.Variants, Link{Width: w, Height: im.heightAt(w), URL: n.URL(im.URL, im.Format, w)})
		}
	}
	return s
}

// Pick is the link for a blog post that shows im at most w wide: the
// variant of that width when im is offered at it, else the image itself
// (it is no wider). ok is false when w is not one of Widths.
func (n Namer) Pick(im Image, w int) (url string, ok bool) {
	known := false
	for _, k := range Widths() {
		known = known || k == w
	}
	if !known {
		return "", false
	}
	if im.Offers(w) {
		return n.URL(im.URL, im.Format, w), true
	}
	return im.URL, true
}

// HTML is the responsive <img> for im: every offered width in srcset with
// the image itself as the widest, sizes saying it is shown at most its own
// width, and width/height so the page keeps its place while it loads.
func (n Namer) HTML(im Image, alt string) string {
	var b strings.Builder
	b.WriteString(`<img src="` + html.EscapeString(im.URL) + `"`)
	var set []string
	for _, w := range Widths() {
		if im.Offers(w) {
			set = append(set, n.URL(im.URL, im.Format, w)+" "+strconv.Itoa(w)+"w")
		}
	}
	if len(set) > 0 && im.Width > 0 {
		set = append(set, im.URL+" "+strconv.Itoa(im.Width)+"w")
		b.WriteString(` srcset="` + html.EscapeString(strings.Join(set, ", ")) + `"`)
		px := strconv.Itoa(im.Width) + "px"
		b.WriteString(` sizes="(max-width: ` + px + `) 100vw, ` + px + `"`)
	}
	if im.Width > 0 && im.Height > 0 {
		b.WriteString(` width="` + strconv.Itoa(im.Width) + `" height="` + strconv.Itoa(im.Height) + `"`)
	}
	b.WriteString(` loading="lazy" decoding="async" alt="` + html.EscapeString(alt) + `">`)
	return b.String()
}
