package imageproc

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"io"
	"sort"
)

// The pipeline never converts colours, so pixels stay in the source's
// colour space; the source's ICC profile must travel with them into
// whatever format is written, or a Display P3 phone photo turns dull. This
// file reads the profile from every container that carries one and writes
// it into JPEG, PNG and WebP.

// maxICC bounds a profile: real ones are a few KiB (up to ~1 MiB for
// printer profiles); a zlib bomb in a PNG iCCP chunk stops here.
const maxICC = 4 << 20

// validICC checks the structure of an ICC profile (ICC.1 7.2, 7.3): the
// header's size is the profile's, the 'acsp' signature is in place, and
// every tag lies inside the profile. Anything else is not a profile.
func validICC(p []byte) bool {
	if len(p) < 132 || len(p) > maxICC || int(binary.BigEndian.Uint32(p)) != len(p) || string(p[36:40]) != "acsp" {
		return false
	}
	n := int(binary.BigEndian.Uint32(p[128:]))
	if n > (len(p)-132)/12 {
		return false
	}
	for i := 0; i < n; i++ {
		e := p[132+12*i:]
		off, size := uint64(binary.BigEndian.Uint32(e[4:])), uint64(binary.BigEndian.Uint32(e[8:]))
		if off < 128 || off+size > uint64(len(p)) {
			return false
		}
	}
	return true
}

// iccProfile returns the ICC profile src carries, nil when none.
func iccProfile(src []byte, f Format) []byte {
	switch f {
	case JPEG:
		return jpegICCProfile(src)
	case PNG:
		c := pngChunkData(src, "iCCP")
		i := bytes.IndexByte(c, 0)
		if i < 0 || i+2 > len(c) || c[i+1] != 0 {
			return nil
		}
		zr, err := zlib.NewReader(bytes.NewReader(c[i+2:]))
		if err != nil {
			return nil
		}
		p, err := io.ReadAll(io.LimitReader(zr, maxICC+1))
		if err != nil || len(p) > maxICC {
			return nil
		}
		return p
	case WebP:
		var p []byte
		_ = walkWebP(src, func(c riffChunk) {
			if c.fourcc == "ICCP" && p == nil {
				p = c.body
			}
		})
		return p
	case HEIC, AVIF:
		return heifICC(src)
	}
	return nil
}

// jpegICCProfile joins the APP2 ICC_PROFILE chunks in their sequence order.
func jpegICCProfile(src []byte) []byte {
	type part struct {
		seq  byte
		data []byte
	}
	var parts []part
	_, _ = walkJPEG(src, func(s jpegSegment) {
		if s.marker == markerAPP2 && bytes.HasPrefix(s.body, iccPrefix) && len(s.body) >= 14 {
			parts = append(parts, part{s.body[12], s.body[14:]})
		}
	})
	sort.SliceStable(parts, func(a, b int) bool { return parts[a].seq < parts[b].seq })
	var p []byte
	for _, x := range parts {
		p = append(p, x.data...)
	}
	return p
}

// heifICC reads a 'colr' property of type 'prof' or 'rICC'.
func heifICC(src []byte) []byte {
	ipco, err := heifProperties(src)
	if err != nil {
		return nil
	}
	for b := ipco; len(b) >= 8; {
		typ, body, rest, ok := nextBox(b)
		if !ok {
			return nil
		}
		if typ == "colr" && len(body) > 4 && (string(body[:4]) == "prof" || string(body[:4]) == "rICC") {
			return body[4:]
		}
		b = rest
	}
	return nil
}

// pngChunkData returns the data of the first chunk of type typ.
func pngChunkData(src []byte, typ string) []byte {
	var d []byte
	_ = walkPNG(src, func(t string, chunk []byte) {
		if t == typ && d == nil {
			d = chunk[8 : len(chunk)-4]
		}
	})
	return d
}

// withICC writes profile p into data, freshly encoded as f.
func withICC(data []byte, f Format, p []byte) []byte {
	if len(p) == 0 {
		return data
	}
	switch f {
	case JPEG:
		return insertAfterSOI(data, jpegICCSegments(p))
	case PNG:
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write(p)
		zw.Close()
		body := append([]byte("ICC Profile\x00\x00"), z.Bytes()...)
		return insertAfterIHDR(data, pngChunkBytes("iCCP", body))
	case WebP:
		return webpWithICC(data, p)
	}
	return data
}

// jpegICCSegments splits a profile into APP2 segments (at most 65519
// payload bytes each, numbered from 1).
func jpegICCSegments(p []byte) []byte {
	const room = 65535 - 2 - 14
	n := (len(p) + room - 1) / room
	if n > 255 {
		return nil // no JPEG can carry it
	}
	var out []byte
	for i := 0; i < n; i++ {
		part := p[i*room : min(len(p), (i+1)*room)]
		out = append(out, 0xFF, markerAPP2)
		out = binary.BigEndian.AppendUint16(out, uint16(2+14+len(part)))
		out = append(out, iccPrefix...)
		out = append(out, byte(i+1), byte(n))
		out = append(out, part...)
	}
	return out
}

func pngChunkBytes(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// webpWithICC turns a simple WebP (one VP8 or VP8L chunk) into the extended
// form, VP8X with the ICC flag then the ICCP chunk; an extended file gets
// the flag and the chunk after its VP8X.
func webpWithICC(data, p []byte) []byte {
	var vp8x []byte
	var rest [][]byte
	w, h, _, err := webpHeader(data)
	if err != nil {
		return data
	}
	alpha := false
	_ = walkWebP(data, func(c riffChunk) {
		switch c.fourcc {
		case "VP8X":
			vp8x = bytes.Clone(data[c.start:c.end])
		case "ICCP":
		default:
			if c.fourcc == "VP8L" && len(c.body) >= 5 {
				alpha = binary.LittleEndian.Uint32(c.body[1:5])>>28&1 == 1
			}
			if c.fourcc == "ALPH" {
				alpha = true
			}
			rest = append(rest, data[c.start:c.end])
		}
	})
	if vp8x == nil {
		vp8x = []byte("VP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
		vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16), byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
		if alpha {
			vp8x[8] |= 0x10
		}
	}
	vp8x[8] |= 0x20
	out := append([]byte("RIFF\x00\x00\x00\x00WEBP"), vp8x...)
	out = append(out, "ICCP"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(p)))
	out = append(out, p...)
	if len(p)&1 == 1 {
		out = append(out, 0)
	}
	for _, c := range rest {
		out = append(out, c...)
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}
