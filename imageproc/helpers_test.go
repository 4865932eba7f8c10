package imageproc

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// The helpers below read outputs independently of the code under test: they
// parse segments and chunks themselves, so a bug in the strip code cannot
// hide itself.

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// privateLeaks lists the metadata a published image must not carry, read
// from data's own structure; nil means clean.
func privateLeaks(data []byte) []string {
	var leaks []string
	for _, s := range []string{"taken at home", "iPhone", "17.5.1", "CreatorTool"} {
		if bytes.Contains(data, []byte(s)) {
			leaks = append(leaks, fmt.Sprintf("the bytes contain %q", s))
		}
	}
	f, err := Sniff(data)
	if err != nil {
		return append(leaks, err.Error())
	}
	switch f {
	case JPEG:
		leaks = append(leaks, jpegLeaks(data)...)
	case PNG:
		for i := 8; i+12 <= len(data); {
			n := int(binary.BigEndian.Uint32(data[i:]))
			switch typ := string(data[i+4 : i+8]); typ {
			case "tEXt", "iTXt", "zTXt", "eXIf", "tIME":
				leaks = append(leaks, "PNG chunk "+typ)
			}
			i += 12 + n
		}
	case WebP:
		for i := 12; i+8 <= len(data); {
			n := int(binary.LittleEndian.Uint32(data[i+4:]))
			switch typ := string(data[i : i+4]); typ {
			case "EXIF", "XMP ":
				leaks = append(leaks, "WebP chunk "+typ)
			case "VP8X":
				if data[i+8]&0x0C != 0 {
					leaks = append(leaks, "VP8X flags announce EXIF/XMP")
				}
			}
			i += 8 + n + n&1
		}
	case GIF:
		if bytes.Contains(data, []byte("XMP DataXMP")) {
			leaks = append(leaks, "GIF XMP extension")
		}
	}
	return leaks
}

// jpegLeaks walks the segments before the first scan and checks the end.
func jpegLeaks(data []byte) []string {
	var leaks []string
	for i := 2; i+4 <= len(data); {
		m := data[i+1]
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		body := data[i+4 : min(len(data), i+2+n)]
		switch {
		case m == 0xDA:
			i = len(data)
			continue
		case m == 0xE1:
			if o, ok := onlyOrientation(body); !ok {
				leaks = append(leaks, "APP1 beyond a lone Orientation tag")
			} else if o < 2 {
				leaks = append(leaks, "an EXIF block with Orientation 1 (useless)")
			}
		case m == 0xFE:
			leaks = append(leaks, "COM segment")
		case m == 0xED:
			leaks = append(leaks, "APP13 (IPTC)")
		case m >= 0xE3 && m <= 0xEF && !(m == 0xEE && bytes.HasPrefix(body, []byte("Adobe"))):
			leaks = append(leaks, fmt.Sprintf("APP%d segment", m-0xE0))
		}
		i += 2 + n
	}
	if !bytes.HasSuffix(data, []byte{0xFF, 0xD9}) {
		leaks = append(leaks, "bytes after EOI (or no EOI)")
	}
	return leaks
}

// onlyOrientation accepts an EXIF APP1 body holding IFD0 with one entry,
// Orientation, and no further IFDs.
func onlyOrientation(body []byte) (int, bool) {
	if !bytes.HasPrefix(body, []byte("Exif\x00\x00")) || len(body) < 6+8+2+12+4 {
		return 0, false
	}
	t := body[6:]
	var bo binary.ByteOrder = binary.BigEndian
	if string(t[:2]) == "II" {
		bo = binary.LittleEndian
	}
	off := int(bo.Uint32(t[4:]))
	if off+2+12+4 > len(t) || bo.Uint16(t[off:]) != 1 || bo.Uint16(t[off+2:]) != 0x0112 || bo.Uint32(t[off+14:]) != 0 {
		return 0, false
	}
	return int(bo.Uint16(t[off+10:])), true
}

// jpegICCBody returns the concatenated ICC payloads of a JPEG (APP2).
func jpegICCBody(data []byte) []byte {
	var icc []byte
	for i := 2; i+4 <= len(data) && data[i+1] != 0xDA; {
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if data[i+1] == 0xE2 && bytes.HasPrefix(data[i+4:], []byte("ICC_PROFILE\x00")) {
			icc = append(icc, data[i+4+14:i+2+n]...)
		}
		i += 2 + n
	}
	return icc
}

// pngChunk returns the data of a PNG's first chunk of type typ.
func pngChunk(data []byte, typ string) []byte {
	for i := 8; i+12 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		if string(data[i+4:i+8]) == typ {
			return data[i+8 : i+8+n]
		}
		i += 12 + n
	}
	return nil
}

// inflate reads an iCCP chunk: name, NUL, method, zlib data.
func inflate(t testing.TB, iccp []byte) []byte {
	t.Helper()
	i := bytes.IndexByte(iccp, 0)
	if i < 0 || i+2 > len(iccp) {
		t.Fatalf("no iCCP chunk (%d bytes)", len(iccp))
	}
	zr, err := zlib.NewReader(bytes.NewReader(iccp[i+2:]))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webpChunk returns the payload of a WebP's first chunk of type typ.
func webpChunk(data []byte, typ string) []byte {
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if string(data[i:i+4]) == typ && i+8+n <= len(data) {
			return data[i+8 : i+8+n]
		}
		i += 8 + n + n&1
	}
	return nil
}

// decodeAny decodes an output with the codec under test's decoder.
func decodeAny(t testing.TB, data []byte) image.Image {
	t.Helper()
	h, err := ReadHeader(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := decode(context.Background(), data, h, 1)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return img
}

// meanDiff is the mean absolute difference per channel (0-255) of two
// images of the same size, compared as non-premultiplied RGB.
func meanDiff(t testing.TB, a, b image.Image) float64 {
	t.Helper()
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Size() != bb.Size() {
		t.Fatalf("sizes differ: %v vs %v", ab.Size(), bb.Size())
	}
	var sum float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			ca := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			sum += absDiff(ca.R, cb.R) + absDiff(ca.G, cb.G) + absDiff(ca.B, cb.B)
		}
	}
	return sum / float64(3*ab.Dx()*ab.Dy())
}

func absDiff(a, b uint8) float64 {
	if a > b {
		return float64(a - b)
	}
	return float64(b - a)
}

func nrgbaAt(img image.Image, x, y int) color.NRGBA {
	b := img.Bounds()
	return color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
}

// solidPNG encodes a w x h PNG filled with c.
func solidPNG(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return encodePNG(t, img)
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// resized is resize for a whole picture (not a DCT-scaled decode of one).
func resized(t testing.TB, img image.Image, w, h int) image.Image {
	t.Helper()
	m, err := resize(img, img.Bounds().Size(), w, h)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
