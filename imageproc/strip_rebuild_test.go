package imageproc

import (
	"bytes"
	"context"
	"encoding/binary"
	"image/gif"
	"testing"
)

// Metadata that hides inside the segments and extensions a viewer needs:
// stripping keeps only the fields the viewer reads, rebuilt.

func jpegSegmentBytes(marker byte, body []byte) []byte {
	b := []byte{0xFF, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)+2))
	return append(b, body...)
}

func TestStripJPEGRebuildsJFIFAndAdobeAndDropsJFXX(t *testing.T) {
	src := fixture(t, "orientation_1.jpg")
	if src[2] != 0xFF || src[3] != markerAPP0 { // drop the encoder's own JFIF, so ours is the only one
		t.Fatal("orientation_1.jpg does not start with APP0")
	}
	rest := src[4+int(binary.BigEndian.Uint16(src[4:])):]
	jfif := []byte("JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x02GPS 48.8583N") // a 2x2 RGB thumbnail: 12 bytes
	jfxx := append([]byte("JFXX\x00\x13"), "taken at home: a JPEG thumbnail with its own EXIF"...)
	adobe := append([]byte("Adobe\x00\x64\x80\x00\x00\x00\x01"), "taken at home"...)
	in := append([]byte{0xFF, markerSOI}, jpegSegmentBytes(markerAPP0, jfif)...)
	in = append(in, jpegSegmentBytes(markerAPP0, jfxx)...)
	in = append(in, jpegSegmentBytes(markerAPPE, adobe)...)
	in = append(in, rest...)

	res, err := Process(context.Background(), in, Recipe{Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Data
	if bytes.Contains(out, []byte("taken at home")) || bytes.Contains(out, []byte("JFXX")) || bytes.Contains(out, []byte("GPS")) {
		t.Errorf("the stripped JPEG still carries the thumbnail or the extra bytes")
	}
	wantJFIF := jpegSegmentBytes(markerAPP0, []byte("JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"))
	if !bytes.HasPrefix(out[2:], wantJFIF) {
		t.Errorf("JFIF = % x, want the 16-byte form without thumbnail % x", out[2:2+len(wantJFIF)], wantJFIF)
	}
	wantAdobe := jpegSegmentBytes(markerAPPE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x01"))
	if !bytes.Contains(out, wantAdobe) {
		t.Errorf("no Adobe segment in the fixed 12-byte form with the transform flag kept")
	}
	if !res.Info.MetadataRemoved {
		t.Error("MetadataRemoved = false")
	}
	decodeAny(t, out)
}

// gifExt is an extension block with the given label and sub-blocks.
func gifExt(label byte, app string, subs ...[]byte) []byte {
	b := []byte{0x21, label}
	if app != "" {
		b = append(append(b, 11), app...)
	}
	for _, s := range subs {
		b = append(append(b, byte(len(s))), s...)
	}
	return append(b, 0)
}

// testICC is a minimal well-formed ICC profile: header and one tag.
func testICC() []byte {
	p := make([]byte, 132+12+12)
	binary.BigEndian.PutUint32(p, uint32(len(p)))
	copy(p[36:], "acsp")
	binary.BigEndian.PutUint32(p[128:], 1)
	copy(p[132:], "wtpt")
	binary.BigEndian.PutUint32(p[136:], 144)
	binary.BigEndian.PutUint32(p[140:], 12)
	return p
}

func TestStripGIFRebuildsWhatAViewerReadsAndDropsTheRest(t *testing.T) {
	src := fixture(t, "animated.gif")
	_, _, hdrEnd, err := walkGIF(src, func(gifBlock) {})
	if err != nil {
		t.Fatal(err)
	}
	html := []byte("<script>alert(1)</script>")
	icc := testICC()
	in := append([]byte{}, src[:hdrEnd]...)
	in = append(in, gifExt(0xFF, "NETSCAPE2.0", []byte{1, 7, 0}, html)...)    // loop count 7, then a payload
	in = append(in, gifExt(0xFF, "ICCRGBG1012", html)...)                     // not a profile
	in = append(in, gifExt(0xFF, "ICCRGBG1012", icc[:100], icc[100:])...)     // a real one, split oddly
	in = append(in, gifExt(0xFF, "EVILEVIL1.0", html)...)                     // unknown application
	in = append(in, gifExt(0xFF, "XMP DataXMP", []byte("<x:xmpmeta>GPS"))...) // XMP
	in = append(in, gifExt(0xFE, "", []byte("taken at home"))...)             // comment
	in = append(in, gifExt(0xF9, "", []byte{4, 10, 0, 0}, html)...)           // graphic control + payload
	in = append(in, src[hdrEnd:]...)

	res, err := Process(context.Background(), in, Recipe{Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	out := res.Data
	for _, leak := range []string{"<script>", "EVILEVIL", "XMP Data", "taken at home", "GPS"} {
		if bytes.Contains(out, []byte(leak)) {
			t.Errorf("the stripped GIF still carries %q", leak)
		}
	}
	wantLoop := gifExt(0xFF, "NETSCAPE2.0", []byte{1, 7, 0})
	if !bytes.Contains(out, wantLoop) {
		t.Errorf("no rebuilt NETSCAPE2.0 loop count 7")
	}
	if !bytes.Contains(out, gifExt(0xFF, "ICCRGBG1012", icc)) {
		t.Errorf("the real ICC profile was not kept (rebuilt in 255-byte sub-blocks)")
	}
	if !bytes.Contains(out, gifExt(0xF9, "", []byte{4, 10, 0, 0})) {
		t.Errorf("the graphic control was not rebuilt")
	}
	g, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the stripped GIF does not decode: %v", err)
	}
	if g.LoopCount != 7 || len(g.Image) != 3 {
		t.Errorf("loop count %d, %d frames; want 7 and 3", g.LoopCount, len(g.Image))
	}
}
