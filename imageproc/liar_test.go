package imageproc

import (
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// Headers that lie: containers whose size claims disagree with the
// bitstream the decoder reads. The limits and the memory admission must
// see the size that will be allocated, so every such file is refused from
// its header, before any pixel buffer exists.

// riffFile wraps chunks (fourcc, body pairs) into a RIFF/WEBP file.
func riffFile(chunks ...riffTestChunk) []byte {
	var body []byte
	for _, c := range chunks {
		body = appendRIFFChunk(body, c.fourcc, c.body)
	}
	b := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	return append(append(b, "WEBP"...), body...)
}

type riffTestChunk struct {
	fourcc string
	body   []byte
}

func appendRIFFChunk(b []byte, fourcc string, body []byte) []byte {
	b = append(b, fourcc...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)&1 == 1 {
		b = append(b, 0)
	}
	return b
}

// vp8lHeader is a whole lossless bitstream of w x h transparent pixels:
// no transforms, no colour cache, and five one-symbol Huffman codes, so the
// pixels cost no bits at all and a few bytes decode to any size.
func vp8lHeader(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14 | 1<<28 // alpha hint
	b := append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, bits)...)
	// LSB first: 0 transform, 0 cache, 0 meta codes, then 5 x (simple, 1 symbol, 1-bit symbol 0)
	return append(b, 0x88, 0x88, 0x08, 0x00, 0x00)
}

// vp8Header is a VP8 key frame header of w x h plus padding.
func vp8Header(w, h int) []byte {
	b := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a}
	b = binary.LittleEndian.AppendUint16(b, uint16(w))
	b = binary.LittleEndian.AppendUint16(b, uint16(h))
	return append(b, make([]byte, 8)...)
}

func vp8xBody(flags byte, w, h int) []byte {
	b := []byte{flags, 0, 0, 0}
	b = append(b, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	return append(b, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
}

func anmfBody(x, y, w, h int, frame ...riffTestChunk) []byte {
	u24 := func(b []byte, v int) []byte { return append(b, byte(v), byte(v>>8), byte(v>>16)) }
	b := u24(nil, x/2)
	b = u24(b, y/2)
	b = u24(b, w-1)
	b = u24(b, h-1)
	b = u24(b, 100)
	b = append(b, 0)
	for _, c := range frame {
		b = appendRIFFChunk(b, c.fourcc, c.body)
	}
	return b
}

// webpLiar is the file from issue 12: a 56-byte lossless WebP whose VP8L
// header says 10000x10000, followed by a VP8X chunk saying 1x1.
func webpLiar() []byte {
	return riffFile(
		riffTestChunk{"VP8L", append(vp8lHeader(10000, 10000), make([]byte, 8)...)},
		riffTestChunk{"VP8X", vp8xBody(0, 1, 1)},
	)
}

func TestWebPLiarIsTheIssuesFile(t *testing.T) {
	if n := len(webpLiar()); n != 56 {
		t.Fatalf("the crafted WebP is %d bytes, want the issue's 56", n)
	}
	// its bitstream is real: the same construction at 300x200 decodes
	img := decodeAny(t, riffFile(riffTestChunk{"VP8L", vp8lHeader(300, 200)}))
	if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 200 {
		t.Fatalf("decoded %v, want 300x200", b)
	}
}

func TestWebPHeadersThatLieAreRefused(t *testing.T) {
	anim := byte(0x02)
	for _, tc := range []struct {
		name string
		src  []byte
		want error
	}{
		{"VP8X after a 10000x10000 VP8L", webpLiar(), ErrTooLarge},
		{"VP8X after a small VP8L", riffFile(
			riffTestChunk{"VP8L", vp8lHeader(300, 200)},
			riffTestChunk{"VP8X", vp8xBody(0, 1, 1)}), nil}, // the first chunk decides: 300x200
		{"VP8X 1x1 before a 10000x10000 VP8L", riffFile(
			riffTestChunk{"VP8X", vp8xBody(0, 1, 1)},
			riffTestChunk{"VP8L", vp8lHeader(10000, 10000)}), ErrCorrupt},
		{"VP8X 1x1 before a 5000x5000 VP8", riffFile(
			riffTestChunk{"VP8X", vp8xBody(0, 1, 1)},
			riffTestChunk{"VP8 ", vp8Header(5000, 5000)}), ErrCorrupt},
		{"EXIF before VP8X", riffFile(
			riffTestChunk{"EXIF", []byte("II*\x00")},
			riffTestChunk{"VP8X", vp8xBody(0, 1, 1)},
			riffTestChunk{"VP8L", vp8lHeader(1, 1)}), ErrCorrupt},
		{"two bitstreams", riffFile(
			riffTestChunk{"VP8X", vp8xBody(0, 1, 1)},
			riffTestChunk{"VP8L", vp8lHeader(1, 1)},
			riffTestChunk{"VP8L", vp8lHeader(5000, 5000)}), ErrCorrupt},
		{"animation frame larger than its header", riffFile(
			riffTestChunk{"VP8X", vp8xBody(anim, 16, 16)},
			riffTestChunk{"ANIM", make([]byte, 6)},
			riffTestChunk{"ANMF", anmfBody(0, 0, 16, 16, riffTestChunk{"VP8L", vp8lHeader(8000, 8000)})}), ErrCorrupt},
		{"animation frame outside the canvas", riffFile(
			riffTestChunk{"VP8X", vp8xBody(anim, 16, 16)},
			riffTestChunk{"ANIM", make([]byte, 6)},
			riffTestChunk{"ANMF", anmfBody(8, 8, 16, 16, riffTestChunk{"VP8L", vp8lHeader(16, 16)})}), ErrCorrupt},
		{"ANMF in a still file", riffFile(
			riffTestChunk{"VP8X", vp8xBody(0, 16, 16)},
			riffTestChunk{"ANMF", anmfBody(0, 0, 16, 16, riffTestChunk{"VP8L", vp8lHeader(16, 16)})}), ErrCorrupt},
		{"animation in order", riffFile(
			riffTestChunk{"VP8X", vp8xBody(anim, 16, 16)},
			riffTestChunk{"ANIM", make([]byte, 6)},
			riffTestChunk{"ANMF", anmfBody(0, 0, 16, 16, riffTestChunk{"VP8L", vp8lHeader(16, 16)})},
			riffTestChunk{"ANMF", anmfBody(8, 8, 8, 8, riffTestChunk{"VP8 ", vp8Header(8, 8)})}), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ReadHeader(tc.src)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("ReadHeader = %v, want the header", err)
				}
				return
			}
			if err == nil {
				err = CheckLimits(h, Limits{MaxPixels: 50_000_000, MaxSide: 65535})
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("header %+v, err %v; want %v", h, err, tc.want)
			}
		})
	}
}

// TestLiarsRefusedWithBoundedMemory runs the crafted files of issue 12
// through Process, asking for the decode they were built to abuse (a
// format change), and checks that each is refused with a small, fixed
// amount of memory: no allocation in proportion to the bitstream's size.
func TestLiarsRefusedWithBoundedMemory(t *testing.T) {
	limits := Limits{MaxPixels: 50_000_000, MaxSide: 65535, MaxFrames: 100}
	for _, tc := range liars(t) {
		t.Run(tc.name, func(t *testing.T) {
			r := Recipe{Format: PNG, Strip: true, Limits: limits}
			if _, err := Process(tc.src, r); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrTooLarge or ErrCorrupt", err)
			}
			const runs = 5
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < runs; i++ {
				_, _ = Process(tc.src, r)
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 256<<10 {
				t.Errorf("refusing allocated %d bytes per call, want under 256 KiB", per)
			}
		})
	}
}

type liar struct {
	name string
	src  []byte
}

func liars(t testing.TB) []liar {
	return []liar{
		{"webp: 10000x10000 VP8L + trailing VP8X 1x1", webpLiar()},
	}
}

// TestStripWebPDropsWhatFollowsASimpleBitstream: a simple file is its
// first chunk, so a VP8X (or anything else) after it is not published.
func TestStripWebPDropsWhatFollowsASimpleBitstream(t *testing.T) {
	src := riffFile(riffTestChunk{"VP8L", vp8lHeader(30, 20)}, riffTestChunk{"VP8X", vp8xBody(0, 1, 1)})
	res, err := Process(src, Recipe{Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := riffFile(riffTestChunk{"VP8L", vp8lHeader(30, 20)}); string(res.Data) != string(want) {
		t.Fatalf("stripped to %q, want only the VP8L chunk %q", res.Data, want)
	}
}
