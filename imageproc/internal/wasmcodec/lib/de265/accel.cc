// accel.cc: libde265's inverse transforms in WebAssembly SIMD. libde265
// calls init_acceleration_functions_sse when built with HAVE_SSE4_1 (its
// x86/sse.cc would ask cpuid first); here it installs the 8-bit inverse
// DCTs of x86/sse-dct.cc, compiled through compat/emmintrin.h. The motion
// compensation functions are left out: a HEIF image is intra-coded.
#include "libde265/acceleration.h"
#include "x86/sse-dct.h"

void init_acceleration_functions_sse(struct acceleration_functions *accel) {
  accel->transform_4x4_dst_add_8 = ff_hevc_transform_4x4_luma_add_8_sse4;
  accel->transform_add_8[0] = ff_hevc_transform_4x4_add_8_sse4;
  accel->transform_add_8[1] = ff_hevc_transform_8x8_add_8_sse4;
  accel->transform_add_8[2] = ff_hevc_transform_16x16_add_8_sse4;
  accel->transform_add_8[3] = ff_hevc_transform_32x32_add_8_sse4;
}
