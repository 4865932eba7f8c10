package jpegx

import (
	"errors"
	"fmt"
)

// ErrTooComplex marks a JPEG whose scans would cost far more CPU to decode
// than its size suggests: a progressive file can repeat tiny refinement
// scans over every block of the picture, each a few bytes long, so a
// 100 KB upload would keep any decoder (this one or image/jpeg) busy for
// seconds, and a 32 MB one for hours.
var ErrTooComplex = errors.New("jpegx: too many scans")

// The scan budget, libjpeg-turbo's max_scans idea plus a work bound.
// Encoders write one scan (baseline) or about ten (libjpeg's and mozjpeg's
// progressive scripts visit every block of a component at most five or six
// times); nothing legitimate comes near these.
const (
	// MaxScans is the most scans one JPEG may have.
	MaxScans = 100
	// MaxPasses bounds the blocks all scans visit together, as a multiple
	// of the picture's blocks (every component's, once each).
	MaxPasses = 16
)

// frame is what the pre-walk needs from the frame header.
type frame struct {
	marker        byte
	width, height int
	ids           []uint8
	h, v          []int
	hmax, vmax    int
}

// blocks is the number of blocks component i has in a scan of it alone.
func (f *frame) blocks(i int) int {
	w := (f.width*f.h[i] + f.hmax - 1) / f.hmax
	h := (f.height*f.v[i] + f.vmax - 1) / f.vmax
	return ((w + 7) / 8) * ((h + 7) / 8)
}

// mcus is the number of MCUs of an interleaved scan.
func (f *frame) mcus() int {
	return ((f.width + 8*f.hmax - 1) / (8 * f.hmax)) * ((f.height + 8*f.vmax - 1) / (8 * f.vmax))
}

// Check walks every marker of a JPEG up to its EOI without decoding any
// entropy-coded data, and refuses what no decoder should be handed: more
// than MaxScans scans or more than MaxPasses block visits per block
// (ErrTooComplex), and a broken structure (ErrFormat): a second frame
// header, a scan before the frame or naming a component it does not have,
// invalid Huffman or quantisation tables, spectral-selection or
// successive-approximation parameters outside T.81 G.1.1.1 (as libjpeg and
// image/jpeg read them), no EOI. Variants this package does not decode
// (arithmetic coding, lossless, hierarchical) are ErrUnsupported; so is a
// height given only by a DNL marker. Its cost is one pass over the bytes,
// and it allocates only per marker, never in proportion to the picture.
//
// Decode runs it first; callers that hand the bytes to another decoder
// (image/jpeg) or store them as they are run it themselves.
func Check(data []byte) error {
	d := &decoder{data: data}
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return fmt.Errorf("%w: missing SOI", ErrFormat)
	}
	d.pos = 2
	var f *frame
	var huff [2][4]bool
	scans, work := 0, 0
	for {
		marker, err := d.nextMarker()
		if err != nil {
			return err
		}
		switch {
		case marker == 0xD9: // EOI
			if scans == 0 {
				return fmt.Errorf("%w: no scan", ErrFormat)
			}
			return nil
		case marker == 0xD8:
			return fmt.Errorf("%w: a second SOI", ErrFormat)
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			if f != nil {
				return fmt.Errorf("%w: two SOF markers", ErrFormat)
			}
			if marker > 0xC2 {
				return fmt.Errorf("%w: SOF%d (lossless, hierarchical or arithmetic)", ErrUnsupported, marker-0xC0)
			}
			if f, err = d.checkSOF(marker); err != nil {
				return err
			}
		case marker == 0xC4:
			p, err := d.segment()
			if err != nil {
				return err
			}
			if err := checkDHT(p, &huff); err != nil {
				return err
			}
		case marker == 0xDB:
			if err := d.readDQT(); err != nil {
				return err
			}
		case marker == 0xDD:
			if err := d.readDRI(); err != nil {
				return err
			}
		case marker == 0xDA:
			if f == nil {
				return fmt.Errorf("%w: SOS before SOF", ErrFormat)
			}
			p, err := d.segment()
			if err != nil {
				return err
			}
			n, err := checkSOS(p, f, &huff)
			if err != nil {
				return err
			}
			scans++
			work += n
			total := 0
			for i := range f.ids {
				total += f.blocks(i)
			}
			if scans > MaxScans {
				return fmt.Errorf("%w: more than %d scans", ErrTooComplex, MaxScans)
			}
			if work > MaxPasses*total {
				return fmt.Errorf("%w: %d scans visit every block more than %d times", ErrTooComplex, scans, MaxPasses)
			}
			d.pos = d.skipEntropy(d.pos)
		case marker >= 0xD0 && marker <= 0xD7:
			return fmt.Errorf("%w: RST outside a scan", ErrFormat)
		case marker == 0xDC: // DNL
			return fmt.Errorf("%w: height from DNL", ErrUnsupported)
		default: // APPn, COM and others
			if _, err := d.segment(); err != nil {
				return err
			}
		}
	}
}

// checkSOF reads the frame header for the pre-walk: any precision and up
// to four components, as image/jpeg accepts.
func (d *decoder) checkSOF(marker byte) (*frame, error) {
	p, err := d.segment()
	if err != nil {
		return nil, err
	}
	if len(p) < 6 {
		return nil, fmt.Errorf("%w: short SOF", ErrFormat)
	}
	f := &frame{marker: marker, height: int(p[1])<<8 | int(p[2]), width: int(p[3])<<8 | int(p[4]), hmax: 1, vmax: 1}
	nc := int(p[5])
	if f.height == 0 {
		return nil, fmt.Errorf("%w: height from DNL", ErrUnsupported)
	}
	if f.width == 0 || nc < 1 || nc > 4 || len(p) != 6+3*nc {
		return nil, fmt.Errorf("%w: frame header %dx%d with %d components", ErrFormat, f.width, f.height, nc)
	}
	for i := 0; i < nc; i++ {
		id, hv, tq := p[6+3*i], p[7+3*i], p[8+3*i]
		h, v := int(hv>>4), int(hv&15)
		if h < 1 || h > 4 || v < 1 || v > 4 || tq > 3 {
			return nil, fmt.Errorf("%w: component %d sampling %dx%d table %d", ErrFormat, i, h, v, tq)
		}
		for _, seen := range f.ids {
			if seen == id {
				return nil, fmt.Errorf("%w: two components with id %d", ErrFormat, id)
			}
		}
		if nc == 1 {
			h, v = 1, 1
		}
		f.ids, f.h, f.v = append(f.ids, id), append(f.h, h), append(f.v, v)
		f.hmax, f.vmax = max(f.hmax, h), max(f.vmax, v)
	}
	return f, nil
}

// checkDHT validates every table of a DHT segment and notes which exist.
func checkDHT(p []byte, huff *[2][4]bool) error {
	return eachDHT(p, func(class, id byte, counts [17]int, _ []byte) error {
		huff[class][id] = true
		return checkCodeLengths(counts)
	})
}

// checkCodeLengths refuses an over-subscribed set of code lengths (the
// same rule buildHuff applies, without building the tables).
func checkCodeLengths(counts [17]int) error {
	code := 0
	for l := 1; l <= 16; l++ {
		code += counts[l]
		if code > 1<<l {
			return fmt.Errorf("%w: invalid Huffman code lengths", ErrFormat)
		}
		code <<= 1
	}
	return nil
}

// checkSOS validates a scan header against the frame and returns the
// number of blocks the scan visits.
func checkSOS(p []byte, f *frame, huff *[2][4]bool) (int, error) {
	if len(p) < 1 {
		return 0, fmt.Errorf("%w: short SOS", ErrFormat)
	}
	ns := int(p[0])
	if ns < 1 || ns > 4 || ns > len(f.ids) || len(p) != 4+2*ns {
		return 0, fmt.Errorf("%w: SOS length", ErrFormat)
	}
	ss, se := int(p[1+2*ns]), int(p[2+2*ns])
	ah, al := int(p[3+2*ns]>>4), int(p[3+2*ns]&15)
	if err := checkProgression(f.marker == 0xC2, ns, ss, se, ah, al); err != nil {
		return 0, err
	}
	blocks, hv := 0, 0
	var seen [4]bool
	for i := 0; i < ns; i++ {
		id, td, ta := p[1+2*i], p[2+2*i]>>4, p[2+2*i]&15
		ci := -1
		for j, cid := range f.ids {
			if cid == id {
				ci = j
			}
		}
		if ci < 0 || seen[ci] {
			return 0, fmt.Errorf("%w: scan names component %d twice or not in the frame", ErrFormat, id)
		}
		seen[ci] = true
		if td > 3 || ta > 3 {
			return 0, fmt.Errorf("%w: Huffman table selector", ErrFormat)
		}
		needDC, needAC := ss == 0 && ah == 0, se > 0
		if needDC && !huff[0][td] || needAC && !huff[1][ta] {
			return 0, fmt.Errorf("%w: scan uses a missing Huffman table", ErrFormat)
		}
		hv += f.h[ci] * f.v[ci]
		blocks += f.blocks(ci)
	}
	if ns > 1 {
		if hv > 10 { // T.81 B.2.3
			return 0, fmt.Errorf("%w: %d blocks per MCU", ErrFormat, hv)
		}
		blocks = f.mcus() * hv
	}
	return blocks, nil
}

// checkProgression applies T.81's rules for Ss, Se, Ah and Al (G.1.1.1.1
// and B.2.3), as libjpeg's jdphuff.c and image/jpeg do: a sequential scan
// is 0, 63, 0, 0; a progressive DC scan has Se = 0; an AC scan covers one
// component and Ss <= Se <= 63; a refinement (Ah > 0) lowers Al by exactly
// one bit; Al is at most 13.
func checkProgression(progressive bool, ns, ss, se, ah, al int) error {
	bad := false
	switch {
	case !progressive:
		bad = ss != 0 || se != 63 || ah != 0 || al != 0
	case ss == 0:
		bad = se != 0
	default:
		bad = se < ss || se > 63 || ns != 1
	}
	if progressive && (ah != 0 && al != ah-1 || al > 13) {
		bad = true
	}
	if bad {
		return fmt.Errorf("%w: scan with Ss=%d Se=%d Ah=%d Al=%d over %d components", ErrFormat, ss, se, ah, al, ns)
	}
	return nil
}
