// Package resample shrinks opaque pictures fast: separable filters with
// weights precomputed once per axis in 14-bit fixed point, applied to 8-bit
// planes (the Y, Cb and Cr of a decoded JPEG or HEIC, never converted at
// full size), split across two goroutines by rows. The result stays planes;
// whoever needs RGB converts once, at the output size.
package resample

import (
	"fmt"
	"image"
	"math"

	"picbed/imageproc/internal/workers"
)

// Filter is a separable resampling kernel.
type Filter struct {
	Support float64 // kernel radius at scale 1
	Kernel  func(x float64) float64
}

// Lanczos3 is the windowed sinc with three lobes (ImageMagick's and
// libvips's default for shrinking).
var Lanczos3 = Filter{Support: 3, Kernel: func(x float64) float64 {
	x = math.Abs(x)
	if x == 0 {
		return 1
	}
	if x >= 3 {
		return 0
	}
	px := math.Pi * x
	return 3 * math.Sin(px) * math.Sin(px/3) / (px * px)
}}

const (
	fracBits = 14
	one      = 1 << fracBits
)

// weights maps every output position of one axis to taps consecutive input
// samples starting at start[i], with w[i*taps+t] summing to one (2^14).
type weights struct {
	start []int
	taps  int
	w     []int32
	simd  simdWeights
}

// simdWeights is weights laid out for the AVX2 kernels: nil slices when
// they are off or cannot take these weights (a weight beyond int16, or
// more than 16 taps for the horizontal kernels).
type simdWeights struct {
	k      int     // horizontal: taps padded to 8 or 16 (0: no kernel)
	start  []int32 // horizontal: start as int32
	h      []int16 // horizontal: k per output; for k = 8, each group of eight outputs in the order 0 4 1 5 2 6 3 7
	vpairs []int32 // vertical: (taps+1)/2 pairs of int16 weights per output, low half first
}

// forSIMD fills ws.simd for a horizontal (horiz) or vertical pass.
func (ws *weights) forSIMD(horiz bool) {
	if !useSIMD {
		return
	}
	for _, v := range ws.w {
		if v < math.MinInt16 || v > math.MaxInt16 {
			return
		}
	}
	out := len(ws.start)
	if !horiz {
		np := (ws.taps + 1) / 2
		ws.simd.vpairs = make([]int32, out*np)
		for i := 0; i < out; i++ {
			for t := 0; t < ws.taps; t++ {
				v := int32(uint16(int16(ws.w[i*ws.taps+t])))
				ws.simd.vpairs[i*np+t/2] |= v << (16 * (t % 2))
			}
		}
		return
	}
	k := 8
	if ws.taps > 8 {
		k = 16
	}
	if ws.taps > k {
		return
	}
	ws.simd.k = k
	ws.simd.start = make([]int32, out)
	ws.simd.h = make([]int16, out*k)
	order := [8]int{0, 4, 1, 5, 2, 6, 3, 7}
	for i := 0; i < out; i++ {
		ws.simd.start[i] = int32(ws.start[i])
		slot := i
		if k == 8 && i < out&^7 {
			g, j := i&^7, i&7
			for p, o := range order {
				if o == j {
					slot = g + p
				}
			}
		}
		for t := 0; t < ws.taps; t++ {
			ws.simd.h[slot*k+t] = int16(ws.w[i*ws.taps+t])
		}
	}
}

// makeWeights computes the taps for shrinking (or copying) in samples to
// out, one output sample spanning scale input samples (in/out, unless the
// input's last sample holds only part of a picture sample: a JPEG decoded
// at 1/8 with a width that is not a multiple of 8). Positions outside the
// input are folded onto the edge sample.
func makeWeights(in, out int, scale float64, f Filter) weights {
	stretch := max(scale, 1) // widen the kernel when shrinking (anti-aliasing)
	support := f.Support * stretch
	taps := 1 // the widest window any output needs, clamped to the input
	for i := 0; i < out; i++ {
		center := (float64(i)+0.5)*scale - 0.5
		first, last := int(math.Floor(center-support+1)), int(math.Ceil(center+support-1))
		taps = max(taps, min(last, in-1)-max(first, 0)+1)
	}
	taps = min(taps, in)
	ws := weights{start: make([]int, out), taps: taps, w: make([]int32, out*taps)}
	fw := make([]float64, taps)
	for i := 0; i < out; i++ {
		center := (float64(i)+0.5)*scale - 0.5
		first, last := int(math.Floor(center-support+1)), int(math.Ceil(center+support-1))
		start := max(0, min(first, in-taps)) // the window, kept inside the input
		for t := range fw {
			fw[t] = 0
		}
		var sum float64
		for j := first; j <= last; j++ {
			k := f.Kernel((float64(j) - center) / stretch)
			if k == 0 {
				continue
			}
			idx := min(max(min(max(j, 0), in-1)-start, 0), taps-1)
			fw[idx] += k
			sum += k
		}
		ws.start[i] = start
		row := ws.w[i*taps : (i+1)*taps]
		if sum == 0 { // degenerate: nearest sample
			row[min(max(int(center+0.5), 0), in-1)-start] = one
			continue
		}
		total, big := int32(0), 0
		for t, v := range fw {
			row[t] = int32(math.Round(v / sum * one))
			total += row[t]
			if row[t] > row[big] {
				big = t
			}
		}
		row[big] += one - total // exact unity gain
	}
	return ws
}

func clamp8(v int32) uint8 {
	v = (v + one/2) >> fracBits
	if uint32(v) > 255 {
		if v < 0 {
			return 0
		}
		return 255
	}
	return uint8(v)
}

// plane is one 8-bit channel.
type plane struct {
	pix    []uint8
	stride int
	w, h   int
}

// resizePlane shrinks src to w x h, one output sample spanning sx x sy
// input samples: a horizontal pass into a temporary plane, then a vertical
// pass, each split by rows over two goroutines. When both passes run, the
// temporary plane keeps midBits of fraction (16-bit samples), so only the
// final result is rounded to 8 bits.
func resizePlane(src plane, w, h int, sx, sy float64, f Filter) (plane, error) {
	needX := w != src.w || sx != 1
	needY := h != src.h || sy != 1
	if needX && needY {
		wx := makeWeights(src.w, w, sx, f)
		wx.forSIMD(true)
		wy := makeWeights(src.h, h, sy, f)
		wy.forSIMD(false)
		dst := plane{pix: make([]uint8, w*h), stride: w, w: w, h: h}
		return dst, parallel(h, func(lo, hi int) { fused16(src, dst, wx, wy, lo, hi) })
	}
	tmp := src
	if needX {
		tmp = plane{pix: make([]uint8, w*src.h), stride: w, w: w, h: src.h}
		wx := makeWeights(src.w, w, sx, f)
		if err := parallel(src.h, func(lo, hi int) { horizontal(src, tmp, wx, lo, hi) }); err != nil {
			return plane{}, err
		}
	}
	if !needY {
		return tmp, nil
	}
	dst := plane{pix: make([]uint8, w*h), stride: w, w: w, h: h}
	wy := makeWeights(src.h, h, sy, f)
	return dst, parallel(h, func(lo, hi int) { vertical(tmp, dst, wy, lo, hi) })
}

func horizontal(src, dst plane, wx weights, lo, hi int) {
	taps := wx.taps
	for y := lo; y < hi; y++ {
		in := src.pix[y*src.stride : y*src.stride+src.w]
		out := dst.pix[y*dst.stride : y*dst.stride+dst.w]
		for x := range out {
			s := wx.start[x]
			win := in[s : s+taps]
			wt := wx.w[x*taps : x*taps+taps]
			var sum int32
			for t, v := range win {
				sum += wt[t] * int32(v)
			}
			out[x] = clamp8(sum)
		}
	}
}

// midBits is the fraction kept between the two passes.
const midBits = 6

// horizontal16Row filters row y of src horizontally into out: 16-bit
// samples with midBits of fraction.
func horizontal16Row(src plane, y int, out []uint16, wx *weights) {
	taps := wx.taps
	const shift, max16 = fracBits - midBits, 255 << midBits
	in := src.pix[y*src.stride : y*src.stride+src.w]
	for x := hRow16SIMD(src.pix[y*src.stride:], out, &wx.simd); x < len(out); x++ {
		s := wx.start[x]
		wt := wx.w[x*taps : x*taps+taps : x*taps+taps]
		win := in[s : s+len(wt) : s+len(wt)]
		var sum int32
		t := 0
		for ; t+4 <= len(wt) && t+4 <= len(win); t += 4 { // unrolled: the 12 MP luma's 13 taps
			sum += wt[t]*int32(win[t]) + wt[t+1]*int32(win[t+1]) +
				wt[t+2]*int32(win[t+2]) + wt[t+3]*int32(win[t+3])
		}
		for ; t < len(wt) && t < len(win); t++ {
			sum += wt[t] * int32(win[t])
		}
		v := (sum + 1<<(shift-1)) >> shift
		if uint32(v) > max16 {
			if v < 0 {
				v = 0
			} else {
				v = max16
			}
		}
		out[x] = uint16(v)
	}
}

// hRow16SIMD runs the horizontal kernel over the outputs of one row whose
// 16-byte windows stay inside row (the row and the rest of its plane: the
// kernel's padding taps weigh zero) and returns how many it wrote, a
// multiple of 8; 0 when the kernels are off.
func hRow16SIMD(row []uint8, out []uint16, ws *simdWeights) int {
	if ws.k == 0 {
		return 0
	}
	n := len(out)
	for n > 0 && int(ws.start[n-1])+ws.k > len(row) {
		n--
	}
	if n &^= 7; n == 0 {
		return 0
	}
	if ws.k == 16 {
		hRow16K16(&row[0], &ws.start[0], &ws.h[0], &out[0], n)
	} else {
		hRow16K8(&row[0], &ws.start[0], &ws.h[0], &out[0], n)
	}
	return n
}

// vertical16Row filters horizontal16Row's samples vertically into output
// row y (out): rows (w samples each) starts at the first of y's taps; acc
// is scratch, len(out) long.
func vertical16Row(rows []uint16, w int, out []uint8, wy *weights, y int, acc []int32) {
	taps, n := wy.taps, len(out)
	_ = rows[(taps-1)*w : (taps-1)*w+n] // the kernel reads no further
	x0 := 0
	if np := (taps + 1) / 2; wy.simd.vpairs != nil && n >= 16 {
		x0 = n &^ 15
		vRow16(&rows[0], 2*w, &wy.simd.vpairs[y*np], taps, &out[0], x0)
	}
	acc = acc[x0:n]
	for x := range acc {
		acc[x] = 0
	}
	t := 0
	for ; t+2 <= taps; t += 2 { // two rows per sweep: half the acc traffic
		w0, w1 := wy.w[y*taps+t], wy.w[y*taps+t+1]
		in0 := rows[t*w+x0 : t*w+n]
		in1 := rows[(t+1)*w+x0 : (t+1)*w+n]
		a := acc[:len(in0)]
		in1 = in1[:len(in0)]
		for x, v := range in0 {
			a[x] += w0*int32(v) + w1*int32(in1[x])
		}
	}
	for ; t < taps; t++ {
		wt := wy.w[y*taps+t]
		in := rows[t*w+x0 : t*w+n]
		a := acc[:len(in)]
		for x, v := range in {
			a[x] += wt * int32(v)
		}
	}
	out = out[x0:]
	for x, v := range acc {
		v = (v + 1<<(fracBits+midBits-1)) >> (fracBits + midBits)
		if uint32(v) > 255 {
			if v < 0 {
				v = 0
			} else {
				v = 255
			}
		}
		out[x] = uint8(v)
	}
}

// window is how many rows beyond the vertical taps fused16 keeps: the
// filtered rows slide down by this many at a time.
const window = 64

// fused16 resizes both axes for output rows [lo, hi) without a whole
// intermediate plane: the horizontally filtered rows that the current
// output row's taps need are kept in a small window (taps+window rows, in
// cache), each made once, and the window slides down as the output rows
// move on. The bytes are those of the two passes over a whole plane.
func fused16(src plane, dst plane, wx, wy weights, lo, hi int) {
	w, taps := dst.w, wy.taps
	buf := make([]uint16, (taps+window)*w)
	acc := make([]int32, w)
	base, have := wy.start[lo], 0 // buf holds src rows [base, base+have)
	for y := lo; y < hi; y++ {
		s := wy.start[y]
		if s-base > window { // slide: keep the rows from s on
			keep := max(base+have-s, 0)
			if keep > 0 {
				copy(buf, buf[(s-base)*w:(s-base+keep)*w])
			}
			base, have = s, keep
		}
		for ; base+have < s+taps; have++ {
			horizontal16Row(src, base+have, buf[have*w:(have+1)*w], &wx)
		}
		vertical16Row(buf[(s-base)*w:], w, dst.pix[y*dst.stride:y*dst.stride+w], &wy, y, acc)
	}
}

// vertical is vertical16Row over 8-bit samples, for a resize that only
// changes the height; the two hot loops are kept apart on purpose.
func vertical(src, dst plane, wy weights, lo, hi int) {
	taps := wy.taps
	acc := make([]int32, dst.w)
	for y := lo; y < hi; y++ {
		for x := range acc {
			acc[x] = 0
		}
		s := wy.start[y]
		for t := 0; t < taps; t++ {
			wt := wy.w[y*taps+t]
			if wt == 0 {
				continue
			}
			in := src.pix[(s+t)*src.stride : (s+t)*src.stride+dst.w]
			for x, v := range in {
				acc[x] += wt * int32(v)
			}
		}
		out := dst.pix[y*dst.stride : y*dst.stride+dst.w]
		for x, v := range acc {
			out[x] = clamp8(v)
		}
	}
}

// Workers is how many goroutines share a pass (FC's 2 vCPU is the target).
const Workers = 2

// parallel runs fn over [0,n) split into Workers bands; a panic in one
// comes back as a *workers.PanicError.
func parallel(n int, fn func(lo, hi int)) error {
	if n < 64 {
		return workers.Split(n, 1, fn)
	}
	return workers.Split(n, Workers, fn)
}

// chromaDiv is how many luma samples one chroma sample spans per axis.
func chromaDiv(r image.YCbCrSubsampleRatio) (int, int, bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	}
	return 0, 0, false
}

// Supported says whether ResizePlanes takes m: an opaque
// *image.YCbCr (4:4:4, 4:2:2, 4:2:0, 4:4:0) or *image.Gray.
func Supported(m image.Image) bool {
	switch m := m.(type) {
	case *image.YCbCr:
		_, _, ok := chromaDiv(m.SubsampleRatio)
		return ok
	case *image.Gray:
		return true
	}
	return false
}

// ResizePlanes scales m (Supported) to exactly w x h and keeps it in its
// own model: an *image.YCbCr with the same subsampling (chroma resampled
// at its own resolution) or an *image.Gray, at the origin. A JPEG encoder
// takes these planes as they are, with no RGB round trip.
func ResizePlanes(m image.Image, w, h int, f Filter) (image.Image, error) {
	b := m.Bounds()
	return ResizePlanesScaled(m, w, h, float64(b.Dx())/float64(w), float64(b.Dy())/float64(h), f)
}

// ResizePlanesScaled is ResizePlanes with the size of one output sample
// given in m's samples (sx x sy, luma), rather than taken as m's size over
// w x h: the two differ when the picture ends inside m's last column or
// row. A decoder that scales by 1/s rounds its size up, so a picture 4033
// samples wide decoded at 1/8 is 505 samples whose last one holds an
// eighth of a sample's worth; scaling all 505 to the output would shift
// the picture by up to one decoded sample at the far edge, where
// sx = 4033/8/w keeps every output sample where it belongs.
func ResizePlanesScaled(m image.Image, w, h int, sx, sy float64, f Filter) (image.Image, error) {
	switch m := m.(type) {
	case *image.Gray:
		b := m.Rect
		src := plane{pix: m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], stride: m.Stride, w: b.Dx(), h: b.Dy()}
		y, err := resizePlane(src, w, h, sx, sy, f)
		if err != nil {
			return nil, err
		}
		return &image.Gray{Pix: y.pix, Stride: y.stride, Rect: image.Rect(0, 0, w, h)}, nil
	case *image.YCbCr:
		dx, dy, ok := chromaDiv(m.SubsampleRatio)
		if !ok {
			break
		}
		b := m.Rect
		ys := plane{pix: m.Y[m.YOffset(b.Min.X, b.Min.Y):], stride: m.YStride, w: b.Dx(), h: b.Dy()}
		cw, ch := (b.Max.X+dx-1)/dx-b.Min.X/dx, (b.Max.Y+dy-1)/dy-b.Min.Y/dy
		co := m.COffset(b.Min.X, b.Min.Y)
		ocw, och := (w+dx-1)/dx, (h+dy-1)/dy
		// a chroma sample spans dx luma samples on both sides, so the
		// chroma planes shrink by the luma's ratio, not by cw/ocw (which
		// rounding makes differ for odd sizes)
		var out [3]plane
		for i, p := range []plane{ys, {pix: m.Cb[co:], stride: m.CStride, w: cw, h: ch}, {pix: m.Cr[co:], stride: m.CStride, w: cw, h: ch}} {
			ow, oh := w, h
			if i > 0 {
				ow, oh = ocw, och
			}
			var err error
			if out[i], err = resizePlane(p, ow, oh, sx, sy, f); err != nil {
				return nil, err
			}
		}
		y, cb, cr := out[0], out[1], out[2]
		if cb.stride != cr.stride { // both are ocw wide unless one was copied through
			cb, cr = compact(cb), compact(cr)
		}
		return &image.YCbCr{Y: y.pix, Cb: cb.pix, Cr: cr.pix, YStride: y.stride, CStride: cb.stride,
			SubsampleRatio: m.SubsampleRatio, Rect: image.Rect(0, 0, w, h)}, nil
	}
	return nil, fmt.Errorf("resample: %T is not a supported image", m)
}

// compact copies p into a tightly packed plane.
func compact(p plane) plane {
	out := plane{pix: make([]uint8, p.w*p.h), stride: p.w, w: p.w, h: p.h}
	for y := 0; y < p.h; y++ {
		copy(out.pix[y*p.w:(y+1)*p.w], p.pix[y*p.stride:y*p.stride+p.w])
	}
	return out
}
