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
for p in lomiri-wallpapers-16.04 desktop-base; do
  ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
  [ -d "ex/$p" ] || { mkdir -p "ex/$p"; dpkg-deb -x ${p}_*.deb "ex/$p"; }
done
cd - >/dev/null
L16=$WORK/ex/lomiri-wallpapers-16.04/usr/share/backgrounds
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
ls -l $OUT
