package imageproc

import (
	"encoding/binary"
	"errors"
)

// heifSize reads the image size of a HEIC/AVIF file without decoding
// anything: the largest image any of its items decodes to, every 'ispe'
// (image spatial extents) property checked against the bitstream's own
// header by heifCheckedSize.
func heifSize(src []byte) (w, h int, err error) {
	if err := heifComplete(src); err != nil {
		return 0, 0, err
	}
	return heifCheckedSize(src)
}

// heifProperties returns the body of the meta/iprp/ipco box: the item
// properties (ispe, colr, ...).
func heifProperties(src []byte) ([]byte, error) {
	meta, ok := findBox(src, "meta")
	if !ok || len(meta) < 4 {
		return nil, errors.New("no meta box")
	}
	iprp, ok := findBox(meta[4:], "iprp") // meta is a full box: skip version+flags
	if !ok {
		return nil, errors.New("no iprp box")
	}
	ipco, ok := findBox(iprp, "ipco")
	if !ok {
		return nil, errors.New("no ipco box")
	}
	return ipco, nil
}

// findBox returns the body of the first box of type typ among the boxes in b.
func findBox(b []byte, typ string) ([]byte, bool) {
	for len(b) >= 8 {
		t, body, rest, ok := nextBox(b)
		if !ok {
			return nil, false
		}
		if t == typ {
			return body, true
		}
		b = rest
	}
	return nil, false
}

// nextBox splits one ISOBMFF box off b. Sizes that run past the buffer are
// corrupt; size 0 means "to the end".
func nextBox(b []byte) (typ string, body, rest []byte, ok bool) {
	if len(b) < 8 {
		return "", nil, nil, false
	}
	size := uint64(binary.BigEndian.Uint32(b[:4]))
	typ = string(b[4:8])
	hdr := uint64(8)
	switch size {
	case 0:
		size = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return "", nil, nil, false
		}
		size, hdr = binary.BigEndian.Uint64(b[8:16]), 16
	}
	if size < hdr || size > uint64(len(b)) {
		return "", nil, nil, false
	}
	return typ, b[hdr:size], b[size:], true
}

// heifComplete checks that every top-level box fits in the file: a
// truncated upload cuts the mdat box short, and the decoders would
// otherwise return a half-grey picture without complaint.
func heifComplete(src []byte) error {
	for b := src; len(b) > 0; {
		_, _, rest, ok := nextBox(b)
		if !ok {
			return errors.New("a box runs past the end of the file")
		}
		b = rest
	}
	return nil
}
