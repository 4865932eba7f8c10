package jpegx

import (
	"context"
	"image"
	"math/rand"
	"testing"
)

// TestIDCT8MatchesGeneric checks the butterfly idct8 against idctN over
// random coefficient blocks (sparse and dense).
func TestIDCT8MatchesGeneric(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		var blk [64]int32
		for k := range blk {
			if r.Intn(4) == 0 || k == 0 {
				blk[k] = int32(r.Intn(2048)-1024) >> uint(r.Intn(8))
			}
		}
		var a, b [64]uint8
		in := blk
		idct8(&in, a[:], 8)
		in = blk
		idctN(&in, b[:], 8, 8)
		for k := range a {
			if d := int(a[k]) - int(b[k]); d < -1 || d > 1 {
				t.Fatalf("block %d: sample %d: idct8 %d, idctN %d", i, k, a[k], b[k])
			}
		}
	}
}

// TestSplitMatchesDecode: DecodeSplit's luma is Decode's at the luma scale
// and its chroma Decode's at the chroma scale, sample for sample; other
// samplings than 4:2:0 are refused.
func TestSplitMatchesDecode(t *testing.T) {
	all := fixtures(t)
	for k, v := range synthetic(t) {
		all[k] = v
	}
	checked := 0
	for name, data := range all {
		for _, sc := range [][2]int{{1, 2}, {2, 4}, {4, 8}} {
			got, err := DecodeSplit(context.Background(), data, sc[0], sc[1])
			lm, lerr := Decode(context.Background(), data, sc[0])
			cm, cerr := Decode(context.Background(), data, sc[1])
			if lerr != nil || cerr != nil {
				if err == nil {
					t.Errorf("%s %v: split decoded what Decode refuses", name, sc)
				}
				continue
			}
			ly, ok1 := lm.(*image.YCbCr)
			cy, ok2 := cm.(*image.YCbCr)
			if !ok1 || !ok2 || ly.SubsampleRatio != image.YCbCrSubsampleRatio420 {
				if err == nil {
					t.Errorf("%s %v: split decoded a %T", name, sc, lm)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %v: %v", name, sc, err)
				continue
			}
			checked++
			if got.Bounds() != ly.Rect {
				t.Fatalf("%s %v: bounds %v, want %v", name, sc, got.Bounds(), ly.Rect)
			}
			cw, ch := (cy.Rect.Dx()+1)/2, (cy.Rect.Dy()+1)/2
			if got.Cb.Rect.Dx() != cw || got.Cb.Rect.Dy() != ch {
				t.Fatalf("%s %v: chroma %v, want %dx%d", name, sc, got.Cb.Rect, cw, ch)
			}
			for y := 0; y < ly.Rect.Dy(); y++ {
				for x := 0; x < ly.Rect.Dx(); x++ {
					if got.Y.GrayAt(x, y).Y != ly.Y[ly.YOffset(x, y)] {
						t.Fatalf("%s %v: luma differs at %d,%d", name, sc, x, y)
					}
				}
			}
			for y := 0; y < ch; y++ {
				for x := 0; x < cw; x++ {
					i := y*cy.CStride + x
					if got.Cb.GrayAt(x, y).Y != cy.Cb[i] || got.Cr.GrayAt(x, y).Y != cy.Cr[i] {
						t.Fatalf("%s %v: chroma differs at %d,%d", name, sc, x, y)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no 4:2:0 fixture was decoded")
	}
	t.Logf("%d decodes compared", checked)
}
