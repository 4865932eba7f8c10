package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
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
			if _, err := Process(context.Background(), tc.src, r); !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrTooLarge or ErrCorrupt", err)
			}
			const runs = 5
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := 0; i < runs; i++ {
				_, _ = Process(context.Background(), tc.src, r)
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
		{"avif: 8000x7000 labelled 100x100", fixture(t, "lying-ispe.avif")},
		{"heic: 8000x7000 labelled 100x100", fixture(t, "lying-ispe.heic")},
	}
}

// TestStripWebPDropsWhatFollowsASimpleBitstream: a simple file is its
// first chunk, so a VP8X (or anything else) after it is not published.
func TestStripWebPDropsWhatFollowsASimpleBitstream(t *testing.T) {
	src := riffFile(riffTestChunk{"VP8L", vp8lHeader(30, 20)}, riffTestChunk{"VP8X", vp8xBody(0, 1, 1)})
	res, err := Process(context.Background(), src, Recipe{Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := riffFile(riffTestChunk{"VP8L", vp8lHeader(30, 20)}); string(res.Data) != string(want) {
		t.Fatalf("stripped to %q, want only the VP8L chunk %q", res.Data, want)
	}
}

func TestHEIFHeadersThatLieAreRefused(t *testing.T) {
	for _, name := range []string{"lying-ispe.avif", "lying-ispe.heic"} {
		t.Run(name, func(t *testing.T) {
			h, err := ReadHeader(fixture(t, name))
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "8000x7000") {
				t.Fatalf("ReadHeader = %+v, %v; want ErrCorrupt naming the bitstream's 8000x7000", h, err)
			}
		})
	}
	for _, name := range []string{"phone.avif", "phone.heic"} {
		t.Run(name, func(t *testing.T) {
			h, err := ReadHeader(fixture(t, name))
			if err != nil || h.Width != 320 || h.Height != 240 {
				t.Fatalf("ReadHeader = %+v, %v; want 320x240", h, err)
			}
		})
	}
}

// heifGrid builds a HEIC whose primary item is a grid of phone.heic's
// 320x240 HEVC item, cols x rows tiles, output w x h, with the grid's
// ispe saying ispeW x ispeH; with aux, one more 320x240 HEVC item is an
// auxiliary image (auxl) of the grid, of that auxC type (alpha, depth,
// an HDR gain map).
func heifGrid(t testing.TB, cols, rows, w, h, ispeW, ispeH int, aux ...string) []byte {
	src := fixture(t, "phone.heic")
	box := func(typ string, body ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(8+len(bytes.Join(body, nil))))
		return append(append(b, typ...), bytes.Join(body, nil)...)
	}
	full := func(v byte) []byte { return []byte{v, 0, 0, 0} }
	u16 := func(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
	u32 := func(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }
	// the HEVC item's data and hvcC from the real file
	meta, _ := findBox(src, "meta")
	m, err := parseHEIFMeta(src, meta[4:])
	if err != nil {
		t.Fatal(err)
	}
	hevc := m.items[1]
	data, err := m.data(hevc)
	if err != nil {
		t.Fatal(err)
	}
	hvcC, _ := m.prop(hevc, "hvcC")
	ispe := func(w, h int) []byte { return box("ispe", full(0), u32(w), u32(h)) }
	tiles := cols * rows
	hevcItems := tiles + len(aux) // the tiles, then the auxiliary image
	infe := func(id int, typ string) []byte { return box("infe", full(2), u16(id), u16(0), []byte(typ)) }
	entries := [][]byte{full(0), u16(1 + hevcItems), infe(1, "grid")}
	for i := 0; i < hevcItems; i++ {
		entries = append(entries, infe(2+i, "hvc1"))
	}
	grid := []byte{0, 0, byte(rows - 1), byte(cols - 1)}
	grid = append(append(grid, u16(w)...), u16(h)...)
	// iloc v1: offset 4, length 4, base 0; item 1 in idat, the tiles share the HEVC data
	const mdatAt = 4096 // the mdat is placed here, after padding
	iloc := [][]byte{full(1), {0x44, 0x00}, u16(1 + hevcItems), u16(1), u16(1), u16(0), u16(1), u32(0), u32(len(grid))}
	for i := 0; i < hevcItems; i++ {
		iloc = append(iloc, u16(2+i), u16(0), u16(0), u16(1), u32(mdatAt+8), u32(len(data)))
	}
	dimg := [][]byte{u16(1), u16(tiles)}
	ipma := [][]byte{full(0), u32(1 + hevcItems), u16(1), {1, 0x83}}
	for i := 0; i < tiles; i++ {
		dimg = append(dimg, u16(2+i))
		ipma = append(ipma, u16(2+i), []byte{2, 0x81, 0x82})
	}
	iref := [][]byte{full(0), box("dimg", dimg...)}
	props := [][]byte{box("hvcC", hvcC), ispe(320, 240), ispe(ispeW, ispeH)}
	for _, urn := range aux {
		id := 2 + tiles
		ipma = append(ipma, u16(id), []byte{3, 0x81, 0x82, 0x84})
		iref = append(iref, box("auxl", u16(id), u16(1), u16(1)))
		props = append(props, box("auxC", full(0), []byte(urn), []byte{0}))
	}
	file := box("ftyp", []byte("heic"), u32(0), []byte("mif1heic"))
	file = append(file, box("meta", full(0),
		box("hdlr", full(0), u32(0), []byte("pict"), make([]byte, 13)),
		box("pitm", full(0), u16(1)),
		box("iinf", entries...),
		box("iloc", iloc...),
		box("iref", iref...),
		box("iprp", box("ipco", props...), box("ipma", ipma...)),
		box("idat", grid),
	)...)
	if len(file) > mdatAt-8 {
		t.Fatalf("meta is %d bytes, over the mdat offset", len(file))
	}
	file = append(file, box("free", make([]byte, mdatAt-8-len(file)))...)
	return append(file, box("mdat", data)...)
}

func TestHEIFGridsAreCheckedAgainstTheirTiles(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		cols, rows, w, h, ispeW, ispeH int
		want                           error
	}{
		{"2x1 grid of 320x240", 2, 1, 640, 240, 640, 240, nil},
		{"2x2 grid cropped to 600x400", 2, 2, 600, 400, 600, 400, nil},
		{"grid output larger than its tiles", 2, 1, 20000, 240, 20000, 240, ErrCorrupt},
		{"grid with a spare column", 3, 1, 640, 240, 640, 240, ErrCorrupt},
		{"grid ispe lies", 2, 1, 640, 240, 100, 100, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := heifGrid(t, tc.cols, tc.rows, tc.w, tc.h, tc.ispeW, tc.ispeH)
			h, err := ReadHeader(src)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("ReadHeader = %+v, %v; want %v", h, err, tc.want)
				}
				return
			}
			if err != nil || h.Width != tc.w || h.Height != tc.h {
				t.Fatalf("ReadHeader = %+v, %v; want %dx%d", h, err, tc.w, tc.h)
			}
		})
	}
	// the decoder agrees: a valid grid decodes to the size admitted
	src := heifGrid(t, 2, 1, 640, 240, 640, 240)
	img := decodeAny(t, src)
	if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 240 {
		t.Fatalf("the grid decoded to %v, want 640x240", b)
	}
}

// TestAVIFSequenceTracksAreChecked: libavif decodes an AVIF sequence from
// its tracks, so the sample entry's size is checked against the samples'
// sequence headers too.
func TestAVIFSequenceTracksAreChecked(t *testing.T) {
	src := fixture(t, "animated.avif")
	h, err := ReadHeader(src)
	if err != nil || h.Width != 64 || h.Height != 48 {
		t.Fatalf("ReadHeader = %+v, %v; want 64x48", h, err)
	}
	img := decodeAny(t, src)
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Fatalf("decoded %v, want 64x48", b)
	}
	lie := bytes.Clone(src)
	i := bytes.Index(lie, []byte("av01\x00\x00\x00\x00\x00\x00\x00\x01")) // the first sample entry
	if i < 0 {
		t.Fatal("no av01 sample entry")
	}
	binary.BigEndian.PutUint16(lie[i+4+24:], 16)
	binary.BigEndian.PutUint16(lie[i+4+26:], 16)
	if _, err := ReadHeader(lie); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a 16x16 sample entry over 64x48 samples: err = %v, want ErrCorrupt", err)
	}
}

// TestHEIFHeaderSurvivesEveryByteOfItsMeta: each byte of the meta box (the
// item tables the size check walks) set to 0x00, 0x80 and 0xFF, and every
// truncation, is read or refused, never a panic.
func TestHEIFHeaderSurvivesEveryByteOfItsMeta(t *testing.T) {
	files := map[string][]byte{"grid": heifGrid(t, 2, 2, 600, 400, 600, 400)}
	for _, name := range []string{"phone.heic", "phone.avif", "animated.avif"} {
		files[name] = fixture(t, name)
	}
	for name, src := range files {
		end := min(len(src), 1500) // ftyp, meta, moov: the structure, not the coded data
		for i := 0; i < end; i++ {
			for _, v := range []byte{0x00, 0x80, 0xFF} {
				b := bytes.Clone(src)
				b[i] = v
				if _, err := ReadHeader(b); err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
					t.Fatalf("%s byte %d = %#x: error of no known kind: %v", name, i, v, err)
				}
			}
			if _, err := ReadHeader(src[:i]); err == nil && i < 300 {
				t.Fatalf("%s cut at %d bytes was read", name, i)
			}
		}
	}
}

// TestAVIFTrackHeaderIsAClaim: libavif sizes an AVIF sequence's picture by
// its track header, whatever its frames say, so a tkhd claiming 19008
// pixels of width for 64-pixel frames decoded to 19008x48 behind a 64x48
// header (found by FuzzContainerHeaders). The header now admits the
// track header's size, and the untouched file keeps its own.
func TestAVIFTrackHeaderIsAClaim(t *testing.T) {
	src := fixture(t, "animated.avif")
	if h, err := ReadHeader(src); err != nil || h.Width != 64 || h.Height != 48 {
		t.Fatalf("animated.avif = %+v, %v; want 64x48", h, err)
	}
	wide := mutateContainer(src, 0, 313, 85, 74) // tkhd width 64.0 -> 19008.0
	h, err := ReadHeader(wide)
	if err != nil {
		t.Fatal(err)
	}
	if h.Width < 19008 {
		t.Errorf("header = %dx%d, want the track header's 19008 wide to reach the limits", h.Width, h.Height)
	}
}
