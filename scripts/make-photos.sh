#!/usr/bin/env bash
# make-photos.sh builds picbed's benchmark photo set (bench/photos/, git-ignored)
# from real photos shipped in Debian packages, so `make bench` measures the
# pipeline on phone-sized JPEGs rather than on synthetic noise.
#
#   std/pNN.jpg    10 x 4032x3024 JPEG q92 4:2:0 "phone photos": p01-p08 landscape,
#                  p09-p10 portrait stored sideways (EXIF Orientation 6); 8 of 10
#                  carry a phone-like EXIF block (camera, GPS, thumbnail) + XMP.
#   light/lNN.jpg  10 x 1600x1200 JPEG q90 4:2:0, 5 of them with EXIF+GPS.
#   heic/hNN.heic  3 x 12 MP iPhone-style HEIC grids (one a portrait with irot),
#                  h48.heic one 48 MP grid (see below).
#   logo.png       the Debian logo (desktop-base), 288 px wide, RGBA.
#   ref/pNN.png    the reference for quality metrics: the oriented source fitted
#                  into 1920x1920 with ImageMagick's Lanczos filter, lossless.
#
# Sources and licences (see usr/share/doc/<pkg>/copyright inside each .deb):
#   lomiri-wallpapers-16.04, lomiri-wallpapers-20.04 (CC-BY-4.0, CC-BY-SA-4.0,
#   CC0-1.0, CC-BY-SA-3.0), plasma-workspace-wallpapers (LGPL-3),
#   desktop-base (GPL) for the logo.
# Most sources are smaller than 12 MP: they are centre-cropped to the target
# aspect and resized with Lanczos, then re-encoded at the target quality.
#
# Usage: WORK=/tmp/picbed-photos OUT=bench/photos scripts/make-photos.sh
# Needs: apt-get (download only, no root needed when the .debs are in WORK),
# dpkg-deb, ImageMagick (/usr/bin/convert), exiftool, heif-enc (libheif-examples)
# and Go. A few minutes (the HEIC tiles are encoded one by one).
set -euo pipefail
WORK=${WORK:-${TMPDIR:-/tmp}/picbed-photos}
OUT=${OUT:-$(cd "$(dirname "$0")/.." && pwd)/bench/photos}
IM=/usr/bin/convert # the real ImageMagick; a stand-in may shadow `convert`
for tool in "$IM" exiftool dpkg-deb identify heif-enc; do
	command -v "$tool" >/dev/null || { echo "make-photos: $tool is missing (apt-get install imagemagick libimage-exiftool-perl libheif-examples)" >&2; exit 1; }
done

# ImageMagick's default policy refuses 12 MP work on some distributions.
export MAGICK_CONFIGURE_PATH=$WORK/magick
mkdir -p "$WORK/magick" "$WORK/ex" "$OUT/std" "$OUT/light" "$OUT/ref"
cat >"$WORK/magick/policy.xml" <<'EOF'
<policymap>
  <policy domain="resource" name="memory" value="4GiB"/>
  <policy domain="resource" name="map" value="8GiB"/>
  <policy domain="resource" name="area" value="1GP"/>
  <policy domain="resource" name="disk" value="16GiB"/>
</policymap>
EOF

# fetch and unpack the packages (only what is missing)
for p in lomiri-wallpapers-16.04 lomiri-wallpapers-20.04 plasma-workspace-wallpapers desktop-base; do
	if ! ls "$WORK/${p}"_*.deb >/dev/null 2>&1; then
		(cd "$WORK" && apt-get download "$p")
	fi
	[ -d "$WORK/ex/$p" ] || dpkg-deb -x "$(ls "$WORK/${p}"_*.deb | head -1)" "$WORK/ex/$p"
done
L16=$WORK/ex/lomiri-wallpapers-16.04/usr/share/backgrounds
L20=$WORK/ex/lomiri-wallpapers-20.04/usr/share/backgrounds
PW=$WORK/ex/plasma-workspace-wallpapers/usr/share/wallpapers

# photo SRC DST W H QUALITY [ROTATE]: centre-crop SRC to W:H, resize to WxH,
# rotate (a sideways-stored portrait), strip, baseline JPEG 4:2:0.
photo() {
	local src=$1 dst=$2 w=$3 h=$4 q=$5 rot=${6:-0} sw sh cw ch
	read -r sw sh < <(identify -format '%w %h\n' "$src")
	if ((sw * h > sh * w)); then ch=$sh; cw=$((sh * w / h)); else cw=$sw; ch=$((sw * h / w)); fi
	echo "$(basename "$dst"): $(basename "$src") ${sw}x${sh} -> crop ${cw}x${ch} -> ${w}x${h}"
	"$IM" "$src" -auto-orient -colorspace sRGB -gravity center -crop "${cw}x${ch}+0+0" +repage \
		-filter Lanczos -resize "${w}x${h}!" -rotate "$rot" -strip \
		-sampling-factor 2x2,1x1,1x1 -interlace none -quality "$q" "$dst"
}

# phone FILE ORIENTATION LAT LON ALT DATE: a phone-like EXIF block with GPS,
# an embedded thumbnail and XMP, as a 2024 iPhone writes it.
phone() {
	local f=$1 o=$2 lat=$3 lon=$4 alt=$5 d=$6 thumb
	thumb=$(mktemp --suffix=.jpg)
	"$IM" "$f" -thumbnail 160x120! -quality 80 "$thumb"
	exiftool -q -overwrite_original \
		-Make=Apple -Model="iPhone 13" -Software="17.5.1" -Orientation#="$o" \
		-XResolution=72 -YResolution=72 -ResolutionUnit=inches -YCbCrPositioning=Centered \
		-ModifyDate="$d" -DateTimeOriginal="$d" -CreateDate="$d" -OffsetTimeOriginal=+02:00 \
		-ExposureTime=1/120 -FNumber=1.6 -ISO=50 -FocalLength=5.1 -FocalLengthIn35mmFormat=26 \
		-ColorSpace=sRGB -ExifImageWidth=4032 -ExifImageHeight=3024 -LensMake=Apple \
		-LensModel="iPhone 13 back dual wide camera 5.1mm f/1.6" \
		-GPSLatitude="$lat" -GPSLatitudeRef="$lat" -GPSLongitude="$lon" -GPSLongitudeRef="$lon" \
		-GPSAltitude="$alt" -GPSAltitudeRef="Above Sea Level" -GPSImgDirection=187.5 -GPSImgDirectionRef=T \
		-GPSDateStamp="${d%% *}" -GPSTimeStamp="${d##* }" \
		-XMP-xmp:CreateDate="$d" -XMP-xmp:CreatorTool="17.5.1" \
		"-ThumbnailImage<=$thumb" "$f"
	rm -f "$thumb"
}

S=$OUT/std
photo "$L16/Dragonfly_by_Bolly.jpg" "$S/p01.jpg" 4032 3024 92
photo "$L16/sunset_by_Aitzol_Berasategi.jpg" "$S/p02.jpg" 4032 3024 92
photo "$L16/seeding_by_Clements_Engelhardt.jpg" "$S/p03.jpg" 4032 3024 92
photo "$L16/Bridge_by_Sander_Klootwijk.jpg" "$S/p04.jpg" 4032 3024 92
photo "$L20/Kleiber_by_Lukas_Baubkus.jpg" "$S/p05.jpg" 4032 3024 92
photo "$L16/picosdeeuropa_by_Aitzol_Berasategi.jpg" "$S/p06.jpg" 4032 3024 92
photo "$L16/life_by_Aitzol_Berasategi.jpg" "$S/p07.jpg" 4032 3024 92
photo "$L16/aitzgorri_by_Aitzol_Berasategi.jpg" "$S/p08.jpg" 4032 3024 92
# portraits: the upright 3024x4032 picture stored turned 90 degrees
# counter-clockwise, with Orientation 6 telling viewers to turn it back.
photo "$L16/Wine_by_Jakkub_Mede.jpg" "$S/p09.jpg" 3024 4032 92 -90
photo "$L16/friends_by_Aitzol_Berasategi.jpg" "$S/p10.jpg" 3024 4032 92 -90
phone "$S/p01.jpg" 1 48.858370 2.294481 35.2 "2024:06:15 14:23:11"
phone "$S/p02.jpg" 1 43.003410 -2.329800 1410.0 "2024:07:02 20:41:05"
phone "$S/p03.jpg" 1 52.520008 13.404954 41.8 "2024:05:11 09:12:44"
phone "$S/p04.jpg" 1 51.924419 4.477733 2.1 "2024:08:21 16:05:30"
phone "$S/p06.jpg" 1 43.196900 -4.818400 1802.5 "2024:09:03 11:47:19"
phone "$S/p07.jpg" 1 43.041000 -2.367000 512.0 "2024:04:27 18:30:02"
phone "$S/p09.jpg" 6 50.075538 14.437800 225.4 "2024:10:12 21:14:51"
phone "$S/p10.jpg" 6 43.318334 -1.981231 12.0 "2024:03:30 13:02:27"
# p05 and p08 carry no metadata at all (re-saved by an editor).

L=$OUT/light
i=0
for w in Path ColorfulCups EveningGlow FallenLeaf ColdRipple OneStandsOut BytheWater Kite summer_1am; do
	i=$((i + 1))
	photo "$PW/$w/contents/images/2560x1600.jpg" "$(printf '%s/l%02d.jpg' "$L" "$i")" 1600 1200 90
done
photo "$L16/greentock_by_Peter_Nerlich.jpg" "$L/l10.jpg" 1600 1200 90
for n in 01 03 05 07 09; do phone "$L/l$n.jpg" 1 45.4642 9.19 120.0 "2024:02:1${n:1} 10:00:00"; done

# heic/: iPhone-style HEICs (grids of 512x512 HEVC tiles, tools/heicgrid over
# heif-enc): h01-h02 landscape 4032x3024, h03 the sideways-stored portrait p09
# with irot (as an iPhone turns it), h48 a 48 MP 8064x6048 one (p01 enlarged).
H=$OUT/heic
mkdir -p "$H"
G="go run ./tools/heicgrid -q 60"
(cd "$(dirname "$0")/.." && $G "$S/p01.jpg" "$H/h01.heic" && $G "$S/p03.jpg" "$H/h02.heic" &&
	$G -irot 3 "$S/p09.jpg" "$H/h03.heic")
"$IM" "$S/p01.jpg" -filter Lanczos -resize 8064x6048! -quality 95 "$WORK/p48.jpg"
(cd "$(dirname "$0")/.." && $G "$WORK/p48.jpg" "$H/h48.heic")

# watermark logo: RGBA, 288 px wide (15 % of 1920)
"$IM" "$WORK/ex/desktop-base/usr/share/desktop-base/debian-logos/logo-text-version-256.png" \
	-filter Lanczos -resize 288x PNG32:"$OUT/logo.png"

# references: oriented source, Lanczos fit into 1920x1920, lossless PNG
for f in "$S"/p*.jpg; do
	"$IM" "$f" -auto-orient -colorspace sRGB -filter Lanczos -resize 1920x1920 -strip \
		PNG24:"$OUT/ref/$(basename "${f%.jpg}").png"
done
ls -l "$OUT" "$S" "$L" "$OUT/ref"
du -sh "$OUT"
