/* tile.c: picbed's interface to libde265 in WebAssembly. One HEVC picture
 * (a HEIF item, or one tile of a grid) in, its planes out; no container, no
 * colour conversion, no threads. The caller owns the input and reads the
 * planes straight out of this module's memory.
 *
 * Exports: malloc, free, and
 *
 *   int decode(const uint8_t *nals, uint32_t n, uint32_t *out)
 *
 * nals is the picture's NAL units (parameter sets first), each preceded by
 * its length as 4 bytes big-endian. On success decode returns 1 and fills
 * out[0..8]: width, height, chroma (0 mono, 1 4:2:0, 2 4:2:2, 3 4:4:4), bit
 * depth of luma, bit depth of chroma, then the Y, Cb, Cr plane addresses and
 * the luma and chroma strides (bytes) are at out[5..9] (10 words in all).
 * The planes stay valid until the next call. It returns 0 when libde265
 * refuses the data or decodes no picture. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libde265/de265.h"

static de265_decoder_context *ctx;
static int inited;

__attribute__((export_name("decode")))
int decode(const uint8_t *nals, uint32_t n, uint32_t *out) {
  if (!inited) {
    if (de265_init() != DE265_OK)
      return 0;
    inited = 1;
  }
  if (ctx) {
    de265_free_decoder(ctx);
    ctx = NULL;
  }
  ctx = de265_new_decoder();
  if (!ctx)
    return 0;

  for (uint32_t i = 0; i < n;) {
    if (n - i < 4)
      return 0;
    uint32_t len = (uint32_t)nals[i] << 24 | (uint32_t)nals[i + 1] << 16 | (uint32_t)nals[i + 2] << 8 | nals[i + 3];
    i += 4;
    if (len > n - i)
      return 0;
    if (de265_push_NAL(ctx, nals + i, (int)len, 0, NULL) != DE265_OK)
      return 0;
    i += len;
  }
  if (de265_flush_data(ctx) != DE265_OK)
    return 0;

  const struct de265_image *img = NULL;
  for (;;) {
    int more = 0;
    de265_error err = de265_decode(ctx, &more);
    if (err != DE265_OK && err != DE265_ERROR_WAITING_FOR_INPUT_DATA && !de265_isOK(err))
      return 0;
    if (!img)
      img = de265_get_next_picture(ctx);
    if (!more)
      break;
  }
  if (!img)
    img = de265_get_next_picture(ctx);
  if (!img)
    return 0;

  int ys = 0, cs = 0;
  const uint8_t *y = de265_get_image_plane(img, 0, &ys);
  out[0] = (uint32_t)de265_get_image_width(img, 0);
  out[1] = (uint32_t)de265_get_image_height(img, 0);
  out[2] = (uint32_t)de265_get_chroma_format(img);
  out[3] = (uint32_t)de265_get_bits_per_pixel(img, 0);
  out[4] = out[2] == de265_chroma_mono ? out[3] : (uint32_t)de265_get_bits_per_pixel(img, 1);
  out[5] = (uint32_t)(uintptr_t)y;
  out[6] = 0;
  out[7] = 0;
  out[8] = (uint32_t)ys;
  out[9] = 0;
  if (out[2] != de265_chroma_mono) {
    out[6] = (uint32_t)(uintptr_t)de265_get_image_plane(img, 1, &cs);
    out[7] = (uint32_t)(uintptr_t)de265_get_image_plane(img, 2, &cs);
    out[9] = (uint32_t)cs;
  }
  return y != NULL;
}
