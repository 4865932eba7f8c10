package wasmcodec

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"testing"

	xwebp "golang.org/x/image/webp"
)

// TestEncodeWebPYUV420 hands libwebp planes of odd sides; the encoded
// picture has those sides and the planes' values, and the instance goes
// back for reuse with everything freed: many encodes do not grow it.
func TestEncodeWebPYUV420(t *testing.T) {
	w, h := 67, 45
	fill := func(y, u, v []byte) {
		if len(y) != w*h || len(u) != 34*23 || len(v) != 34*23 {
			t.Fatalf("planes of %d, %d, %d bytes", len(y), len(u), len(v))
		}
		for i := range y {
			y[i] = 60
		}
		for i := range u {
			u[i], v[i] = 100, 150
		}
	}
	encode := func() []byte {
		out, err := EncodeWebPYUV420(context.Background(), w, h, WebPOptions{Quality: 90, Method: 4}, fill)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	m, err := xwebp.Decode(bytes.NewReader(encode()))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("decoded %v, want %dx%d", b, w, h)
	}
	yc, ok := m.(*image.YCbCr) // VP8's planes as they are
	if !ok {
		t.Fatalf("decoded %T", m)
	}
	c := yc.YCbCrAt(w/2, h/2)
	if absDiff(c.Y, 60) > 2 || absDiff(c.Cb, 100) > 2 || absDiff(c.Cr, 150) > 2 {
		t.Errorf("centre %v, want Y 60 Cb 100 Cr 150", c)
	}
	webp.mu.Lock()
	idle := len(webp.idle)
	var size uint32
	if idle > 0 {
		size = webp.idle[0].mod.Memory().Size()
	}
	webp.mu.Unlock()
	if idle != 1 {
		t.Fatalf("%d idle instances after one encode, want 1", idle)
	}
	for range 20 {
		encode()
	}
	webp.mu.Lock()
	defer webp.mu.Unlock()
	if len(webp.idle) != 1 || webp.idle[0].mod.Memory().Size() != size {
		t.Errorf("after 20 more encodes: %d idle, memory %d bytes, want 1 and %d", len(webp.idle), webp.idle[0].mod.Memory().Size(), size)
	}
}

func absDiff(a, b uint8) int {
	return max(int(a)-int(b), int(b)-int(a))
}

// TestWebPFramelessAnimationShowsNoEarlierPicture: libwebp reports an
// animation without frames as decoded and writes nothing, so the first
// frame must not be what a kept instance's memory held from an earlier
// encode (another request's picture): an error or a blank canvas.
func TestWebPFramelessAnimationShowsNoEarlierPicture(t *testing.T) {
	for range 3 {
		if _, err := EncodeWebPYUV420(context.Background(), 64, 64, WebPOptions{Quality: 90, Method: 4}, func(y, u, v []byte) {
			for i := range y {
				y[i] = 200
			}
			for i := range u {
				u[i], v[i] = 50, 220
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	vp8x := []byte{0x02, 0, 0, 0, 63, 0, 0, 63, 0, 0} // animation, a 64x64 canvas, no ANIM or ANMF
	file := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+8+len(vp8x)))
	file = binary.LittleEndian.AppendUint32(append(file, "WEBPVP8X"...), uint32(len(vp8x)))
	file = append(file, vp8x...)
	m, err := DecodeWebPFirst(context.Background(), file)
	if err != nil {
		return
	}
	if pix := m.(*image.RGBA).Pix; bytes.Count(pix, []byte{0}) != len(pix) {
		t.Fatalf("a frameless animation decoded to %v with %d non-zero bytes, want none", m.Bounds(), len(pix)-bytes.Count(pix, []byte{0}))
	}
}
