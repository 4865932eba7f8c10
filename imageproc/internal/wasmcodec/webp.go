package wasmcodec

import (
	"context"
	"encoding/binary"
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
	raw, ok := in.mod.Memory().Read(sizep, 8)
	if !ok {
		return nil, errMem
	}
	n := binary.LittleEndian.Uint64(raw)
	if out == 0 || n == 0 {
		return nil, ErrEncode
	}
	return in.bytes(uint32(out), int(n))
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
	if w <= 0 || h <= 0 {
		return nil, ErrDecode
	}
	pix, err := in.firstFrame(src, len(data), vars, 4*w*h, 4)
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
