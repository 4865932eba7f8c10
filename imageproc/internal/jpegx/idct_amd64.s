#include "textflag.h"

// TRANSPOSE8 transposes the 8x8 int32 matrix in Y0..Y7 (one row per
// register) in place, through Y8..Y15.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xEE, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xEE, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xEE, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xEE, Y15, Y13, Y7 \
	VPERM2I128 $0x20, Y4, Y0, Y8 \
	VPERM2I128 $0x20, Y5, Y1, Y9 \
	VPERM2I128 $0x20, Y6, Y2, Y10 \
	VPERM2I128 $0x20, Y7, Y3, Y11 \
	VPERM2I128 $0x31, Y4, Y0, Y12 \
	VPERM2I128 $0x31, Y5, Y1, Y13 \
	VPERM2I128 $0x31, Y6, Y2, Y14 \
	VPERM2I128 $0x31, Y7, Y3, Y15 \
	VMOVDQA Y8, Y0 \
	VMOVDQA Y9, Y1 \
	VMOVDQA Y10, Y2 \
	VMOVDQA Y11, Y3 \
	VMOVDQA Y12, Y4 \
	VMOVDQA Y13, Y5 \
	VMOVDQA Y14, Y6 \
	VMOVDQA Y15, Y7

// ODD sums c0*Y1 + c1*Y3 + c2*Y5 + c3*Y7 (constants at those offsets of
// DX) into acc, through tmp: one odd output of idct8's butterfly.
#define ODD(c0, c1, c2, c3, acc, tmp) \
	VPMULLD c0(DX), Y1, acc \
	VPMULLD c1(DX), Y3, tmp \
	VPADDD tmp, acc, acc \
	VPMULLD c2(DX), Y5, tmp \
	VPADDD tmp, acc, acc \
	VPMULLD c3(DX), Y7, tmp \
	VPADDD tmp, acc, acc

// PASS is one pass of idct8's butterfly on eight vectors Y0..Y7 (the
// eight inputs, one transform per lane), plus the constant at add, shifted
// right by shift: outputs 0..7 in Y9 Y11 Y13 Y15 Y14 Y12 Y10 Y8.
#define PASS(add, shift) \
	VPADDD Y4, Y0, Y8 \
	VPSUBD Y4, Y0, Y9 \
	VPMULLD 0(DX), Y8, Y8 \
	VPMULLD 0(DX), Y9, Y9 \
	VPMULLD 32(DX), Y2, Y10 \
	VPMULLD 64(DX), Y6, Y11 \
	VPADDD Y11, Y10, Y10 \
	VPMULLD 64(DX), Y2, Y11 \
	VPMULLD 32(DX), Y6, Y12 \
	VPSUBD Y12, Y11, Y11 \
	VMOVDQU add(DX), Y12 \
	VPADDD Y10, Y8, Y0 \
	VPADDD Y12, Y0, Y0 \
	VPSUBD Y10, Y8, Y6 \
	VPADDD Y12, Y6, Y6 \
	VPADDD Y11, Y9, Y2 \
	VPADDD Y12, Y2, Y2 \
	VPSUBD Y11, Y9, Y4 \
	VPADDD Y12, Y4, Y4 \
	ODD(96, 128, 160, 192, Y8, Y9) \
	ODD(224, 256, 288, 320, Y10, Y11) \
	ODD(352, 384, 416, 448, Y12, Y13) \
	ODD(544, 576, 608, 640, Y14, Y15) \
	VPADDD Y8, Y0, Y9 \
	VPSUBD Y8, Y0, Y8 \
	VPADDD Y10, Y2, Y11 \
	VPSUBD Y10, Y2, Y10 \
	VPADDD Y12, Y4, Y13 \
	VPSUBD Y12, Y4, Y12 \
	VPADDD Y14, Y6, Y15 \
	VPSUBD Y14, Y6, Y14 \
	VPSRAD $shift, Y9, Y9 \
	VPSRAD $shift, Y8, Y8 \
	VPSRAD $shift, Y11, Y11 \
	VPSRAD $shift, Y10, Y10 \
	VPSRAD $shift, Y13, Y13 \
	VPSRAD $shift, Y12, Y12 \
	VPSRAD $shift, Y15, Y15 \
	VPSRAD $shift, Y14, Y14

// func idct8AVX2(blk *[64]int32, dst *uint8, stride int, k *idctConsts)
//
// idct8 with AVX2, to the same bits: the row pass runs idct8's butterfly
// on the columns of blk (eight rows at once, one per lane), the column
// pass on the rows of its transposed result (eight columns at once).
TEXT ·idct8AVX2(SB), NOSPLIT, $0-32
	MOVQ blk+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), R8
	MOVQ k+24(FP), DX
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7
	TRANSPOSE8 // Yu lane v: coefficient u of row v
	PASS(480, 10)
	VMOVDQA Y9, Y0
	VMOVDQA Y11, Y1
	VMOVDQA Y13, Y2
	VMOVDQA Y15, Y3
	VMOVDQA Y14, Y4
	VMOVDQA Y12, Y5
	VMOVDQA Y10, Y6
	VMOVDQA Y8, Y7
	TRANSPOSE8 // Yv lane x: the row pass's output x of row v
	PASS(512, 14)
	// clamp to bytes: rows 0-3 and 4-7, one row per quadword
	VPACKSSDW Y11, Y9, Y9
	VPACKSSDW Y15, Y13, Y13
	VPACKSSDW Y12, Y14, Y14
	VPACKSSDW Y8, Y10, Y10
	VPACKUSWB Y13, Y9, Y9
	VPACKUSWB Y10, Y14, Y14
	VMOVDQU 672(DX), Y0 // 0 4 1 5 2 6 3 7
	VPERMD Y9, Y0, Y9
	VPERMD Y14, Y0, Y14

	LEAQ (R8)(R8*2), AX
	VMOVQ X9, (DI)
	VPEXTRQ $1, X9, (DI)(R8*1)
	VEXTRACTI128 $1, Y9, X9
	VMOVQ X9, (DI)(R8*2)
	VPEXTRQ $1, X9, (DI)(AX*1)
	LEAQ (DI)(R8*4), DI
	VMOVQ X14, (DI)
	VPEXTRQ $1, X14, (DI)(R8*1)
	VEXTRACTI128 $1, Y14, X14
	VMOVQ X14, (DI)(R8*2)
	VPEXTRQ $1, X14, (DI)(AX*1)
	VZEROUPPER
	RET

// TRANSPOSE4 transposes the 4x4 int32 matrix in X0..X3 in place.
#define TRANSPOSE4 \
	VUNPCKLPS X1, X0, X4 \
	VUNPCKHPS X1, X0, X5 \
	VUNPCKLPS X3, X2, X6 \
	VUNPCKHPS X3, X2, X7 \
	VUNPCKLPD X6, X4, X0 \
	VUNPCKHPD X6, X4, X1 \
	VUNPCKLPD X7, X5, X2 \
	VUNPCKHPD X7, X5, X3

// PASS4 is one pass of idct4's butterfly on X0..X3 (one transform per
// lane), plus the constant at add, shifted right by shift: outputs 0..3 in
// X0..X3.
#define PASS4(add, shift) \
	VPADDD X2, X0, X4 \
	VPSUBD X2, X0, X5 \
	VPMULLD 0(DX), X4, X4 \
	VPMULLD 0(DX), X5, X5 \
	VPMULLD 32(DX), X1, X6 \
	VPMULLD 64(DX), X3, X7 \
	VPADDD X7, X6, X6 \
	VPMULLD 64(DX), X1, X7 \
	VPMULLD 32(DX), X3, X8 \
	VPSUBD X8, X7, X7 \
	VMOVDQU add(DX), X8 \
	VPADDD X8, X4, X4 \
	VPADDD X8, X5, X5 \
	VPADDD X6, X4, X0 \
	VPSUBD X6, X4, X3 \
	VPADDD X7, X5, X1 \
	VPSUBD X7, X5, X2 \
	VPSRAD $shift, X0, X0 \
	VPSRAD $shift, X1, X1 \
	VPSRAD $shift, X2, X2 \
	VPSRAD $shift, X3, X3

// func idct4AVX2(blk *[64]int32, dst *uint8, stride int, k *idctConsts)
//
// idct4 (the 4x4 corner of blk, to a 4x4 block) the same way as
// idct8AVX2, four lanes wide.
TEXT ·idct4AVX2(SB), NOSPLIT, $0-32
	MOVQ blk+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), R8
	MOVQ k+24(FP), DX
	VMOVDQU 0(SI), X0
	VMOVDQU 32(SI), X1
	VMOVDQU 64(SI), X2
	VMOVDQU 96(SI), X3
	TRANSPOSE4
	PASS4(480, 10)
	TRANSPOSE4
	PASS4(512, 14)
	VPACKSSDW X1, X0, X0
	VPACKSSDW X3, X2, X2
	VPACKUSWB X2, X0, X0
	LEAQ (R8)(R8*2), AX
	VMOVD X0, (DI)
	VPEXTRD $1, X0, (DI)(R8*1)
	VPEXTRD $2, X0, (DI)(R8*2)
	VPEXTRD $3, X0, (DI)(AX*1)
	RET
