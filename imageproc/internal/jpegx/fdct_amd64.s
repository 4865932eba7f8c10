#include "textflag.h"

// fdctConsts offsets (fdct_amd64.go): eight copies of each value.
#define C128 0(DX)
#define C707 32(DX)
#define C382 64(DX)
#define C541 96(DX)
#define C1306 128(DX)
#define CSIGN 160(DX)
#define CHALF 192(DX)
#define CMAX 224(DX)
#define CMIN 256(DX)

// FDCT1 is fdct1 on eight vectors Y0..Y7 (the eight points, one
// transform per lane), leaving the outputs in Y0..Y7, with the same
// operations in the same order (float32, no fused multiply-add).
#define FDCT1 \
	VADDPS Y7, Y0, Y8 \
	VSUBPS Y7, Y0, Y7 \
	VADDPS Y6, Y1, Y9 \
	VSUBPS Y6, Y1, Y6 \
	VADDPS Y5, Y2, Y10 \
	VSUBPS Y5, Y2, Y5 \
	VADDPS Y4, Y3, Y11 \
	VSUBPS Y4, Y3, Y4 \
	VADDPS Y11, Y8, Y0 \
	VSUBPS Y11, Y8, Y3 \
	VADDPS Y10, Y9, Y1 \
	VSUBPS Y10, Y9, Y2 \
	VADDPS Y1, Y0, Y8 \
	VSUBPS Y1, Y0, Y9 \
	VADDPS Y3, Y2, Y2 \
	VMULPS C707, Y2, Y2 \
	VADDPS Y2, Y3, Y10 \
	VSUBPS Y2, Y3, Y11 \
	VADDPS Y5, Y4, Y0 \
	VADDPS Y6, Y5, Y1 \
	VADDPS Y7, Y6, Y2 \
	VSUBPS Y2, Y0, Y3 \
	VMULPS C382, Y3, Y3 \
	VMULPS C541, Y0, Y0 \
	VADDPS Y3, Y0, Y0 \
	VMULPS C1306, Y2, Y2 \
	VADDPS Y3, Y2, Y2 \
	VMULPS C707, Y1, Y1 \
	VADDPS Y1, Y7, Y3 \
	VSUBPS Y1, Y7, Y7 \
	VADDPS Y0, Y7, Y5 \
	VSUBPS Y0, Y7, Y12 \
	VADDPS Y2, Y3, Y1 \
	VSUBPS Y2, Y3, Y7 \
	VMOVAPS Y8, Y0 \
	VMOVAPS Y9, Y4 \
	VMOVAPS Y10, Y2 \
	VMOVAPS Y11, Y6 \
	VMOVAPS Y12, Y3

// QUANT rounds Yr * div row r half away from zero into int32, clamped
// to +-1023, as quantise does.
#define QUANT(r, off) \
	VMULPS off(BX), r, r \
	VANDPS CSIGN, r, Y8 \
	VORPS CHALF, Y8, Y8 \
	VADDPS Y8, r, r \
	VCVTTPS2DQ r, r \
	VPMINSD CMAX, r, r \
	VPMAXSD CMIN, r, r

// func fdctQuantAVX2(src *[64]uint8, div *[64]float32, out *[64]int16, k *fdctConsts) uint64
//
// The forward DCT and quantisation of one block of samples: the row pass
// runs on the columns (eight rows at once, after a byte transpose), the
// column pass on the rows (after a float transpose). out is in natural
// order; the result has bit i set where out[i] is not zero.
TEXT ·fdctQuantAVX2(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ div+8(FP), BX
	MOVQ out+16(FP), DI
	MOVQ k+24(FP), DX

	// columns of the 8x8 bytes
	VMOVDQU 0(SI), X0  // rows 0, 1
	VMOVDQU 16(SI), X1 // rows 2, 3
	VMOVDQU 32(SI), X2 // rows 4, 5
	VMOVDQU 48(SI), X3 // rows 6, 7
	VPSRLDQ $8, X0, X4
	VPSRLDQ $8, X1, X5
	VPSRLDQ $8, X2, X6
	VPSRLDQ $8, X3, X7
	VPUNPCKLBW X4, X0, X8  // rows 0,1 interleaved
	VPUNPCKLBW X5, X1, X9  // rows 2,3
	VPUNPCKLBW X6, X2, X10 // rows 4,5
	VPUNPCKLBW X7, X3, X11 // rows 6,7
	VPUNPCKLWD X9, X8, X0  // columns 0-3 of rows 0-3
	VPUNPCKHWD X9, X8, X1  // columns 4-7 of rows 0-3
	VPUNPCKLWD X11, X10, X2 // columns 0-3 of rows 4-7
	VPUNPCKHWD X11, X10, X3 // columns 4-7 of rows 4-7
	VPUNPCKLDQ X2, X0, X8   // columns 0, 1
	VPUNPCKHDQ X2, X0, X9   // columns 2, 3
	VPUNPCKLDQ X3, X1, X10  // columns 4, 5
	VPUNPCKHDQ X3, X1, X11  // columns 6, 7
	VPMOVZXBD X8, Y0
	VPSRLDQ $8, X8, X8
	VPMOVZXBD X8, Y1
	VPMOVZXBD X9, Y2
	VPSRLDQ $8, X9, X9
	VPMOVZXBD X9, Y3
	VPMOVZXBD X10, Y4
	VPSRLDQ $8, X10, X10
	VPMOVZXBD X10, Y5
	VPMOVZXBD X11, Y6
	VPSRLDQ $8, X11, X11
	VPMOVZXBD X11, Y7
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VSUBPS C128, Y0, Y0
	VSUBPS C128, Y1, Y1
	VSUBPS C128, Y2, Y2
	VSUBPS C128, Y3, Y3
	VSUBPS C128, Y4, Y4
	VSUBPS C128, Y5, Y5
	VSUBPS C128, Y6, Y6
	VSUBPS C128, Y7, Y7

	FDCT1 // the row pass: Yk lane r is row r's output k

	// transpose: Yr lane k
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	VMOVAPS Y8, Y0
	VMOVAPS Y9, Y1
	VMOVAPS Y10, Y2
	VMOVAPS Y11, Y3
	VMOVAPS Y12, Y4
	VMOVAPS Y13, Y5
	VMOVAPS Y14, Y6
	VMOVAPS Y15, Y7

	FDCT1 // the column pass: Yu lane k is coefficient (u, k)

	QUANT(Y0, 0)
	QUANT(Y1, 32)
	QUANT(Y2, 64)
	QUANT(Y3, 96)
	QUANT(Y4, 128)
	QUANT(Y5, 160)
	QUANT(Y6, 192)
	QUANT(Y7, 224)

	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSDW Y5, Y4, Y4
	VPACKSSDW Y7, Y6, Y6
	VPERMQ $0xD8, Y0, Y0 // rows 0, 1
	VPERMQ $0xD8, Y2, Y2 // rows 2, 3
	VPERMQ $0xD8, Y4, Y4 // rows 4, 5
	VPERMQ $0xD8, Y6, Y6 // rows 6, 7
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y4, 64(DI)
	VMOVDQU Y6, 96(DI)

	// the non-zero mask
	VPXOR Y9, Y9, Y9
	VPCMPEQW Y9, Y0, Y0
	VPCMPEQW Y9, Y2, Y2
	VPCMPEQW Y9, Y4, Y4
	VPCMPEQW Y9, Y6, Y6
	VPACKSSWB Y2, Y0, Y0
	VPACKSSWB Y6, Y4, Y4
	VPERMQ $0xD8, Y0, Y0
	VPERMQ $0xD8, Y4, Y4
	VPMOVMSKB Y0, AX
	VPMOVMSKB Y4, CX
	SHLQ $32, CX
	ORQ  CX, AX
	NOTQ AX
	MOVQ AX, ret+32(FP)
	VZEROUPPER
	RET
