package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file removes private metadata without decoding: JPEG segments and
// PNG chunks are copied or dropped whole, the compressed picture data is
// never touched. What stays is a whitelist (what a viewer needs to show the
// picture right); everything else — EXIF with GPS and camera serials, XMP,
// IPTC, comments, maker notes, embedded secondary images — goes.

const (
	markerSOI  = 0xD8
	markerEOI  = 0xD9
	markerSOS  = 0xDA
	markerAPP0 = 0xE0
	markerAPP1 = 0xE1
	markerAPP2 = 0xE2
	markerAPPE = 0xEE
	markerAPPF = 0xEF
	markerCOM  = 0xFE
)

var (
	iccPrefix  = []byte("ICC_PROFILE\x00")
	exifPrefix = []byte("Exif\x00\x00")
)

// jpegKeepSegment says whether an APPn/COM segment is needed to show the
// picture: JFIF (APP0), the ICC profile (APP2 "ICC_PROFILE") and Adobe's
// colour-transform flag (APP14 "Adobe"). JFXX (an APP0 extension that only
// carries a thumbnail, which may show what the picture was cropped from
// and carries its own metadata) goes. Other markers (tables, frame and
// scan headers) are always kept.
func jpegKeepSegment(marker byte, body []byte) bool {
	switch marker {
	case markerAPP0:
		return bytes.HasPrefix(body, []byte("JFIF\x00")) && len(body) >= 14
	case markerAPP2:
		return bytes.HasPrefix(body, iccPrefix)
	case markerAPPE:
		return bytes.HasPrefix(body, []byte("Adobe")) && len(body) >= 12
	}
	return false
}

// jpegKept is what stripping writes for a kept segment: JFIF and Adobe
// rebuilt from the fields a decoder reads (JFIF's version and density,
// without its thumbnail; Adobe's transform flag in the fixed 12-byte
// form), everything else as it is.
func jpegKept(src []byte, s jpegSegment) []byte {
	switch s.marker {
	case markerAPP0:
		b := append([]byte{0xFF, markerAPP0, 0, 16}, "JFIF\x00"...)
		return append(b, s.body[5], s.body[6], s.body[7], s.body[8], s.body[9], s.body[10], s.body[11], 0, 0)
	case markerAPPE:
		b := append([]byte{0xFF, markerAPPE, 0, 14}, "Adobe"...)
		return append(b, 0, 100, 0, 0, 0, 0, s.body[11])
	}
	return src[s.start:s.end]
}

// jpegDrop says whether stripping removes segment s: an APPn or COM
// segment the picture does not need.
func jpegDrop(s jpegSegment) bool {
	return (s.marker >= markerAPP0 && s.marker <= markerAPPF || s.marker == markerCOM) && !jpegKeepSegment(s.marker, s.body)
}

// jpegSegment is one marker segment; body excludes the marker and length.
type jpegSegment struct {
	marker     byte
	body       []byte
	start, end int
}

// walkJPEG calls fn for every marker segment up to and including the first
// SOS, then returns the offset where the entropy-coded data starts.
func walkJPEG(src []byte, fn func(jpegSegment)) (int, error) {
	if len(src) < 4 || src[0] != 0xFF || src[1] != markerSOI {
		return 0, errors.New("no SOI marker")
	}
	for i := 2; ; {
		for i < len(src) && src[i] == 0xFF && i+1 < len(src) && src[i+1] == 0xFF {
			i++ // fill bytes
		}
		if i+4 > len(src) {
			return 0, errTruncated
		}
		if src[i] != 0xFF {
			return 0, fmt.Errorf("no marker at %d", i)
		}
		m := src[i+1]
		if m == markerEOI || m == markerSOI || (m >= 0xD0 && m <= 0xD7) || m == 0x00 {
			return 0, fmt.Errorf("unexpected marker 0x%02x before the scan", m)
		}
		n := int(binary.BigEndian.Uint16(src[i+2:]))
		if n < 2 || i+2+n > len(src) {
			return 0, errTruncated
		}
		fn(jpegSegment{marker: m, body: src[i+4 : i+2+n], start: i, end: i + 2 + n})
		i += 2 + n
		if m == markerSOS {
			return i, nil
		}
	}
}

// stripJPEG copies src without its metadata segments. The entropy-coded
// data is copied untouched; segments between the scans of a progressive
// file are filtered like those before, and whatever follows the EOI (MPF
// depth maps and gain maps, which carry their own EXIF) is dropped. When the
// source said it is rotated, a minimal EXIF block with only the Orientation
// tag keeps it upright.
func stripJPEG(src []byte) (out []byte, removed bool, err error) {
	orient := jpegOrientation(src)
	out = make([]byte, 0, len(src))
	out = append(out, 0xFF, markerSOI)
	keep := func(s jpegSegment) {
		if jpegDrop(s) {
			removed = true
			return
		}
		k := jpegKept(src, s)
		removed = removed || !bytes.Equal(k, src[s.start:s.end])
		out = append(out, k...)
	}
	scan, err := walkJPEG(src, func(s jpegSegment) {
		if orient > 1 && !(s.marker == markerAPP0 && jpegKeepSegment(s.marker, s.body)) {
			out = append(out, minimalEXIF(orient)...) // after JFIF, before the rest
			orient = 0
		}
		keep(s)
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: JPEG: %v", ErrCorrupt, err)
	}
	for i := scan; ; {
		j := bytes.IndexByte(src[i:], 0xFF)
		if j < 0 || i+j+1 >= len(src) {
			return nil, false, fmt.Errorf("%w: JPEG: no end of image", ErrCorrupt)
		}
		j += i
		switch m := src[j+1]; {
		case m == 0x00 || (m >= 0xD0 && m <= 0xD7): // stuffing, restart
			out = append(out, src[i:j+1]...)
			i = j + 1
		case m == 0xFF: // fill before a marker: optional, and dropping it keeps a removed segment from joining its neighbours
			out = append(out, src[i:j]...)
			i = j + 1
		case m == markerEOI:
			out = append(out, src[i:j+2]...)
			if j+2 < len(src) {
				removed = true
			}
			return out, removed, nil
		default: // a segment between scans (progressive: DHT, SOS, ...)
			if j+4 > len(src) {
				return nil, false, fmt.Errorf("%w: JPEG: %v", ErrCorrupt, errTruncated)
			}
			n := int(binary.BigEndian.Uint16(src[j+2:]))
			if n < 2 || j+2+n > len(src) {
				return nil, false, fmt.Errorf("%w: JPEG: %v", ErrCorrupt, errTruncated)
			}
			out = append(out, src[i:j]...)
			keep(jpegSegment{marker: m, body: src[j+4 : j+2+n], start: j, end: j + 2 + n})
			i = j + 2 + n
		}
	}
}

// minimalEXIF is an APP1 segment holding one IFD with one tag: Orientation.
func minimalEXIF(orient int) []byte {
	b := []byte{0xFF, markerAPP1, 0, 0}
	b = append(b, exifPrefix...)
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8) // big-endian TIFF, IFD0 at 8
	b = append(b, 0, 1)                        // one entry
	b = append(b, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(orient), 0, 0)
	b = append(b, 0, 0, 0, 0) // no next IFD
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-2))
	return b
}

// jpegOrientation reads the EXIF Orientation (1-8) of a JPEG; 1 when there
// is none or it cannot be read.
func jpegOrientation(src []byte) int {
	o := 1
	_, _ = walkJPEG(src, func(s jpegSegment) {
		if s.marker == markerAPP1 && bytes.HasPrefix(s.body, exifPrefix) {
			if v := exifOrientation(s.body[len(exifPrefix):]); v != 0 {
				o = v
			}
		}
	})
	return o
}

// exifOrientation finds tag 0x0112 in IFD0 of a TIFF-structured EXIF block.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int64(bo.Uint32(t[4:8]))
	if off+2 > int64(len(t)) {
		return 0
	}
	n := int(bo.Uint16(t[off:]))
	for k := 0; k < n; k++ {
		e := off + 2 + int64(k)*12
		if e+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 0
		}
	}
	return 0
}

// insertAfterSOI puts whole segments right after a JPEG's SOI marker (and
// its JFIF APP0 when there is one).
func insertAfterSOI(jpg, segs []byte) []byte {
	if len(segs) == 0 || len(jpg) < 4 {
		return jpg
	}
	at := 2
	if jpg[2] == 0xFF && jpg[3] == markerAPP0 && len(jpg) >= 6 {
		at = 4 + int(binary.BigEndian.Uint16(jpg[4:]))
	}
	out := make([]byte, 0, len(jpg)+len(segs))
	out = append(out, jpg[:at]...)
	out = append(out, segs...)
	return append(out, jpg[at:]...)
}

// pngKeep lists the chunks a viewer needs: the critical ones, transparency,
// colour (gamma, chromaticities, ICC, sRGB, CICP, HDR), background, physical
// size and the APNG animation chunks. Text, EXIF, time and unknown private
// chunks are dropped.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "iCCP": true, "sRGB": true, "sBIT": true,
	"cICP": true, "mDCv": true, "cLLi": true, "bKGD": true, "pHYs": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

const pngSignature = "\x89PNG\r\n\x1a\n"

// walkPNG calls fn for every chunk (whole: length, type, data, CRC) up to
// and including IEND.
func walkPNG(src []byte, fn func(typ string, chunk []byte)) error {
	if len(src) < 8 || string(src[:8]) != pngSignature {
		return errors.New("no PNG signature")
	}
	for i := 8; ; {
		if i+12 > len(src) {
			return errTruncated
		}
		n := int64(binary.BigEndian.Uint32(src[i:]))
		if int64(i)+12+n > int64(len(src)) {
			return errTruncated
		}
		typ := string(src[i+4 : i+8])
		end := i + 12 + int(n)
		fn(typ, src[i:end])
		if typ == "IEND" {
			return nil
		}
		i = end
	}
}

// stripPNG drops every chunk pngKeep does not list, and anything after IEND.
func stripPNG(src []byte) (out []byte, removed bool, err error) {
	out = make([]byte, 0, len(src))
	out = append(out, pngSignature...)
	err = walkPNG(src, func(typ string, chunk []byte) {
		if pngKeep[typ] {
			out = append(out, chunk...)
		} else {
			removed = true
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: PNG: %v", ErrCorrupt, err)
	}
	return out, removed || len(out) != len(src), nil
}

// insertAfterIHDR puts whole chunks right after a PNG's IHDR, where iCCP
// must be (before PLTE and IDAT).
func insertAfterIHDR(p, chunks []byte) []byte {
	const at = 8 + 12 + 13 // signature + IHDR chunk
	if len(chunks) == 0 || len(p) < at {
		return p
	}
	out := make([]byte, 0, len(p)+len(chunks))
	out = append(out, p[:at]...)
	out = append(out, chunks...)
	return append(out, p[at:]...)
}

// strip removes metadata from src losslessly; formats without a lossless
// strip here (HEIC, AVIF, BMP, TIFF) always take the full path instead.
func strip(src []byte, f Format) ([]byte, bool, error) {
	switch f {
	case JPEG:
		return stripJPEG(src)
	case PNG:
		return stripPNG(src)
	case GIF:
		return stripGIF(src)
	case WebP:
		return stripWebP(src)
	}
	return nil, false, fmt.Errorf("%w: no lossless strip for %s", ErrUnsupported, f)
}
