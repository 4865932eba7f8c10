#!/usr/bin/env bash
# Rebuilds the small real-photo fixtures in testdata/ from Debian packages
# (see testdata/README.md for sources and licences). Needs root for apt-get.
#   bash scripts/make-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-${TMPDIR:-/tmp}/picbed-fixtures}
OUT=testdata
IM=/usr/bin/convert   # the real ImageMagick (a stand-in may shadow 'convert' in PATH)
command -v exiftool >/dev/null && [ -x $IM ] || apt-get install -y --no-install-recommends libimage-exiftool-perl imagemagick
mkdir -p "$WORK"
cd "$WORK"
for p in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 desktop-base; do
  ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
  [ -d "ex/$p" ] || { mkdir -p "ex/$p"; dpkg-deb -x ${p}_*.deb "ex/$p"; }
done
cd - >/dev/null
L16=$WORK/ex/lomiri-wallpapers-16.04/usr/share/backgrounds
L20=$WORK/ex/lomiri-wallpapers-20.04/usr/share/backgrounds
LOGO=$WORK/ex/desktop-base/usr/share/desktop-base/debian-logos/logo-text-version-256.png

phone_exif() { # file orientation
  exiftool -q -overwrite_original -Make=Apple -Model="iPhone 13" -Software=17.5.1 \
    -Orientation#="$2" -DateTimeOriginal="2024:06:15 14:23:11" -LensModel="iPhone 13 back dual wide camera" \
    -GPSLatitude=48.858370 -GPSLatitudeRef=N -GPSLongitude=2.294481 -GPSLongitudeRef=E -GPSAltitude=35.2 \
    -XMP-xmp:CreatorTool=17.5.1 -Comment="taken at home" "$1"
}
# phone.jpg: a landscape phone-like photo, 1600x1200, EXIF with GPS.
$IM "$L16/Bridge_by_Sander_Klootwijk.jpg" -auto-orient -colorspace sRGB -gravity center -crop 4:3 +repage \
    -filter Lanczos -resize '1600x1200!' -strip -sampling-factor 2x2,1x1,1x1 -quality 88 $OUT/phone.jpg
phone_exif $OUT/phone.jpg 1
# portrait6.jpg: a portrait photo stored sideways (1200x900) with Orientation 6, as phones do.
$IM "$L16/Wine_by_Jakkub_Mede.jpg" -auto-orient -colorspace sRGB -gravity center -crop 3:4 +repage \
    -filter Lanczos -resize '900x1200!' -rotate -90 -strip -sampling-factor 2x2,1x1,1x1 -quality 85 $OUT/portrait6.jpg
phone_exif $OUT/portrait6.jpg 6
# logo.png: the Debian logo, RGBA with real transparency (a watermark and an alpha source).
$IM "$LOGO" -filter Lanczos -resize 288x PNG32:$OUT/logo.png
# animated.gif: three frames cut from a photo.
$IM "$L16/Dragonfly_by_Bolly.jpg" -resize 160x120^ -gravity center -extent 160x120 \
    \( +clone -rotate 90 -resize 160x120! \) \( +clone -flop \) -set delay 20 -loop 0 -colors 64 $OUT/animated.gif

# --- imageproc fixtures (issue 3) ---------------------------------------
# Also needs: libheif-examples (heif-enc), libavif-bin (avifenc), webp (cwebp, gif2webp, webpmux).
for t in heif-enc:libheif-examples avifenc:libavif-bin cwebp:webp; do
  command -v ${t%%:*} >/dev/null || apt-get install -y --no-install-recommends ${t#*:}
done
T=$WORK/tmp; mkdir -p $T
# orientation_N.jpg: a 96x64 upright picture (photo + red block in the top-left
# corner) stored with the inverse of transform N and EXIF Orientation N, so
# every file displays the same upright picture.
$IM "$L16/Dragonfly_by_Bolly.jpg" -resize 96x64^ -gravity center -extent 96x64 +repage \
    -fill red -draw 'rectangle 0,0 23,15' -strip $T/upright.png
inv=(x "" "-flop" "-rotate 180" "-flip" "-transpose" "-rotate -90" "-transverse" "-rotate 90")
for n in 1 2 3 4 5 6 7 8; do
  $IM $T/upright.png ${inv[$n]} -sampling-factor 1x1 -quality 95 $OUT/orientation_$n.jpg
  phone_exif $OUT/orientation_$n.jpg $n
done
# icc.jpg / icc.png: a picture carrying an ICC profile (sRGB-elle-V2-srgbtrc)
# plus GPS/camera metadata; the profile must survive, the rest must not.
$IM "$L20/Painting-Colors_by__herobrine7gamer.jpg" -resize 320x240^ -gravity center -extent 320x240 +repage \
    -quality 85 $OUT/icc.jpg
phone_exif $OUT/icc.jpg 1
$IM $OUT/icc.jpg -resize 160x120 $OUT/icc.png
exiftool -q -overwrite_original -GPSLatitude=48.858370 -GPSLatitudeRef=N -Make=Apple -Comment="taken at home" $OUT/icc.png
# phone.heic / phone.avif: small phone-format photos (decode in pure Go, become JPEG).
$IM $OUT/phone.jpg -resize 320x240 $T/small.png
heif-enc --quality 60 -o $OUT/phone.heic $T/small.png
avifenc --min 20 --max 30 -s 8 $T/small.png $OUT/phone.avif >/dev/null
# grid.heic / grid-irot.heic: iPhone-style grids of 512x512 HEVC tiles (edge tiles
# cropped by the grid), the second turned by irot (a portrait): tools/heicgrid.
$IM $OUT/phone.jpg -resize 700x600! -quality 95 $T/grid.jpg
$IM $OUT/phone.jpg -resize 601x530! -quality 95 $T/grid-irot.jpg
go run ./tools/heicgrid -q 50 $T/grid.jpg $OUT/grid.heic
go run ./tools/heicgrid -q 50 -irot 1 $T/grid-irot.jpg $OUT/grid-irot.heic
# phone.webp: lossy WebP with EXIF (GPS) and XMP chunks; animated.webp from animated.gif.
$IM $OUT/phone.jpg -resize 320x240 -quality 90 $T/small.jpg
phone_exif $T/small.jpg 1
cwebp -quiet -q 70 -metadata all $T/small.jpg -o $OUT/phone.webp
gif2webp -quiet $OUT/animated.gif -o $T/anim.webp
exiftool -q -o $T/exif.exif $T/small.jpg 2>/dev/null || exiftool -q -tagsfromfile $T/small.jpg -all:all -o $T/exif.exif
webpmux -set exif $T/exif.exif $T/anim.webp -o $OUT/animated.webp
# progressive.jpg: a progressive JPEG (several scans) with EXIF, Orientation 8.
$IM $OUT/phone.jpg -resize 320x240 -interlace JPEG -quality 80 $OUT/progressive.jpg
phone_exif $OUT/progressive.jpg 8
# animated-meta.gif: animated.gif plus a comment extension (metadata to strip).
$IM $OUT/animated.gif -set comment "taken at home" $OUT/animated-meta.gif
ls -l $OUT
# lying-ispe.heic / lying-ispe.avif (issue 12): an 8000x7000 picture whose
# ispe properties are rewritten to 100x100; the bitstream still says 8000x7000.
$IM -size 8000x7000 gradient:gray20-gray80 -depth 8 $T/big.png
heif-enc --quality 1 -o $T/big.heic $T/big.png
avifenc -s 10 --min 63 --max 63 $T/big.png $T/big.avif >/dev/null
for f in heic avif; do
  python3 -c 'import sys,struct
b=bytearray(open(sys.argv[1],"rb").read()); i=b.find(b"ispe")
while i>=0: b[i+8:i+16]=struct.pack(">II",100,100); i=b.find(b"ispe",i+4)
open(sys.argv[2],"wb").write(b)' $T/big.$f $OUT/lying-ispe.$f
done
