package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzContainerHeaders is structure-aware: it parses a real WebP, HEIC or
// AVIF into its tree of RIFF chunks or ISOBMFF boxes, applies one
// structural mutation chosen by the input (rewrite a field of one chunk or
// box, delete it, repeat it, swap it with its next sibling), writes the
// tree back with every size fixed up, and checks the property of issue 12:
// the size admitted (ReadHeader) is the size the decoder produces, or the
// file is refused. HEIC/AVIF may come out smaller (a 'clap' crop) or
// turned (an 'irot'), never larger. Run by make fuzz; plain go test runs
// the seeds.
func FuzzContainerHeaders(f *testing.F) {
	seeds := [][]byte{
		fixture(f, "phone.webp"), fixture(f, "animated.webp"), fixture(f, "phone.heic"),
		fixture(f, "phone.avif"), fixture(f, "animated.avif"), heifGrid(f, 2, 1, 640, 240, 640, 240),
		riffFile(riffTestChunk{"VP8X", vp8xBody(0, 30, 20)}, riffTestChunk{"VP8L", vp8lHeader(30, 20)}),
		riffFile(riffTestChunk{"VP8L", vp8lHeader(30, 20)}, riffTestChunk{"VP8X", vp8xBody(0, 30, 20)}),
	}
	for i := range seeds {
		f.Add(uint8(i), uint8(6), uint16(0), uint16(0), uint32(0)) // as it is
	}
	f.Add(uint8(0), uint8(3), uint16(0), uint16(0), uint32(0))      // WebP: VP8X/VP8 order
	f.Add(uint8(2), uint8(0), uint16(11), uint16(4), uint32(100))   // HEIC: ispe width 100
	f.Add(uint8(3), uint8(0), uint16(12), uint16(8), uint32(100))   // AVIF: ispe height 100
	f.Add(uint8(5), uint8(1), uint16(17), uint16(4), uint32(20000)) // grid: output width 20000
	f.Add(uint8(6), uint8(0), uint16(0), uint16(4), uint32(0x3fff)) // VP8X canvas
	f.Add(uint8(7), uint8(0), uint16(1), uint16(4), uint32(0))      // a VP8X after the bitstream says 1 pixel wide
	if _, err := decode(context.Background(), fixture(f, "phone.heic"), Header{Format: HEIC}, 1); err != nil {
		f.Fatal(err) // compiles the WASM decoders before the first input
	}
	f.Fuzz(func(t *testing.T, seed, op uint8, which, at uint16, value uint32) {
		src := mutateContainer(seeds[int(seed)%len(seeds)], op, int(which), int(at), value)
		h, err := ReadHeader(src)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		if int64(h.Width)*int64(h.Height) > 1<<20 {
			return // the limits refuse it in production; decoding it here would be slow
		}
		img, err := decode(context.Background(), src, h, 1)
		if err != nil {
			return // refused by the decoder
		}
		w, ht := img.Bounds().Dx(), img.Bounds().Dy()
		switch h.Format {
		case WebP:
			if w != h.Width || ht != h.Height {
				t.Fatalf("admitted %dx%d, decoded %dx%d", h.Width, h.Height, w, ht)
			}
		case HEIC, AVIF:
			if int64(w)*int64(ht) > int64(h.Width)*int64(h.Height) || max(w, ht) > max(h.Width, h.Height) {
				t.Fatalf("admitted %dx%d, decoded a larger %dx%d", h.Width, h.Height, w, ht)
			}
		}
	})
}

// node is one RIFF chunk or ISOBMFF box: its type, the bytes of a
// container's own fields before its children (a full box's version and
// flags, an entry count, an ANMF frame header), and either children or a
// body.
type node struct {
	typ      string
	prefix   []byte
	body     []byte
	children []*node
	parent   *node
}

// isoContainers are the boxes whose bodies are boxes, with the length of
// their own fields first.
var isoContainers = map[string]int{"meta": 4, "iprp": 0, "ipco": 0, "iinf": 6, "iref": 4, "dinf": 0,
	"moov": 0, "trak": 0, "mdia": 0, "minf": 0, "stbl": 0, "stsd": 8}

func parseISO(b []byte, parent *node) []*node {
	var out []*node
	for len(b) >= 8 {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			break
		}
		n := &node{typ: typ, parent: parent}
		if p, ok := isoContainers[typ]; ok && len(body) >= p {
			if typ == "iinf" && len(body) > 0 && body[0] != 0 {
				p = 8
			}
			if len(body) >= p {
				n.prefix, n.children = body[:p], parseISO(body[p:], n)
			}
		} else {
			n.body = body
		}
		out = append(out, n)
		b = rest
	}
	return out
}

func parseRIFF(b []byte, parent *node) []*node {
	var out []*node
	_ = walkRIFFChunks(b, func(c riffChunk) error {
		n := &node{typ: c.fourcc, parent: parent}
		if c.fourcc == "ANMF" && len(c.body) >= 16 {
			n.prefix, n.children = c.body[:16], parseRIFF(c.body[16:], n)
		} else {
			n.body = c.body
		}
		out = append(out, n)
		return nil
	})
	return out
}

// writeTree writes nodes back as RIFF chunks (little-endian sizes, even
// padding) or ISOBMFF boxes, every size computed afresh.
func writeTree(ns []*node, riff bool) []byte {
	var out []byte
	for _, n := range ns {
		inner := n.body
		if n.children != nil || n.prefix != nil {
			inner = append(append([]byte{}, n.prefix...), writeTree(n.children, riff)...)
		}
		if riff {
			out = appendRIFFChunk(out, n.typ, inner)
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(8+len(inner)))
		out = append(append(out, n.typ...), inner...)
	}
	return out
}

// mutateContainer applies op to the which-th node (depth first) of src's
// tree: 0 a 32-bit field at byte at of its body or own fields, 1 a 16-bit
// field, 2 a byte, 3 swap with its next sibling, 4 delete, 5 repeat, 6
// nothing.
// Integers are big-endian in ISOBMFF, little-endian in RIFF, as there.
func mutateContainer(src []byte, op uint8, which, at int, value uint32) []byte {
	riff := len(src) >= 12 && string(src[:4]) == "RIFF"
	var top []*node
	if riff {
		top = parseRIFF(src[12:], nil)
	} else {
		top = parseISO(src, nil)
	}
	var all []*node
	var walk func([]*node)
	walk = func(ns []*node) {
		for _, n := range ns {
			all = append(all, n)
			walk(n.children)
		}
	}
	walk(top)
	if len(all) == 0 {
		return src
	}
	n := all[which%len(all)]
	siblings := &top
	if n.parent != nil {
		siblings = &n.parent.children
	}
	idx := 0
	for i, s := range *siblings {
		if s == n {
			idx = i
		}
	}
	field := n.body
	if field == nil {
		field = n.prefix
	}
	field = append([]byte{}, field...)
	put := func(size int) {
		if len(field) < size {
			return
		}
		o := at % (len(field) - size + 1)
		for i := 0; i < size; i++ {
			shift := 8 * (size - 1 - i)
			if riff {
				shift = 8 * i
			}
			field[o+i] = byte(value >> shift)
		}
	}
	switch op % 7 {
	case 0:
		put(4)
	case 1:
		put(2)
	case 2:
		put(1)
	case 3:
		if idx+1 < len(*siblings) {
			(*siblings)[idx], (*siblings)[idx+1] = (*siblings)[idx+1], (*siblings)[idx]
		}
	case 4:
		*siblings = append((*siblings)[:idx:idx], (*siblings)[idx+1:]...)
	case 5:
		*siblings = append((*siblings)[:idx+1:idx+1], (*siblings)[idx:]...)
	}
	if op%7 <= 2 {
		if n.body != nil {
			n.body = field
		} else {
			n.prefix = field
		}
	}
	if riff {
		body := writeTree(top, true)
		out := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
		return append(append(out, "WEBP"...), body...)
	}
	return writeTree(top, false)
}

// TestMutateContainerRoundTrips: with no change, the tree writes back the
// bytes it was read from, so the mutations are the only difference.
func TestMutateContainerRoundTrips(t *testing.T) {
	for _, name := range []string{"phone.webp", "animated.webp", "phone.heic", "phone.avif", "animated.avif"} {
		src := fixture(t, name)
		if got := mutateContainer(src, 6, 0, 0, 0); !bytes.Equal(got, src) {
			t.Errorf("%s: %d different bytes written back from %d", name, len(got), len(src))
		}
	}
}
