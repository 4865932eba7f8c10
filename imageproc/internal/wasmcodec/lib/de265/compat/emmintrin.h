/* emmintrin.h for wasm32: the SSE2 intrinsics libde265's x86/sse-dct.cc
 * uses (its inverse transforms, OpenHEVC's), each as the WebAssembly SIMD
 * instruction with the same result, so that code compiles unchanged to
 * WebAssembly SIMD (-msimd128; wazero turns it back into SSE). Only what
 * sse-dct.cc's 8-bit functions need; anything else fails to compile. */
#ifndef PICBED_WASM_EMMINTRIN_H
#define PICBED_WASM_EMMINTRIN_H

#include <stdint.h>
#include <string.h>
#include <wasm_simd128.h>

typedef v128_t __m128i;

#define SSE2WASM static inline __attribute__((always_inline))

SSE2WASM __m128i _mm_load_si128(const __m128i *p) { return wasm_v128_load(p); }
SSE2WASM __m128i _mm_loadu_si128(const __m128i *p) { return wasm_v128_load(p); }
SSE2WASM __m128i _mm_loadl_epi64(const __m128i *p) { return wasm_v128_load64_zero(p); }
SSE2WASM void _mm_store_si128(__m128i *p, __m128i a) { wasm_v128_store(p, a); }
SSE2WASM void _mm_storeu_si128(__m128i *p, __m128i a) { wasm_v128_store(p, a); }
SSE2WASM void _mm_storel_epi64(__m128i *p, __m128i a) {
  int64_t v = wasm_i64x2_extract_lane(a, 0);
  memcpy(p, &v, 8);
}

SSE2WASM __m128i _mm_setzero_si128(void) { return wasm_i64x2_const(0, 0); }
SSE2WASM __m128i _mm_set1_epi32(int a) { return wasm_i32x4_splat(a); }
SSE2WASM __m128i _mm_set1_epi16(short a) { return wasm_i16x8_splat(a); }
/* _mm_set_epi32 lists the lanes from the highest */
SSE2WASM __m128i _mm_set_epi32(int e3, int e2, int e1, int e0) { return wasm_i32x4_make(e0, e1, e2, e3); }
SSE2WASM int _mm_cvtsi128_si32(__m128i a) { return wasm_i32x4_extract_lane(a, 0); }

SSE2WASM __m128i _mm_add_epi32(__m128i a, __m128i b) { return wasm_i32x4_add(a, b); }
SSE2WASM __m128i _mm_sub_epi32(__m128i a, __m128i b) { return wasm_i32x4_sub(a, b); }
SSE2WASM __m128i _mm_adds_epi16(__m128i a, __m128i b) { return wasm_i16x8_add_sat(a, b); }
/* pmaddwd: products of signed 16-bit pairs, adjacent ones summed to 32 bits */
SSE2WASM __m128i _mm_madd_epi16(__m128i a, __m128i b) { return wasm_i32x4_dot_i16x8(a, b); }
SSE2WASM __m128i _mm_srai_epi32(__m128i a, int n) { return wasm_i32x4_shr(a, n); }
SSE2WASM __m128i _mm_srai_epi16(__m128i a, int n) { return wasm_i16x8_shr(a, n); }

/* signed saturation to 16 bits; signed 16 to unsigned 8 bits */
SSE2WASM __m128i _mm_packs_epi32(__m128i a, __m128i b) { return wasm_i16x8_narrow_i32x4(a, b); }
SSE2WASM __m128i _mm_packus_epi16(__m128i a, __m128i b) { return wasm_u8x16_narrow_i16x8(a, b); }

SSE2WASM __m128i _mm_unpacklo_epi8(__m128i a, __m128i b) {
  return wasm_i8x16_shuffle(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}
SSE2WASM __m128i _mm_unpackhi_epi8(__m128i a, __m128i b) {
  return wasm_i8x16_shuffle(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}
SSE2WASM __m128i _mm_unpacklo_epi16(__m128i a, __m128i b) { return wasm_i16x8_shuffle(a, b, 0, 8, 1, 9, 2, 10, 3, 11); }
SSE2WASM __m128i _mm_unpackhi_epi16(__m128i a, __m128i b) { return wasm_i16x8_shuffle(a, b, 4, 12, 5, 13, 6, 14, 7, 15); }
SSE2WASM __m128i _mm_unpacklo_epi32(__m128i a, __m128i b) { return wasm_i32x4_shuffle(a, b, 0, 4, 1, 5); }
SSE2WASM __m128i _mm_unpackhi_epi32(__m128i a, __m128i b) { return wasm_i32x4_shuffle(a, b, 2, 6, 3, 7); }
SSE2WASM __m128i _mm_unpacklo_epi64(__m128i a, __m128i b) { return wasm_i64x2_shuffle(a, b, 0, 2); }
SSE2WASM __m128i _mm_unpackhi_epi64(__m128i a, __m128i b) { return wasm_i64x2_shuffle(a, b, 1, 3); }
/* the low 64 bits, the high ones zero */
SSE2WASM __m128i _mm_move_epi64(__m128i a) { return wasm_i64x2_shuffle(a, wasm_i64x2_const(0, 0), 0, 2); }

/* byte shift right by a constant: sse-dct.cc shifts by 4 and 8; any other
 * shift is left undefined, so the link fails */
__m128i _mm_srli_si128_unsupported_shift(void);
#define _mm_srli_si128(a, n) \
  ((n) == 4 ? wasm_i8x16_shuffle((a), wasm_i64x2_const(0, 0), 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 16, 16, 16) \
            : (n) == 8 ? wasm_i64x2_shuffle((a), wasm_i64x2_const(0, 0), 1, 2) \
                       : _mm_srli_si128_unsupported_shift())

#endif
