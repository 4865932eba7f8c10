package imageproc

import (
	"bytes"
	"context"
	"image"
	"testing"

	"picbed/imageproc/internal/quality"
	"picbed/imageproc/internal/wasmcodec"
)

// TestHEICGridTilesMatchLibheif: the tile-by-tile decode on both cores
// gives libheif's picture (libheif decoding the whole grid and applying
// irot), with and without a quarter turn, edge tiles cropped. Not to the
// bit: libheif sends the assembled grid through a Y'CbCr->RGB->Y'CbCr
// round trip when the tiles' colour signalling differs from the grid's,
// clipping a few saturated samples by 1-3 levels (49.9 dB); the tile path
// keeps the decoded samples. A misplaced tile or a wrong turn scores far
// below the bound.
func TestHEICGridTilesMatchLibheif(t *testing.T) {
	for _, tc := range []struct {
		file string
		w, h int // displayed
		turn int
	}{{"grid.heic", 700, 600, 1}, {"grid-irot.heic", 530, 601, 8}} {
		t.Run(tc.file, func(t *testing.T) {
			src := fixture(t, tc.file)
			g, ok := parseHEICGrid(src)
			if !ok {
				t.Fatal("not taken as a grid")
			}
			if g.orientation != tc.turn || len(g.tiles) != 4 {
				t.Fatalf("orientation %d, %d tiles; want %d, 4", g.orientation, len(g.tiles), tc.turn)
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

// TestHEICGridFallsBack: what the tile path does not handle (here imir,
// mirroring) goes to libheif whole.
func TestHEICGridFallsBack(t *testing.T) {
	src := bytes.Replace(fixture(t, "grid-irot.heic"), []byte("irot"), []byte("imir"), 1)
	if _, ok := parseHEICGrid(src); ok {
		t.Fatal("a grid with imir taken tile by tile")
	}
	if _, ok := parseHEICGrid(fixture(t, "phone.heic")); ok {
		t.Fatal("a single-image HEIC taken as a grid")
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

// TestHEICTileInstancesReused: tile instances kept between calls give the
// same pixels on the next picture, also after a refused file.
func TestHEICTileInstancesReused(t *testing.T) {
	src := fixture(t, "grid.heic")
	first, err := decodeHEIC(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wasmcodec.DecodeHEIC(context.Background(), src[:len(src)/2]); err == nil {
		t.Fatal("half a HEIC decoded")
	}
	for i := 0; i < 3; i++ {
		again, err := decodeHEIC(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(toRGBA(first).Pix, toRGBA(again).Pix) {
			t.Fatalf("decode %d with reused instances differs from the first", i+2)
		}
	}
}
