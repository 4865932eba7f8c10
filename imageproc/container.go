package imageproc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// This file walks the block structure of GIF and WebP files: enough to read
// their size and frame count from the header and to drop metadata blocks
// without touching a single pixel. Every walk is linear in the file size and
// allocates nothing in proportion to the sizes the file declares.

var errTruncated = errors.New("truncated")

// gifBlock is one top-level block of a GIF stream: an image (a frame) or an
// extension with its label and, for application extensions, its identifier.
type gifBlock struct {
	image      bool
	label      byte   // extension label: 0xF9 control, 0xFE comment, 0xFF application, 0x01 text
	app        string // application identifier + auth code, e.g. "NETSCAPE2.0"
	start, end int    // the block's bytes in the source
}

// walkGIF calls fn for every block after the header and global colour
// table; hdrEnd is where those end. A stream that stops cleanly between
// blocks without a trailer is accepted, as browsers do.
func walkGIF(src []byte, fn func(gifBlock)) (w, h, hdrEnd int, err error) {
	if len(src) < 13 {
		return 0, 0, 0, errTruncated
	}
	w = int(binary.LittleEndian.Uint16(src[6:8]))
	h = int(binary.LittleEndian.Uint16(src[8:10]))
	i := 13
	if src[10]&0x80 != 0 {
		i += 3 << (src[10]&7 + 1)
	}
	if i > len(src) {
		return 0, 0, 0, errTruncated
	}
	hdrEnd = i
	for i < len(src) {
		b := gifBlock{start: i}
		switch src[i] {
		case 0x3B: // trailer
			return w, h, hdrEnd, nil
		case 0x21:
			if i+2 > len(src) {
				return 0, 0, 0, errTruncated
			}
			b.label = src[i+1]
			if b.label == 0xFF && i+14 <= len(src) && src[i+2] == 11 {
				b.app = string(src[i+3 : i+14])
			}
			i += 2
		case 0x2C:
			if i+10 > len(src) {
				return 0, 0, 0, errTruncated
			}
			b.image = true
			fw := int(binary.LittleEndian.Uint16(src[i+5:]))
			fh := int(binary.LittleEndian.Uint16(src[i+7:]))
			if fw == 0 || fh == 0 {
				return 0, 0, 0, fmt.Errorf("frame of %dx%d", fw, fh)
			}
			flags := src[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW minimum code size
		default:
			return 0, 0, 0, fmt.Errorf("unknown block 0x%02x at %d", src[i], i)
		}
		for { // data sub-blocks up to the zero-length terminator
			if i >= len(src) {
				return 0, 0, 0, errTruncated
			}
			n := int(src[i])
			i += 1 + n
			if n == 0 {
				break
			}
		}
		if i > len(src) {
			return 0, 0, 0, errTruncated
		}
		b.end = i
		fn(b)
	}
	return w, h, hdrEnd, nil
}

// gifHeader reads a GIF's logical screen size and counts its frames.
func gifHeader(src []byte) (w, h, frames int, err error) {
	w, h, _, err = walkGIF(src, func(b gifBlock) {
		if b.image {
			frames++
		}
	})
	if err == nil && frames == 0 {
		err = errors.New("no image in the GIF")
	}
	return w, h, frames, err
}

// gifKept is what stripping writes for block b. A GIF keeps what is
// picture or animation, not metadata: frames as they are, and
// the extensions a viewer needs rebuilt from the one field it reads (the
// delay and disposal of a graphic control, the loop count, the profile),
// never copied with whatever else their sub-blocks carry; nil drops it
// (comments, plain text, every other application's data: XMP, unknown
// payloads).
func gifKept(src []byte, b gifBlock) []byte {
	switch {
	case b.image:
		return src[b.start:b.end]
	case b.label == 0xF9: // graphic control: one 4-byte sub-block
		d := gifSubBlocks(src[b.start+2 : b.end])
		if len(d) < 4 {
			return nil
		}
		return append([]byte{0x21, 0xF9, 4}, d[0], d[1], d[2], d[3], 0)
	case b.label != 0xFF || b.end-b.start < 14:
		return nil
	}
	data := gifSubBlocks(src[b.start+14 : b.end])
	switch b.app {
	case "NETSCAPE2.0", "ANIMEXTS1.0": // loop count: sub-block id 1, then 16 bits
		if len(data) < 3 || data[0] != 1 {
			return nil
		}
		return append([]byte("\x21\xFF\x0BNETSCAPE2.0\x03\x01"), data[1], data[2], 0)
	case "ICCRGBG1012":
		if !validICC(data) {
			return nil
		}
		out := append([]byte("\x21\xFF\x0B"), "ICCRGBG1012"...)
		for len(data) > 0 {
			n := min(len(data), 255)
			out = append(append(out, byte(n)), data[:n]...)
			data = data[n:]
		}
		return append(out, 0)
	}
	return nil
}

// gifSubBlocks joins the data sub-blocks in b (which walkGIF has checked
// end with a terminator inside b).
func gifSubBlocks(b []byte) []byte {
	var d []byte
	for len(b) > 0 && b[0] != 0 {
		n := int(b[0])
		if 1+n > len(b) {
			return nil
		}
		d = append(d, b[1:1+n]...)
		b = b[1+n:]
	}
	return d
}

// stripGIF writes the header and every block gifKept keeps (rebuilt);
// removed says whether anything changed.
func stripGIF(src []byte) (out []byte, removed bool, err error) {
	var kept [][]byte
	loops := false
	_, _, hdrEnd, err := walkGIF(src, func(b gifBlock) {
		k := gifKept(src, b)
		if k != nil && (b.app == "NETSCAPE2.0" || b.app == "ANIMEXTS1.0") { // one loop count is enough
			if loops {
				k = nil
			}
			loops = true
		}
		if k != nil {
			kept = append(kept, k)
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: GIF: %v", ErrCorrupt, err)
	}
	out = make([]byte, 0, len(src))
	out = append(out, src[:hdrEnd]...)
	for _, k := range kept {
		out = append(out, k...)
	}
	out = append(out, 0x3B)
	return out, !bytes.Equal(out, src), nil
}

// riffChunk is one chunk of a WebP file.
type riffChunk struct {
	fourcc     string
	body       []byte
	start, end int // the whole chunk, padding included
}

// walkWebP calls fn for every chunk of a RIFF/WEBP file. Chunks that run
// past the end of the file are corrupt.
func walkWebP(src []byte, fn func(riffChunk)) error {
	if len(src) < 12 {
		return errTruncated
	}
	end := len(src)
	if n := int64(binary.LittleEndian.Uint32(src[4:8])) + 8; n < int64(end) {
		end = int(n) // bytes after the RIFF are not part of the image
	}
	return walkRIFF(src, 12, end, func(c riffChunk) error { fn(c); return nil })
}

// walkRIFFChunks walks the chunks nested in b (the frame data of an ANMF).
func walkRIFFChunks(b []byte, fn func(riffChunk) error) error {
	return walkRIFF(b, 0, len(b), fn)
}

// walkRIFF calls fn for every chunk of src[i:end]; offsets are into src.
func walkRIFF(src []byte, i, end int, fn func(riffChunk) error) error {
	for i < end {
		if i+8 > end {
			return errTruncated
		}
		size := int64(binary.LittleEndian.Uint32(src[i+4 : i+8]))
		next := int64(i) + 8 + size + size&1
		if int64(i)+8+size > int64(end) {
			return errTruncated
		}
		c := riffChunk{fourcc: string(src[i : i+4]), body: src[i+8 : i+8+int(size)], start: i, end: int(min(next, int64(end)))}
		if err := fn(c); err != nil {
			return err
		}
		i = c.end
	}
	return nil
}

// webpHeader reads a WebP's canvas size and counts its frames, and checks
// every size the container claims against the bitstream the decoder will
// read: a simple file is its first chunk (VP8 or VP8L); an extended file
// starts with VP8X (the spec puts it first, and the decoders only look
// there), whose canvas must equal the still image's bitstream size, or
// contain every animation frame, each frame's bitstream the size its ANMF
// header says. Any disagreement is corrupt: the limits and the memory
// admission must see the size that will be allocated.
func webpHeader(src []byte) (w, h, frames int, err error) {
	var chunks []riffChunk
	if err := walkWebP(src, func(c riffChunk) { chunks = append(chunks, c) }); err != nil {
		return 0, 0, 0, err
	}
	if len(chunks) == 0 {
		return 0, 0, 0, errors.New("no chunks")
	}
	first := chunks[0]
	if first.fourcc == "VP8 " || first.fourcc == "VP8L" {
		w, h, err = webpBitstreamSize(first)
		return w, h, 1, err
	}
	if first.fourcc != "VP8X" {
		return 0, 0, 0, fmt.Errorf("the first chunk is %q, not VP8X, VP8 or VP8L", first.fourcc)
	}
	b := first.body
	if len(b) < 10 {
		return 0, 0, 0, errors.New("short VP8X chunk")
	}
	w = 1 + int(uint32(b[4])|uint32(b[5])<<8|uint32(b[6])<<16)
	h = 1 + int(uint32(b[7])|uint32(b[8])<<8|uint32(b[9])<<16)
	animated := b[0]&0x02 != 0
	var still []riffChunk
	anim := false
	for _, c := range chunks[1:] {
		switch c.fourcc {
		case "VP8X":
			return 0, 0, 0, errors.New("a second VP8X chunk")
		case "VP8 ", "VP8L":
			still = append(still, c)
		case "ANIM":
			anim = true
		case "ANMF":
			if !animated {
				return 0, 0, 0, errors.New("an ANMF frame in a file whose VP8X says it is not animated")
			}
			if err := webpCheckFrame(c.body, w, h); err != nil {
				return 0, 0, 0, fmt.Errorf("frame %d: %v", frames+1, err)
			}
			frames++
		}
	}
	if animated {
		if !anim || frames == 0 || len(still) > 0 {
			return 0, 0, 0, errors.New("an animated WebP needs ANIM and ANMF chunks and no top-level bitstream")
		}
		return w, h, frames, nil
	}
	if len(still) != 1 {
		return 0, 0, 0, fmt.Errorf("%d image bitstreams in a still WebP, want 1", len(still))
	}
	bw, bh, err := webpBitstreamSize(still[0])
	if err != nil {
		return 0, 0, 0, err
	}
	if bw != w || bh != h {
		return 0, 0, 0, fmt.Errorf("VP8X says %dx%d, the %s bitstream %dx%d", w, h, strings.TrimSpace(still[0].fourcc), bw, bh)
	}
	return w, h, 1, nil
}

// webpCheckFrame checks an ANMF chunk body: the frame lies inside the
// canvas, and its bitstream is the size the frame header says.
func webpCheckFrame(b []byte, cw, ch int) error {
	if len(b) < 16 {
		return errors.New("short ANMF chunk")
	}
	u24 := func(p []byte) int { return int(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16) }
	x, y := 2*u24(b[0:]), 2*u24(b[3:])
	fw, fh := 1+u24(b[6:]), 1+u24(b[9:])
	if x+fw > cw || y+fh > ch {
		return fmt.Errorf("%dx%d at (%d,%d) is outside the %dx%d canvas", fw, fh, x, y, cw, ch)
	}
	n := 0
	err := walkRIFFChunks(b[16:], func(c riffChunk) error {
		if c.fourcc != "VP8 " && c.fourcc != "VP8L" {
			return nil
		}
		n++
		bw, bh, err := webpBitstreamSize(c)
		if err != nil {
			return err
		}
		if bw != fw || bh != fh {
			return fmt.Errorf("the frame header says %dx%d, its %s bitstream %dx%d", fw, fh, strings.TrimSpace(c.fourcc), bw, bh)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%d bitstreams, want 1", n)
	}
	return nil
}

// webpBitstreamSize reads the frame size from a VP8 key frame header or a
// VP8L header.
func webpBitstreamSize(c riffChunk) (w, h int, err error) {
	b := c.body
	switch c.fourcc {
	case "VP8 ":
		if len(b) < 10 || b[0]&1 != 0 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
			return 0, 0, errors.New("no VP8 key frame header")
		}
		return int(binary.LittleEndian.Uint16(b[6:8]) & 0x3fff), int(binary.LittleEndian.Uint16(b[8:10]) & 0x3fff), nil
	case "VP8L":
		if len(b) < 5 || b[0] != 0x2f {
			return 0, 0, errors.New("no VP8L header")
		}
		bits := binary.LittleEndian.Uint32(b[1:5])
		return 1 + int(bits&0x3fff), 1 + int(bits>>14&0x3fff), nil
	}
	return 0, 0, fmt.Errorf("%q is not a bitstream chunk", c.fourcc)
}

// webpKeep lists the chunks that make up the picture; EXIF, XMP and
// anything unknown are dropped.
var webpKeep = map[string]bool{"VP8X": true, "VP8 ": true, "VP8L": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

// stripWebP drops EXIF, XMP and unknown chunks and clears their flags in
// VP8X, so no reader goes looking for them. A simple file is its first
// chunk: whatever follows the bitstream goes too.
func stripWebP(src []byte) (out []byte, removed bool, err error) {
	out = make([]byte, 12, len(src))
	copy(out, src[:12])
	simple := false
	err = walkWebP(src, func(c riffChunk) {
		if len(out) == 12 && (c.fourcc == "VP8 " || c.fourcc == "VP8L") {
			simple = true
		} else if simple || !webpKeep[c.fourcc] {
			removed = true
			return
		}
		at := len(out)
		out = append(out, src[c.start:c.end]...)
		if c.end-c.start < 8+len(c.body)+len(c.body)&1 {
			out = append(out, 0) // pad an odd chunk that ended the file unpadded
		}
		if c.fourcc == "VP8X" && len(c.body) > 0 {
			out[at+8] &^= 0x08 | 0x04 // EXIF and XMP present
		}
	})
	if err != nil {
		return nil, false, fmt.Errorf("%w: WebP: %v", ErrCorrupt, err)
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, removed, nil
}
