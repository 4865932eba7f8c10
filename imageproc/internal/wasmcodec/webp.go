package wasmcodec

import (
	"context"
	"image"
)

// WebPOptions are libwebp's encoder settings picbed uses.
type WebPOptions struct {
	Quality  int  // 0-100
	Method   int  // 0 (fast) - 6 (slowest, smallest)
	Lossless bool // VP8L
	Exact    bool // keep the RGB of transparent pixels
}

// EncodeWebP writes w x h pixels of straight (non-premultiplied) RGBA,
// packed at 4*w bytes a row, as WebP.
func EncodeWebP(ctx context.Context, pix []byte, w, h int, o WebPOptions) ([]byte, error) {
	in, err := webp.instance(ctx)
	if err != nil {
		return nil, err
	}
	defer in.close()
	src, err := in.put(pix)
	if err != nil {
		return nil, err
	}
	sizep, err := in.alloc(8)
	if err != nil {
		return nil, err
	}
	out, err := in.call("encode", uint64(src), uint64(w), uint64(h), uint64(sizep), 0,
		uint64(o.Quality), uint64(o.Method), b2u(o.Lossless), b2u(o.Exact))
	if err != nil {
		return nil, err
	}
	return in.output(uint32(out), sizep)
}

// EncodeWebPYUV420 encodes w x h pixels (lossy; Lossless and Exact are
// ignored) given as limited-range BT.601 4:2:0 planes, which fill writes
// straight into the encoder's memory: y is w x h bytes at stride w, u and
// v are (w+1)/2 x (h+1)/2 at stride (w+1)/2. libwebp takes them as they
// are: no RGBA copy and no RGB to YUV conversion inside the module.
func EncodeWebPYUV420(ctx context.Context, w, h int, o WebPOptions, fill func(y, u, v []byte)) ([]byte, error) {
	in, err := webp.instance(ctx)
	if err != nil {
		return nil, err
	}
	defer in.close()
	cw, ch := (w+1)/2, (h+1)/2
	ny, nc := w*h, cw*ch
	planes, err := in.alloc(ny + 2*nc)
	if err != nil {
		return nil, err
	}
	buf, ok := in.mod.Memory().Read(planes, uint32(ny+2*nc)) // a view: writes land in the module
	if !ok {
		return nil, errMem
	}
	fill(buf[:ny:ny], buf[ny:ny+nc:ny+nc], buf[ny+nc:])
	sizep, err := in.alloc(8)
	if err != nil {
		return nil, err
	}
	y, u, v := uint64(planes), uint64(planes)+uint64(ny), uint64(planes)+uint64(ny+nc)
	out, err := in.call("encode_yuv420", y, u, v, uint64(w), uint64(h), uint64(w), uint64(cw), uint64(sizep),
		uint64(o.Quality), uint64(o.Method))
	if err != nil {
		return nil, err
	}
	return in.output(uint32(out), sizep)
}

// output copies the encoder's result: out points at it, sizep at its
// size_t length (32 bits in wasm32).
func (in *instance) output(out, sizep uint32) ([]byte, error) {
	n := in.u32(sizep)
	if out != 0 {
		in.allocs = append(in.allocs, out) // libwebp's malloc: freed with the rest for reuse
	}
	if out == 0 || n == 0 {
		return nil, ErrEncode
	}
	return in.bytes(out, int(n))
}

// DecodeWebPFirst decodes the first frame of an animated WebP (composited
// on its canvas) as *image.RGBA.
func DecodeWebPFirst(ctx context.Context, data []byte) (image.Image, error) {
	in, src, vars, err := webp.load(ctx, data, 4)
	if err != nil {
		return nil, err
	}
	defer in.close()
	if err := in.probe(src, len(data), vars); err != nil {
		return nil, err
	}
	if in.u32(vars+12) == 0 { // not an animation: x/image/webp reads those
		return nil, ErrDecode
	}
	w, h := int(in.u32(vars)), int(in.u32(vars+4))
	pix, err := in.firstFrame(src, len(data), vars, w, h, 4, 4)
	if err != nil {
		return nil, err
	}
	return &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
