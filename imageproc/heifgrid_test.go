package imageproc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"testing"

	"picbed/imageproc/internal/quality"
	"picbed/imageproc/internal/wasmcodec"
)

// TestHEICGridTilesMatchLibheif: the tile-by-tile decode with libde265
// alone on both cores gives libheif's picture (libheif decoding the whole
// grid and applying irot), with and without a quarter turn, edge tiles
// cropped. Not to the bit: libheif sends the assembled grid through a Y'CbCr->RGB->Y'CbCr
// round trip when the tiles' colour signalling differs from the grid's,
// clipping a few saturated samples by 1-3 levels (49.9 dB); the tile path
// keeps the decoded samples. A misplaced tile or a wrong turn scores far
// below the bound.
func TestHEICGridTilesMatchLibheif(t *testing.T) {
	for _, tc := range []struct {
		file  string
		w, h  int // displayed
		turn  int
		tiles int
	}{{"grid.heic", 700, 600, 1, 4}, {"grid-irot.heic", 530, 601, 8, 4}} {
		t.Run(tc.file, func(t *testing.T) {
			src := fixture(t, tc.file)
			g, ok := parseHEICGrid(src)
			if !ok {
				t.Fatal("not taken as a grid")
			}
			if g.orientation != tc.turn || len(g.tiles) != tc.tiles {
				t.Fatalf("orientation %d, %d tiles; want %d, %d", g.orientation, len(g.tiles), tc.turn, tc.tiles)
			}
			got, err := decodeHEIC(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			want, err := wasmcodec.DecodeHEIC(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if b := got.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h || want.Bounds().Size() != b.Size() {
				t.Fatalf("tiles %v, libheif %v, want %dx%d", b, want.Bounds(), tc.w, tc.h)
			}
			s, err := quality.Compare(got, want, image.Rectangle{})
			if err != nil {
				t.Fatal(err)
			}
			if s.PSNR < 45 || s.SSIM < 0.999 {
				t.Errorf("tile decode against libheif's: %.1f dB, SSIM %.5f; want >= 45 dB, 0.999", s.PSNR, s.SSIM)
			}
		})
	}
}

// TestHEVCMatchesNativeLibde265: the WebAssembly build of libde265 (with
// SIMD) decodes every tile to the bit as Debian's native libde265 1.0.11
// (x86-64, SSE) does: the hashes are of the planes (Y, Cb, Cr, rows without
// padding) dumped by a program linked against Debian's libde265.so.0. A
// single-image HEIC is one tile; libheif, by contrast, sends its chroma
// through an RGB round trip (up to 26 levels off at colour edges).
func TestHEVCMatchesNativeLibde265(t *testing.T) {
	for _, tc := range []struct {
		file, sha256 string
		tiles        int
	}{
		{"phone.heic", "810526e7f4f2fd1115f83f6b84102d7e6af841a68dd462b99842f1af762be85d", 1},
		{"grid.heic", "bb594c4bc67808dbcfaee1954d26154eb5479703e299b6d895692f23db008589", 4},
	} {
		t.Run(tc.file, func(t *testing.T) {
			g, ok := parseHEICGrid(fixture(t, tc.file))
			if !ok || len(g.tiles) != tc.tiles {
				t.Fatalf("taken tile by tile: %v; want %d tiles", ok, tc.tiles)
			}
			h := sha256.New()
			for _, nals := range g.tiles {
				err := wasmcodec.DecodeHEVC(context.Background(), nals, func(p *wasmcodec.HEVCPicture) error {
					if p.Chroma != 1 || p.LumaDepth != 8 || p.ChromaDepth != 8 {
						t.Fatalf("chroma format %d, %d/%d bits; want 4:2:0, 8 bits", p.Chroma, p.LumaDepth, p.ChromaDepth)
					}
					for y := 0; y < p.Height; y++ {
						h.Write(p.Y[y*p.YStride:][:p.Width])
					}
					for _, c := range [][]byte{p.Cb, p.Cr} {
						for y := 0; y < (p.Height+1)/2; y++ {
							h.Write(c[y*p.CStride:][:(p.Width+1)/2])
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != tc.sha256 {
				t.Errorf("planes hash to %s, native libde265's to %s", got, tc.sha256)
			}
		})
	}
}

// TestHEICGridFallsBack: what the tile path does not handle (here imir,
// mirroring) goes to libheif whole.
func TestHEICGridFallsBack(t *testing.T) {
	src := bytes.Replace(fixture(t, "grid-irot.heic"), []byte("irot"), []byte("imir"), 1)
	if _, ok := parseHEICGrid(src); ok {
		t.Fatal("a grid with imir taken tile by tile")
	}
	if _, ok := parseHEICGrid(bytes.Replace(fixture(t, "phone.heic"), []byte("ispe"), []byte("clap"), 1)); ok {
		t.Fatal("a single-image HEIC with clap (cropping) taken as one tile")
	}
}

// TestHEICTurnedFits: a portrait HEIC (irot) is fitted by its displayed
// sides, not squashed into the coded ones.
func TestHEICTurnedFits(t *testing.T) {
	res, err := Process(context.Background(), fixture(t, "grid-irot.heic"), Recipe{MaxWidth: 300, MaxHeight: 300, Quality: 80})
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := image.Decode(bytes.NewReader(res.Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 265 || b.Dy() != 300 {
		t.Fatalf("output %v, want 265x300 (530x601 fitted)", b)
	}
	if res.Info.Source.Width != 530 || res.Info.Source.Height != 601 {
		t.Fatalf("source reported as %dx%d, want 530x601", res.Info.Source.Width, res.Info.Source.Height)
	}
}

// hevcLuma decodes nals with decode (a reused HEVCDecoder's Decode or
// DecodeHEVC) and returns the luma rows of what it gave, nil for nothing.
func hevcLuma(decode func(context.Context, []byte, func(*wasmcodec.HEVCPicture) error) error, nals []byte) ([]byte, error) {
	var out []byte
	err := decode(context.Background(), nals, func(p *wasmcodec.HEVCPicture) error {
		for y := 0; y < p.Height; y++ {
			out = append(out, p.Y[y*p.YStride:][:p.Width]...)
		}
		return nil
	})
	return out, err
}

// TestHEICTileInstancesReused: a decoder's instance, kept between its
// tiles, gives the same pixels on the next tile, also after a refused
// stream and after one cut short.
func TestHEICTileInstancesReused(t *testing.T) {
	src := fixture(t, "grid.heic")
	g, _ := parseHEICGrid(src)
	var d wasmcodec.HEVCDecoder
	defer d.Close()
	luma := func(nals []byte) ([]byte, error) { return hevcLuma(d.Decode, nals) }
	first, err := luma(g.tiles[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := luma([]byte{0, 0, 0, 9, 0x40}); err == nil {
		t.Fatal("a NAL unit longer than the stream decoded")
	}
	_, _ = luma(g.tiles[0][:len(g.tiles[0])/2]) // refused or concealed
	for i := 0; i < 3; i++ {
		again, err := luma(g.tiles[0])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("decode %d with the reused instance differs from the first", i+2)
		}
	}
}

// TestHEVCCorruptTileShowsNoEarlierPicture: libde265 leaves what a
// corrupt stream does not code as its buffers held it, so a decode must
// not see the pictures decoded before it (another request's photo): the
// same corrupt stream gives the same pixels whatever was decoded first.
func TestHEVCCorruptTileShowsNoEarlierPicture(t *testing.T) {
	src := fixture(t, "grid.heic")
	g, _ := parseHEICGrid(src)
	luma := func(nals []byte) ([]byte, error) { return hevcLuma(wasmcodec.DecodeHEVC, nals) }
	decoded := 0
	for i := 100; i < 130; i++ { // the first slice's header and data
		b := bytes.Clone(g.tiles[1])
		b[i] = 0
		var got [2][]byte
		for k, before := range [][]byte{g.tiles[0], g.tiles[2]} {
			if _, err := decodeHEIC(context.Background(), src); err != nil { // a whole request
				t.Fatal(err)
			}
			if _, err := luma(before); err != nil {
				t.Fatal(err)
			}
			got[k], _ = luma(b)
		}
		if got[0] != nil {
			decoded++
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Fatalf("tile 1 with byte %d zeroed decodes to other pixels after another picture", i)
		}
	}
	if decoded == 0 {
		t.Fatal("no corrupt stream decoded to a picture: the test checks nothing")
	}
}

// TestHEICGridAuxiliaryImages: an iPhone's depth map or HDR gain map
// (auxl items of their own auxC types) does not keep its photo off the
// tile path, and the photo decodes as without it; an alpha plane does.
func TestHEICGridAuxiliaryImages(t *testing.T) {
	plain, err := decodeHEIC(context.Background(), heifGrid(t, 2, 2, 600, 400, 600, 400))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		urn   string
		tiles bool
	}{
		{"urn:com:apple:photo:2020:aux:hdrgainmap", true},
		{"urn:mpeg:hevc:2015:auxid:2", true}, // depth
		{"urn:mpeg:hevc:2015:auxid:1", false},
		{"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha", false},
	} {
		t.Run(tc.urn, func(t *testing.T) {
			src := heifGrid(t, 2, 2, 600, 400, 600, 400, tc.urn)
			if _, ok := parseHEICGrid(src); ok != tc.tiles {
				t.Fatalf("taken tile by tile: %v, want %v", ok, tc.tiles)
			}
			if !tc.tiles {
				return
			}
			got, err := decodeHEIC(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(toRGBA(got).Pix, toRGBA(plain).Pix) {
				t.Error("the picture differs from the same grid without the auxiliary image")
			}
		})
	}
}

// TestHEVCStreamSurvivesCorruption: libde265 reads a hostile tile stream
// (a parameter set, slice header or length byte overwritten) to an error or
// to a picture whose planes lie inside the module's memory, never further;
// and the instances that read it decode the clean stream as before.
func TestHEVCStreamSurvivesCorruption(t *testing.T) {
	g, ok := parseHEICGrid(fixture(t, "phone.heic"))
	if !ok {
		t.Fatal("phone.heic not taken as one tile")
	}
	clean := g.tiles[0]
	hash := func(nals []byte) (string, error) {
		h := sha256.New()
		err := wasmcodec.DecodeHEVC(context.Background(), nals, func(p *wasmcodec.HEVCPicture) error {
			bpp := (p.LumaDepth + 7) / 8
			if len(p.Y) < (p.Height-1)*p.YStride+p.Width*bpp {
				t.Fatalf("a %dx%d picture with %d bytes of luma at stride %d", p.Width, p.Height, len(p.Y), p.YStride)
			}
			for y := 0; y < p.Height; y++ {
				h.Write(p.Y[y*p.YStride:][:p.Width*bpp])
			}
			return nil
		})
		return hex.EncodeToString(h.Sum(nil)), err
	}
	want, err := hash(clean)
	if err != nil {
		t.Fatal(err)
	}
	step := max(1, len(clean)/120)
	for i := 0; i < len(clean); i += step {
		for _, v := range []byte{0x00, 0xFF} {
			b := bytes.Clone(clean)
			b[i] = v
			hash(b) // an error or a picture; the callback checks the planes
		}
	}
	for i := 0; i < 2; i++ {
		if got, err := hash(clean); err != nil || got != want {
			t.Fatalf("the clean stream after the corrupt ones: %v, luma hash %s, want %s", err, got, want)
		}
	}
}

// TestLibheifCorruptHEICShowsNoEarlierPicture: what takes libheif (here a
// grid with imir) decodes a corrupt tile to the same pixels whatever was
// decoded before it, as the tile path must (libde265 leaves what a corrupt
// stream does not code as its memory held it; libheif's instances are kept
// between requests, and this pins that they show no earlier picture).
func TestLibheifCorruptHEICShowsNoEarlierPicture(t *testing.T) {
	grid := fixture(t, "grid-irot.heic")
	g, ok := parseHEICGrid(grid)
	if !ok || len(g.tiles) < 2 {
		t.Fatal("grid-irot.heic is not a grid")
	}
	src := bytes.Replace(grid, []byte("irot"), []byte("imir"), 1) // libheif's, whole
	at := bytes.Index(src, g.tiles[1][100:160])                   // the first slice's header and data
	if at < 0 {
		t.Fatal("tile 1's slice data not found in the file")
	}
	others := [][]byte{
		bytes.Replace(fixture(t, "phone.heic"), []byte("ispe"), []byte("clap"), 1),
		bytes.Replace(fixture(t, "grid.heic"), []byte("ispe"), []byte("clap"), 1),
	}
	pixels := func(m image.Image) []byte {
		if y, ok := m.(*image.YCbCr); ok {
			return append(append(bytes.Clone(y.Y), y.Cb...), y.Cr...)
		}
		return nil
	}
	decoded := 0
	for i := 0; i < 30; i += 3 {
		b := bytes.Clone(src)
		b[at+i] = 0
		var got [2][]byte
		for k, before := range others {
			wasmcodec.DecodeHEIC(context.Background(), before) // another request first
			if m, err := wasmcodec.DecodeHEIC(context.Background(), b); err == nil {
				got[k] = pixels(m)
			}
		}
		if got[0] != nil {
			decoded++
		}
		if !bytes.Equal(got[0], got[1]) {
			t.Fatalf("byte %d of tile 1 zeroed decodes to other pixels after another picture", i)
		}
	}
	if decoded == 0 {
		t.Fatal("no corrupt file decoded to a picture: the test checks nothing")
	}
}
