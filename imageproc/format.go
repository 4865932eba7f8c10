package imageproc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// Format is an image container picbed recognises from its magic bytes.
type Format string

// The formats picbed accepts. Only JPEG, PNG, GIF and WebP are written;
// the others are converted (see Recipe.OutputFormat).
const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	GIF  Format = "gif"
	WebP Format = "webp"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	HEIC Format = "heic"
	AVIF Format = "avif"
)

// Ext is the file extension used in keys, without the dot.
func (f Format) Ext() string {
	switch f {
	case JPEG:
		return "jpg"
	case TIFF:
		return "tif"
	}
	return string(f)
}

// MIME is the Content-Type an object of this format is served with.
func (f Format) MIME() string {
	switch f {
	case JPEG, PNG, GIF, WebP, BMP, TIFF, HEIC, AVIF:
		return "image/" + string(f)
	}
	return "application/octet-stream"
}

// ParseFormat reads an output format name as a client or the config spells
// it; "" and "original" mean keep the source format.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "", "original":
		return "", nil
	case "jpeg", "jpg":
		return JPEG, nil
	case "png":
		return PNG, nil
	case "webp":
		return WebP, nil
	}
	return "", fmt.Errorf("format %q is not one of original, jpeg, png, webp", s)
}

// Sniff names the format of src from its magic bytes alone. Names and
// Content-Types lie; SVG, HTML and everything else are ErrUnsupported.
func Sniff(src []byte) (Format, error) {
	switch {
	case len(src) == 0:
		return "", fmt.Errorf("%w: the file is empty", ErrCorrupt)
	case bytes.HasPrefix(src, []byte("\xFF\xD8\xFF")):
		return JPEG, nil
	case bytes.HasPrefix(src, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(src, []byte("GIF87a")), bytes.HasPrefix(src, []byte("GIF89a")):
		return GIF, nil
	case len(src) >= 12 && string(src[:4]) == "RIFF" && string(src[8:12]) == "WEBP":
		return WebP, nil
	case bytes.HasPrefix(src, []byte("BM")) && len(src) >= 26:
		return BMP, nil
	case bytes.HasPrefix(src, []byte("II*\x00")), bytes.HasPrefix(src, []byte("MM\x00*")):
		return TIFF, nil
	}
	if f, ok := sniffISOBMFF(src); ok {
		return f, nil
	}
	return "", fmt.Errorf("%w: the bytes are not an image picbed reads", ErrUnsupported)
}

// sniffISOBMFF recognises HEIF-family files by the brands of their ftyp box.
func sniffISOBMFF(src []byte) (Format, bool) {
	if len(src) < 16 || string(src[4:8]) != "ftyp" {
		return "", false
	}
	size := int(binary.BigEndian.Uint32(src[:4]))
	if size < 16 || size > len(src) || size > 4096 {
		size = min(len(src), 4096)
	}
	brands := [][]byte{src[8:12]}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, src[i:i+4])
	}
	heic := false
	for _, b := range brands {
		switch string(b) {
		case "avif", "avis":
			return AVIF, true
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1":
			heic = true
		}
	}
	if heic {
		return HEIC, true
	}
	return "", false
}

// Header is what an image's header tells before any pixel is decoded.
// Frames is 1 for still images; GIF and WebP count their frames.
type Header struct {
	Format        Format
	Width, Height int
	Frames        int
}

// ReadHeader sniffs src and reads its dimensions (and, for GIF and WebP,
// its frame count) from the header alone: nothing here allocates in
// proportion to the declared size, so a decompression bomb costs nothing
// until CheckLimits refuses it. Each format is read by its own parser, never
// through image.DecodeConfig, whose registry several packages fill.
func ReadHeader(src []byte) (Header, error) {
	f, err := Sniff(src)
	if err != nil {
		return Header{}, err
	}
	var w, h int
	frames := 1
	switch f {
	case HEIC, AVIF:
		w, h, err = heifSize(src)
	case GIF:
		w, h, frames, err = gifHeader(src)
	case WebP:
		w, h, frames, err = webpHeader(src)
	default:
		var c image.Config
		c, err = decodeConfig(src, f)
		w, h = c.Width, c.Height
	}
	if err != nil {
		return Header{}, fmt.Errorf("%w: cannot read the %s header: %v", ErrCorrupt, f, err)
	}
	if w <= 0 || h <= 0 {
		return Header{}, fmt.Errorf("%w: the %s header declares %dx%d", ErrCorrupt, f, w, h)
	}
	return Header{Format: f, Width: w, Height: h, Frames: frames}, nil
}

// decodeConfig reads the size of the formats the standard decoders know.
func decodeConfig(src []byte, f Format) (image.Config, error) {
	r := bytes.NewReader(src)
	switch f {
	case JPEG:
		return jpeg.DecodeConfig(r)
	case PNG:
		return png.DecodeConfig(r)
	case BMP:
		return bmp.DecodeConfig(r)
	case TIFF:
		return tiff.DecodeConfig(r)
	}
	return image.Config{}, fmt.Errorf("no header reader for %s", f)
}
