package imageproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"
)

// The pipeline is an ordered list of small steps over one job. Each step
// returns skip at once when its part of the recipe is off or the chosen
// path does not need it, so Process reads top to bottom like the recipe and
// Info.Steps lists only the steps that did something.
var steps = []struct {
	name string
	run  func(*job) error
}{
	{"header", readHeader},   // sniff, size, frames; refuse bombs
	{"plan", plan},           // orientation, target size, path
	{"strip", stripStep},     // lossless metadata removal (strip path)
	{"verify", verifyStep},   // a JPEG stored as it came must decode
	{"decode", decodeStep},   // pixels (full path)
	{"resize", resizeStep},   // fit within MaxWidth x MaxHeight, in stored orientation
	{"orient", orientStep},   // EXIF orientation on the (smaller) result
	{"watermark", markStep},  // logo or text
	{"encode", encodeStep},   // JPEG / PNG / GIF / WebP, plus the ICC profile
	{"never-worse", keepSrc}, // an optional re-encode that grew loses to the source
}

// skip is what a step returns when it had nothing to do.
var skip = errors.New("step skipped")

// job is one run of the pipeline: the source, the recipe, and what the
// steps found and made so far.
type job struct {
	ctx context.Context // done: the work stops at the next check
	src []byte
	r   Recipe

	hdr          Header
	orientation  int
	dispW, dispH int // displayed size of the source (after orientation)
	outW, outH   int // displayed size of the output
	out          Format
	path         Path

	stripped []byte // src without metadata (or src when nothing was removed)
	img      image.Image
	data     []byte

	marked bool // a watermark was drawn
	notes  []string
	info   Info
}

// Process runs the recipe on src. It reads the header and checks the limits
// before anything is decoded; the output format is always
// r.OutputFormat(source format). When ctx is done (a timeout, an abandoned
// request) the work stops: between steps, inside the JPEG decoder's rows
// and scans, and between the tiles of a HEIC grid (one WASM codec call
// runs to its end); the error then wraps ctx's error
// (context.Canceled or context.DeadlineExceeded), and nothing the job
// allocated is kept.
func Process(ctx context.Context, src []byte, r Recipe) (Result, error) {
	j := &job{ctx: ctx, src: src, r: r}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("stopped before the %s step: %w", s.name, err)
		}
		t := time.Now()
		switch err := s.run(j); err {
		case nil:
			j.info.Steps = append(j.info.Steps, Step{Name: s.name, Duration: time.Since(t)})
		case skip:
		default:
			return Result{}, err
		}
	}
	j.info.Path = j.path
	j.info.Note = strings.Join(j.notes, "; ")
	j.info.Output.Size = len(j.data)
	return Result{Data: j.data, Info: j.info}, nil
}

func readHeader(j *job) error {
	h, err := ReadHeader(j.src)
	if err != nil {
		return err
	}
	if err := CheckLimits(h, j.r.Limits); err != nil {
		return err
	}
	if h.Format == JPEG { // every path: decoders, the strip's copy, pass-through
		if err := checkJPEG(j.src); err != nil {
			return err
		}
	}
	j.hdr = h
	return nil
}

// plan picks the cheapest path that honours the recipe.
func plan(j *job) error {
	h := j.hdr
	j.out = j.r.OutputFormat(h.Format)
	j.orientation = 1
	if h.Format == JPEG {
		j.orientation = jpegOrientation(j.src)
	}
	j.dispW, j.dispH = h.Width, h.Height
	if swapsSides(j.orientation) || ((h.Format == HEIC || h.Format == AVIF) && heifTurnsSides(j.src)) {
		// (HEIC/AVIF decoders apply irot themselves: the decoded picture is upright)
		j.dispW, j.dispH = h.Height, h.Width
	}
	j.outW, j.outH = fitSize(j.dispW, j.dispH, j.r.MaxWidth, j.r.MaxHeight)
	shrink := j.outW != j.dispW || j.outH != j.dispH
	animated := h.Frames > 1
	j.info.Source = ImageInfo{Format: h.Format, Width: j.dispW, Height: j.dispH, Size: len(j.src), Frames: h.Frames}
	switch {
	case animated && j.out == h.Format:
		if shrink || j.r.Watermark != nil {
			j.notes = append(j.notes, "animations are kept as they are: resizing and watermarking them is not supported yet")
		}
		j.outW, j.outH = j.dispW, j.dispH
		j.path = PathStrip
	case j.out != h.Format, shrink, j.r.Watermark != nil, h.Format == HEIC, h.Format == AVIF, h.Format == BMP, h.Format == TIFF:
		if animated {
			j.notes = append(j.notes, fmt.Sprintf("only the first of %d frames was kept", h.Frames))
		}
		j.path = PathFull
	default:
		j.path = PathStrip
	}
	if j.path == PathStrip && !j.r.Strip {
		j.path = PathPassThrough
	}
	j.stripped = j.src
	if j.path != PathFull {
		j.data = j.src
		j.info.Output = ImageInfo{Format: j.out, Width: j.outW, Height: j.outH, Frames: h.Frames}
	}
	return nil
}

// stripStep removes metadata losslessly. On the full path it only prepares
// the stripped source for keepSrc when the re-encode may turn out optional.
func stripStep(j *job) error {
	canStrip := j.hdr.Format == JPEG || j.hdr.Format == PNG || j.hdr.Format == GIF || j.hdr.Format == WebP
	mayKeep := j.out == j.hdr.Format && j.outW == j.dispW && j.outH == j.dispH // keepSrc may want it
	needed := j.path == PathStrip || (j.path == PathFull && mayKeep && canStrip)
	if !j.r.Strip || !needed {
		return skip
	}
	out, removed, err := strip(j.src, j.hdr.Format)
	if err != nil {
		return err
	}
	if removed {
		j.stripped = out
		j.info.MetadataRemoved = true
	}
	if j.path == PathStrip {
		if !removed {
			j.path = PathPassThrough
		}
		j.data = j.stripped
	}
	return nil
}

// verifyStep: the strip and pass-through paths copy a JPEG's entropy-coded
// data without reading it, so a decoder reads it here first; the full path
// decodes anyway.
func verifyStep(j *job) error {
	if j.hdr.Format != JPEG || j.path == PathFull {
		return skip
	}
	return verifyJPEG(j.ctx, j.src)
}

func decodeStep(j *job) error {
	if j.path != PathFull {
		return skip
	}
	scale := float64(j.outW) / float64(j.dispW)
	img, err := decode(j.ctx, j.src, j.hdr, scale)
	if err != nil {
		return err
	}
	j.img = img
	return nil
}

// resizeStep shrinks before orient: turning the smaller image is cheaper,
// and the result is the same.
func resizeStep(j *job) error {
	if j.img == nil {
		return skip
	}
	w, h := j.outW, j.outH
	if swapsSides(j.orientation) {
		w, h = h, w
	}
	if b := j.img.Bounds(); b.Dx() == w && b.Dy() == h {
		return skip
	}
	img, err := resize(j.img, image.Pt(j.hdr.Width, j.hdr.Height), w, h)
	if err != nil {
		return err
	}
	j.img = img
	return nil
}

func orientStep(j *job) error {
	if j.img == nil || j.orientation <= 1 {
		return skip
	}
	j.img = orient(j.img, j.orientation)
	return nil
}

func markStep(j *job) error {
	if j.img == nil || j.r.Watermark == nil {
		return skip
	}
	var drawn bool
	var why string
	var err error
	if m, ok := j.img.(*image.YCbCr); ok && m.SubsampleRatio == image.YCbCrSubsampleRatio420 && m.Rect.Min == (image.Point{}) {
		drawn, why, err = j.r.Watermark.drawPlanes(m) // in place: the planes are this job's own
	} else {
		dst := toRGBA(j.img)
		if drawn, why, err = j.r.Watermark.draw(dst); drawn {
			j.img = dst
		}
	}
	if err != nil {
		return err
	}
	if why != "" {
		j.notes = append(j.notes, why)
	}
	j.marked = drawn
	return nil
}

// encodeStep writes the pixels and carries the source's ICC profile over,
// since the pixels are still in its colour space.
func encodeStep(j *job) error {
	if j.img == nil {
		return skip
	}
	q := j.r.Quality
	if q == 0 {
		q = DefaultQuality
	}
	if j.out == WebP && (j.hdr.Format == PNG || j.hdr.Format == GIF) {
		q = losslessQuality // graphics and screenshots: lossless is smaller and exact
	}
	data, err := encode(j.img, j.out, q)
	if err != nil {
		return err
	}
	data = withICC(data, j.out, iccProfile(j.src, j.hdr.Format))
	b := j.img.Bounds()
	j.data = data
	j.info.MetadataRemoved = j.info.MetadataRemoved || hasMetadata(j.src, j.hdr.Format)
	j.info.Output = ImageInfo{Format: j.out, Width: b.Dx(), Height: b.Dy(), Frames: 1}
	return nil
}

// hasMetadata says whether the full path dropped something: re-encoding
// writes no EXIF/XMP, so whatever the source carried is gone. It only looks
// at the block structure (a GIF's kept extensions are rebuilt to tell).
func hasMetadata(src []byte, f Format) bool {
	found := false
	switch f {
	case JPEG:
		_, _ = walkJPEG(src, func(s jpegSegment) { found = found || jpegDrop(s) })
	case PNG:
		_ = walkPNG(src, func(typ string, _ []byte) { found = found || !pngKeep[typ] })
	case GIF:
		_, _, _, _ = walkGIF(src, func(b gifBlock) { found = found || gifKept(src, b) == nil })
	case WebP:
		_ = walkWebP(src, func(c riffChunk) { found = found || !webpKeep[c.fourcc] })
	default:
		return true // HEIC/AVIF/TIFF carry EXIF as a matter of course
	}
	return found
}

// keepSrc: when the re-encode was optional (no resize, no watermark drawn,
// no format change) and came out larger than the stripped source, the
// stripped source is the better answer.
func keepSrc(j *job) error {
	shrunk := j.outW != j.dispW || j.outH != j.dispH // asked for, however decode got there
	if j.path != PathFull || shrunk || j.marked || j.out != j.hdr.Format || j.hdr.Frames > 1 {
		return skip
	}
	if len(j.data) <= len(j.stripped) {
		return nil
	}
	j.data = j.stripped
	j.path = PathStrip
	if bytes.Equal(j.stripped, j.src) {
		j.path = PathPassThrough
	}
	j.info.KeptSource = true
	j.info.MetadataRemoved = !bytes.Equal(j.stripped, j.src)
	j.info.Output = ImageInfo{Format: j.out, Width: j.dispW, Height: j.dispH, Frames: j.hdr.Frames}
	return nil
}
