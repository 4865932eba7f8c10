// heicgrid writes an iPhone-style HEIC: the picture cut into square tiles
// (512x512 by default), each HEVC-coded alone by heif-enc (libheif's
// example encoder, Debian package libheif-examples), laid out by a 'grid'
// item, optionally with an irot property (quarter turns anticlockwise).
// heif-enc 1.15 cannot write grids itself. Used by scripts/make-photos.sh
// and to make the grid fixtures in testdata/.
//
//	go run ./tools/heicgrid -q 50 -tile 512 [-irot 1] in.jpg out.heic
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
)

func main() {
	q := flag.Int("q", 50, "heif-enc quality")
	tile := flag.Int("tile", 512, "tile size")
	irot := flag.Int("irot", 0, "irot angle (quarter turns anticlockwise to display)")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: heicgrid [-q 50] [-tile 512] [-irot 0] in.jpg out.heic")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), *q, *tile, *irot); err != nil {
		fmt.Fprintln(os.Stderr, "heicgrid:", err)
		os.Exit(1)
	}
}

func run(in, out string, q, size, irot int) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	src, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return err
	}
	b := src.Bounds()
	cols, rows := (b.Dx()+size-1)/size, (b.Dy()+size-1)/size
	tmp, err := os.MkdirTemp("", "heicgrid")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var hvcC, ispe []byte
	var datas [][]byte
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			// edge tiles are full size, padded by repeating the edge (as a camera does)
			t := image.NewRGBA(image.Rect(0, 0, size, size))
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					sx, sy := min(b.Min.X+c*size+x, b.Max.X-1), min(b.Min.Y+r*size+y, b.Max.Y-1)
					t.Set(x, y, src.At(sx, sy))
				}
			}
			p := filepath.Join(tmp, fmt.Sprintf("t%d.png", r*cols+c))
			var buf bytes.Buffer
			if err := png.Encode(&buf, t); err != nil {
				return err
			}
			if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
				return err
			}
			h := p + ".heic"
			if o, err := exec.Command("heif-enc", "-q", fmt.Sprint(q), "-o", h, p).CombinedOutput(); err != nil {
				return fmt.Errorf("heif-enc: %v\n%s", err, o)
			}
			data, err := os.ReadFile(h)
			if err != nil {
				return err
			}
			hc, is, d, err := single(data)
			if err != nil {
				return fmt.Errorf("%s: %v", h, err)
			}
			hvcC, ispe = hc, is
			datas = append(datas, d)
		}
	}
	return os.WriteFile(out, grid(hvcC, ispe, datas, rows, cols, b.Dx(), b.Dy(), irot), 0o644)
}

// single takes heif-enc's one-item output apart: hvcC and ispe boxes
// (whole), and the coded data (the mdat payload).
func single(f []byte) (hvcC, ispe, data []byte, err error) {
	var walk func(b []byte)
	walk = func(b []byte) {
		for len(b) >= 8 {
			n := int(binary.BigEndian.Uint32(b))
			if n < 8 || n > len(b) {
				return
			}
			typ, body := string(b[4:8]), b[8:n]
			switch typ {
			case "meta":
				walk(body[4:])
			case "iprp", "ipco":
				walk(body)
			case "hvcC":
				hvcC = b[:n]
			case "ispe":
				ispe = b[:n]
			case "mdat":
				data = body
			}
			b = b[n:]
		}
	}
	walk(f)
	if hvcC == nil || ispe == nil || data == nil {
		return nil, nil, nil, fmt.Errorf("no hvcC/ispe/mdat")
	}
	return hvcC, ispe, data, nil
}

func box(typ string, parts ...[]byte) []byte {
	var b bytes.Buffer
	n := 8
	for _, p := range parts {
		n += len(p)
	}
	binary.Write(&b, binary.BigEndian, uint32(n))
	b.WriteString(typ)
	for _, p := range parts {
		b.Write(p)
	}
	return b.Bytes()
}

func u16(v int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(v)) }
func u32(v int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(v)) }

// grid writes item 1 (grid, primary) and items 2.. (tiles), all tiles
// sharing one hvcC and one ispe; item data in one mdat.
func grid(hvcC, ispe []byte, tiles [][]byte, rows, cols, w, h, irot int) []byte {
	full := []byte{0, 0, 0, 0}
	n := len(tiles)
	ftyp := box("ftyp", []byte("heic\x00\x00\x00\x00mif1heic"))
	hdlr := box("hdlr", full, make([]byte, 4), []byte("pict"), make([]byte, 12), []byte{0})
	pitm := box("pitm", full, u16(1))
	infes := [][]byte{full, u16(n + 1), box("infe", []byte{2, 0, 0, 0}, u16(1), u16(0), []byte("grid"), []byte{0})}
	for i := 0; i < n; i++ {
		infes = append(infes, box("infe", []byte{2, 0, 0, 1}, u16(i+2), u16(0), []byte("hvc1"), []byte{0})) // hidden tiles
	}
	iinf := box("iinf", infes...)
	refs := [][]byte{u16(1), u16(n)}
	for i := 0; i < n; i++ {
		refs = append(refs, u16(i+2))
	}
	iref := box("iref", full, box("dimg", refs...))
	gridData := append([]byte{0, 1, byte(rows - 1), byte(cols - 1)}, append(u32(w), u32(h)...)...)
	gridIspe := box("ispe", full, u32(w), u32(h))
	props := [][]byte{hvcC, ispe, gridIspe}
	if irot != 0 {
		props = append(props, box("irot", []byte{byte(irot & 3)}))
	}
	ipco := box("ipco", props...)
	// ipma: grid -> ispe(3) [irot(4)]; tiles -> hvcC(1, essential), ispe(2)
	ma := [][]byte{full, u32(n + 1), u16(1)}
	if irot != 0 {
		ma = append(ma, []byte{2, 3, 0x84})
	} else {
		ma = append(ma, []byte{1, 3})
	}
	for i := 0; i < n; i++ {
		ma = append(ma, u16(i+2), []byte{2, 0x81, 2})
	}
	ipma := box("ipma", ma...)
	iprp := box("iprp", ipco, ipma)
	// iloc v1: 4-byte offset and length; construction method 1 (idat) for the grid
	idat := box("idat", gridData)
	mkIloc := func(mdatStart int) []byte {
		parts := [][]byte{{1, 0, 0, 0}, {0x44, 0x00}, u16(n + 1), u16(1), u16(1), u16(0), u16(1), u32(0), u32(len(gridData))}
		off := mdatStart
		for i, t := range tiles {
			parts = append(parts, u16(i+2), u16(0), u16(0), u16(1), u32(off), u32(len(t)))
			off += len(t)
		}
		return box("iloc", parts...)
	}
	metaOf := func(iloc []byte) []byte { return box("meta", full, hdlr, pitm, iloc, iinf, iref, iprp, idat) }
	meta := metaOf(mkIloc(0))
	start := len(ftyp) + len(meta) + 8
	meta = metaOf(mkIloc(start))
	var body []byte
	for _, t := range tiles {
		body = append(body, t...)
	}
	out := append(ftyp, meta...)
	return append(out, box("mdat", body)...)
}
