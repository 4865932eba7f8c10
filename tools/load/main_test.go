package main

import (
	"bytes"
	"image/jpeg"
	"os"
	"testing"
)

// TestUniqueKeepsThePicture: the comment segment makes new bytes (so no
// upload is deduplicated) of the same decodable picture.
func TestUniqueKeepsThePicture(t *testing.T) {
	src, err := os.ReadFile("../../testdata/phone.jpg")
	if err != nil {
		t.Fatal(err)
	}
	a, b := unique(src, "load 0/1"), unique(src, "load 0/2")
	if bytes.Equal(a, b) || bytes.Equal(a, src) {
		t.Fatal("unique made identical bytes")
	}
	want, _ := jpeg.DecodeConfig(bytes.NewReader(src))
	for _, u := range [][]byte{a, b} {
		got, err := jpeg.Decode(bytes.NewReader(u))
		if err != nil || got.Bounds().Dx() != want.Width || got.Bounds().Dy() != want.Height {
			t.Errorf("unique copy decodes to %v, %v; want %dx%d", got.Bounds(), err, want.Width, want.Height)
		}
	}
}
