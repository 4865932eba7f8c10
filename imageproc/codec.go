package imageproc

// The three codec-level operations of the pipeline live here, each a small
// function with a fixed shape, so a faster implementation can replace a
// body without touching the pipeline around it:
//
//	decode(ctx context.Context, src []byte, h Header, scale float64) (image.Image, error)
//	    pixels of src (first frame of an animation), whose header (read
//	    once, by ReadHeader) is h. A decoder that can stop part way stops
//	    with ctx's error when ctx is done. scale (0 < scale <= 1)
//	    is how much the caller will shrink the result afterwards: a decoder
//	    may return an image up to 1/scale times smaller than the source
//	    (e.g. JPEG DCT scaling at 1/2, 1/4, 1/8) but never smaller than
//	    scale times the source size, so resize still only shrinks. The
//	    caller uses the returned bounds, never the header's. Errors wrap
//	    ErrCorrupt; a panic inside a decoder is turned into ErrCorrupt.
//	resize(img image.Image, src image.Point, w, h int) (image.Image, error)
//	    img (decoded from a picture of src pixels, which may end inside
//	    img's last row and column) scaled to exactly w x h with a good
//	    filter (Lanczos3), alpha weighted. Returns planes (*image.YCbCr,
//	    *image.Gray) for opaque JPEG/HEIC pixels, else *image.NRGBA.
//	encode(img image.Image, f Format, quality int) ([]byte, error)
//	    img written as JPEG, PNG, GIF or WebP; quality 1-100 for the lossy
//	    formats, or losslessQuality for lossless WebP. Writes no metadata.
//
// Everything else (orientation, watermark, metadata) works on whatever
// image.Image these return.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"

	"picbed/imageproc/internal/jpegx"
	"picbed/imageproc/internal/resample"
	"picbed/imageproc/internal/vp8"
	"picbed/imageproc/internal/wasmcodec"

	"github.com/disintegration/imaging"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	xwebp "golang.org/x/image/webp"
)

// losslessQuality asks encode for lossless WebP.
const losslessQuality = -1

// decode returns the pixels of src (the first frame of an animation).
func decode(ctx context.Context, src []byte, h Header, scale float64) (img image.Image, err error) {
	f := h.Format
	defer recoverDecoder(f, &err) // img is still nil when a decoder panics
	r := bytes.NewReader(src)
	switch f {
	case JPEG:
		s := jpegShrink(h, scale)
		img, err = decodeJPEG(ctx, src, s, lumaShrink(s, scale))
	case PNG:
		img, err = png.Decode(r)
	case GIF:
		img, err = gif.Decode(r)
	case WebP:
		if bytes.Contains(src[:min(len(src), 64)], []byte("ANIM")) {
			img, err = wasmcodec.DecodeWebPFirst(ctx, src) // x/image/webp cannot read animations
		} else {
			img, err = xwebp.Decode(r)
		}
		if err == nil { // lossy planes are limited-range BT.601, not JPEG YCbCr (golang/go#40173)
			if m, ok := vp8.ToNRGBA(img); ok {
				img = m
			}
		}
	case BMP:
		img, err = bmp.Decode(r)
	case TIFF:
		img, err = tiff.Decode(r)
	case HEIC:
		img, err = decodeHEIC(ctx, src)
	case AVIF:
		img, err = wasmcodec.DecodeAVIF(ctx, src)
	default:
		return nil, fmt.Errorf("%w: cannot decode %s", ErrUnsupported, f)
	}
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("stopped decoding the %s: %w", f, ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cannot decode the %s: %v", ErrCorrupt, f, err)
	}
	if b := img.Bounds(); b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, fmt.Errorf("%w: the %s decoded to %v", ErrCorrupt, f, b)
	}
	return img, nil
}

// decodeJPEG decodes src with its luma at 1/l and the rest at 1/s (l <= s,
// each 1, 2, 4 or 8) where our decoder can; image/jpeg decides the rest
// (CMYK, corrupt...) at full size. Each reads files the other refuses:
// image/jpeg cannot read progressive files with restart markers, so when
// it refuses a file our decoder was not tried on, ours decodes it at full
// size. A stop (ctx done) inside our decoder is not a refusal: it is
// returned as it is, not handed to image/jpeg.
func decodeJPEG(ctx context.Context, src []byte, s, l int) (image.Image, error) {
	if s > 1 {
		if l < s {
			if m, err := jpegx.DecodeSplit(ctx, src, l, s); err == nil {
				return m, nil
			} else if ctx.Err() != nil {
				return nil, err
			}
		}
		if m, err := jpegx.Decode(ctx, src, s); err == nil {
			return m, nil
		} else if ctx.Err() != nil {
			return nil, err
		}
	}
	m, err := jpeg.Decode(bytes.NewReader(src))
	if err != nil && s == 1 {
		if m, xerr := jpegx.Decode(ctx, src, 1); xerr == nil {
			return m, nil
		}
	}
	return m, err
}

// verifyJPEG proves that a JPEG leaving the pipeline as it came (pass-through,
// or the strip, which copies the entropy-coded data untouched) decodes: the
// decoders above read it at 1/8, which parses every coefficient and
// transforms only the DC. A file cut short and closed with an EOI, or a
// broken table, is refused like on the full path, never stored.
func verifyJPEG(ctx context.Context, src []byte) (err error) {
	defer recoverDecoder(JPEG, &err)
	if _, err := decodeJPEG(ctx, src, 8, 8); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: cannot decode the %s: %v", ErrCorrupt, JPEG, err)
	}
	return nil
}

// recoverDecoder turns a decoder's panic into ErrCorrupt: decoders are
// parsers of hostile input, and a bug in one is the file's refusal, not
// the process's end.
func recoverDecoder(f Format, err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: the %s decoder failed: %v", ErrCorrupt, f, p)
	}
}

// checkJPEG walks a JPEG's markers before anything decodes or copies it
// (jpegx.Check): image/jpeg, our decoder and the lossless strip all get
// only files whose structure is sound and whose scans fit the budget, so a
// few KB of repeated refinement scans cannot cost seconds of CPU.
func checkJPEG(src []byte) error {
	err := jpegx.Check(src)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jpegx.ErrTooComplex):
		return fmt.Errorf("%w: JPEG too complex to decode: %v", ErrCorrupt, err)
	case errors.Is(err, jpegx.ErrUnsupported):
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return fmt.Errorf("%w: JPEG: %v", ErrCorrupt, err)
}

// resize scales img, decoded from a picture of src pixels, to exactly
// w x h. Opaque YCbCr and grey pictures (every decoded JPEG) are resized
// on their planes with Lanczos3 in fixed point and stay planes
// (*image.YCbCr, *image.Gray): a JPEG encode takes them as they are, and
// orient/watermark work on 4:2:0 planes directly (others go through toRGBA
// once). A *jpegx.Split (luma and chroma decoded at different scales)
// comes out as a 4:2:0 *image.YCbCr. Anything else goes through
// disintegration/imaging's Lanczos into *image.NRGBA, which weights colour
// by alpha, so transparent pixels do not bleed their (meaningless) colour
// into opaque neighbours. A panic in a resize worker is returned as an
// error.
func resize(img image.Image, src image.Point, w, h int) (image.Image, error) {
	X, Y := float64(src.X), float64(src.Y)
	if m, ok := img.(*jpegx.Split); ok { // 4:2:0 JPEG, chroma decoded smaller: 4:2:0 out
		y, err := resample.ResizePlanesScaled(m.Y, w, h, extent(X, m.Y.Rect.Dx())/float64(w),
			extent(Y, m.Y.Rect.Dy())/float64(h), resample.Lanczos3)
		if err != nil {
			return nil, err
		}
		// the chroma planes cover the picture at half its size, and so does
		// the output's
		cw, ch := (w+1)/2, (h+1)/2
		sx, sy := extent(X/2, m.Cb.Rect.Dx())/(float64(w)/2), extent(Y/2, m.Cb.Rect.Dy())/(float64(h)/2)
		cb, err := resample.ResizePlanesScaled(m.Cb, cw, ch, sx, sy, resample.Lanczos3)
		if err != nil {
			return nil, err
		}
		cr, err := resample.ResizePlanesScaled(m.Cr, cw, ch, sx, sy, resample.Lanczos3)
		if err != nil {
			return nil, err
		}
		cbg, crg := cb.(*image.Gray), cr.(*image.Gray)
		// Cb and Cr have one size and stride, so they come out with one stride
		// (the decoder's when already cw x ch, else cw)
		return &image.YCbCr{Y: y.(*image.Gray).Pix, Cb: cbg.Pix, Cr: crg.Pix, YStride: y.(*image.Gray).Stride,
			CStride: cbg.Stride, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, w, h)}, nil
	}
	if resample.Supported(img) { // opaque YCbCr/Gray: planar fixed point, 2 workers
		b := img.Bounds()
		return resample.ResizePlanesScaled(img, w, h, extent(X, b.Dx())/float64(w), extent(Y, b.Dy())/float64(h), resample.Lanczos3)
	}
	// the general path (alpha, palettes, 16-bit...): imaging's Lanczos on
	// straight RGBA, weighting colour by alpha (27 % less CPU than
	// x/image/draw's Catmull-Rom, BenchmarkRGBALevers)
	return imaging.Resize(img, w, h, imaging.Lanczos), nil
}

// extent is how many of the n samples a decoder returned for a side of
// src picture samples hold picture: src/s when it decoded at 1/s (s = 1, 2,
// 4 or 8, the one with ceil(src/s) = n). DCT scaling rounds the size up, so
// the last sample of a side that s does not divide covers only part of one.
func extent(src float64, n int) float64 {
	for _, s := range []float64{1, 2, 4, 8} {
		if math.Ceil(src/s) == float64(n) {
			return src / s
		}
	}
	return float64(n)
}

// jpegShrink is the DCT scaling denominator (1, 2, 4 or 8) for a decode
// whose result will be shrunk by scale: the largest that still leaves the
// picture at least scale times the source size, so resize only shrinks.
// Scale 1 stays with image/jpeg, which is faster at full size, and so do
// sources under shrinkMinPixels: decoding them costs little, and on tiny
// pictures the blockwise DCT shrink is visibly coarser than a real filter.
func jpegShrink(h Header, scale float64) int {
	if h.Width*h.Height < shrinkMinPixels {
		return 1
	}
	for _, s := range []int{8, 4, 2} {
		if scale > 0 && scale*float64(s) <= 1 {
			return s
		}
	}
	return 1
}

// lumaShrink is the DCT scaling denominator for the luma of a 4:2:0 JPEG
// whose chroma is decoded at 1/s: s, or s/2 when 1/s would leave the luma
// filter less than a factor of two. A DCT shrink followed by a small
// residual resize (12 MP to 1920: 1/2, then 1.05x) is measurably softer
// than a real filter over the full reduction, like libvips' rule (sharp
// decodes this case at full size); the chroma, which the output
// subsamples 2x anyway, keeps the full shrink.
func lumaShrink(s int, scale float64) int {
	if s > 1 && scale*float64(s) > 0.5 {
		return s / 2
	}
	return s
}

// shrinkMinPixels is the smallest JPEG (width*height) decoded with DCT
// scaling.
const shrinkMinPixels = 1 << 20

// fastEncodeMinPixels is the smallest picture written by jpegx.Encode;
// smaller ones cost well under a millisecond with image/jpeg, whose output
// the pipeline's size comparisons (never-bigger) were written against.
const fastEncodeMinPixels = 256 * 256

// encode writes img in format f without any metadata.
func encode(img image.Image, f Format, quality int) ([]byte, error) {
	var buf bytes.Buffer
	var err error
	if _, ok := img.(*image.YCbCr); ok && f != JPEG && f != WebP { // encodeWebP takes planes
		img = toRGBA(img) // the PNG and GIF encoders' fast paths take RGBA
	}
	switch f {
	case JPEG:
		m := jpegReady(img)
		if b := m.Bounds(); b.Dx()*b.Dy() >= fastEncodeMinPixels { // optimised Huffman, 2 workers
			switch m := m.(type) {
			case *image.RGBA: // opaque by now
				return jpegx.Encode(m, quality)
			case *image.YCbCr:
				if m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
					return jpegx.EncodeYCbCr(m, quality)
				}
			}
		}
		err = jpeg.Encode(&buf, m, &jpeg.Options{Quality: quality})
	case PNG:
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		err = enc.Encode(&buf, img)
	case GIF:
		err = gif.Encode(&buf, gifReady(img), nil)
	case WebP:
		o := wasmcodec.WebPOptions{Quality: quality, Method: 4}
		if quality == losslessQuality {
			o = wasmcodec.WebPOptions{Lossless: true, Quality: 50, Method: 4}
		}
		var data []byte
		if data, err = encodeWebP(img, o); err == nil {
			return data, nil
		}
	default:
		return nil, fmt.Errorf("%w: cannot write %s", ErrUnsupported, f)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", f, err)
	}
	return buf.Bytes(), nil
}

// gifReady quantizes to Plan 9's palette with Floyd-Steinberg, keeping
// one entry for transparency when the image has any.
func gifReady(img image.Image) *image.Paletted {
	if p, ok := img.(*image.Paletted); ok {
		return p
	}
	pal := color.Palette(palette.Plan9)
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		pal = append(color.Palette{color.Transparent}, palette.Plan9[:255]...)
	}
	b := img.Bounds()
	pm := image.NewPaletted(b, pal)
	draw.FloydSteinberg.Draw(pm, b, img, b.Min)
	return pm
}

// jpegReady gives image/jpeg an image it encodes on its fast paths: an
// opaque *image.NRGBA is handed over as an *image.RGBA view of the same
// pixels (identical when every alpha is 255), and a translucent image is
// flattened onto white, since JPEG has no alpha and would otherwise show
// the premultiplied colours (dark fringes).
func jpegReady(img image.Image) image.Image {
	switch m := img.(type) {
	case *image.YCbCr, *image.Gray:
		return m
	case *image.NRGBA:
		if m.Opaque() {
			return &image.RGBA{Pix: m.Pix, Stride: m.Stride, Rect: m.Rect}
		}
	case *image.RGBA:
		if m.Opaque() {
			return m
		}
	}
	if o, ok := img.(interface{ Opaque() bool }); ok && o.Opaque() {
		return img
	}
	b := img.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, b, img, b.Min, draw.Over)
	return dst
}
