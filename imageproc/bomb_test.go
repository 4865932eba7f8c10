package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"runtime"
	"testing"
)

// Decompression bombs: small files whose headers declare enormous images.
// Process must refuse them from the header, before any pixel buffer exists.

func pngBomb() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		c := append([]byte(typ), data...)
		b = append(b, c...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	chunk("IHDR", append(ihdr, 8, 6, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b
}

func gifBomb(frames int, side uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, side)
	b = binary.LittleEndian.AppendUint16(b, side)
	b = append(b, 0, 0, 0)
	for i := 0; i < frames; i++ {
		b = append(b, 0x2C, 0, 0, 0, 0)
		b = binary.LittleEndian.AppendUint16(b, side)
		b = binary.LittleEndian.AppendUint16(b, side)
		b = append(b, 0, 2, 2, 0x4C, 0x01, 0)
	}
	return append(b, 0x3B)
}

func jpegBomb() []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, 65000)
	b = binary.BigEndian.AppendUint16(b, 65000)
	b = append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
	b = append(b, 0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 0x3F, 0) // SOS
	return append(b, 0xFF, 0xD9)
}

func webpBomb(vp8x bool) []byte {
	var chunks []byte
	if vp8x {
		chunks = append([]byte("VP8X"), 10, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x3F, 0, 0xFF, 0x3F, 0)
	}
	bits := uint32(16383) | uint32(16383)<<14
	l := append([]byte{0x2F}, binary.LittleEndian.AppendUint32(nil, bits)...)
	chunks = append(chunks, "VP8L"...)
	l = append(l, 0)
	chunks = binary.LittleEndian.AppendUint32(chunks, uint32(len(l)))
	chunks = append(chunks, l...)
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(chunks)))...)
	return append(append(b, "WEBP"...), chunks...)
}

func bmpBomb() []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = append(b, 0, 0, 0, 0)
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, 30000)
	b = binary.LittleEndian.AppendUint32(b, 30000)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 24)
	return append(b, make([]byte, 24)...)
}

func tiffBomb() []byte {
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	es := []entry{{256, 4, 100000}, {257, 4, 100000}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
		{273, 4, 200}, {277, 3, 1}, {278, 4, 100000}, {279, 4, 1}}
	b := []byte("II*\x00")
	b = binary.LittleEndian.AppendUint32(b, 8)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(es)))
	for _, e := range es {
		b = binary.LittleEndian.AppendUint16(b, e.tag)
		b = binary.LittleEndian.AppendUint16(b, e.typ)
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, e.val)
	}
	b = binary.LittleEndian.AppendUint32(b, 0)
	return append(b, make([]byte, 256-len(b))...)
}

// heifBomb rewrites every ispe property of a real file to 60000x60000.
func heifBomb(t testing.TB, name string) []byte {
	b := bytes.Clone(fixture(t, name))
	n := 0
	for i := bytes.Index(b, []byte("ispe")); i >= 0; {
		binary.BigEndian.PutUint32(b[i+8:], 60000)
		binary.BigEndian.PutUint32(b[i+12:], 60000)
		n++
		j := bytes.Index(b[i+4:], []byte("ispe"))
		if j < 0 {
			break
		}
		i += 4 + j
	}
	if n == 0 {
		t.Fatalf("%s has no ispe box", name)
	}
	return b
}

func TestBombsRefusedWithBoundedMemory(t *testing.T) {
	limits := Limits{MaxPixels: 50_000_000, MaxSide: 65535, MaxFrames: 100}
	for _, tc := range []struct {
		name string
		src  []byte
		want error
	}{
		{"png", pngBomb(), nil},
		{"gif", gifBomb(1, 65535), nil},
		{"gif frames", gifBomb(200, 16), nil},
		{"jpeg", jpegBomb(), nil},
		{"webp vp8x", webpBomb(true), nil},
		{"webp vp8l", webpBomb(false), nil},
		{"bmp", bmpBomb(), nil},
		{"tiff", tiffBomb(), nil},
		// the bitstream says 320x240: the ispe lies, which is corrupt
		{"heic", heifBomb(t, "phone.heic"), ErrCorrupt},
		{"avif", heifBomb(t, "phone.avif"), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []Recipe{{Strip: true, Limits: limits}, {MaxWidth: 100, Format: WebP, Limits: limits}} {
				want := tc.want
				if want == nil {
					want = ErrTooLarge
				}
				if _, err := Process(context.Background(), tc.src, r); !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			const runs = 20
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < runs; i++ {
				_, _ = Process(context.Background(), tc.src, Recipe{Strip: true, MaxWidth: 100, Limits: limits})
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 64<<10 {
				t.Errorf("refusing allocated %d bytes per call, want under 64 KiB", per)
			}
		})
	}
}
