#include "textflag.h"

// func idct8AVX2(blk *[64]int32, dst *uint8, stride int, k *idctConsts)
//
// idct8 with AVX2, to the same bits: the row pass multiplies each row's
// coefficients by the columns of the matrix idct8's butterfly amounts to
// (integer products and sums are exact, so the order does not matter),
// leaving each row's eight results in one register; the column pass runs
// idct8's butterfly on those rows, all eight columns at once. The row
// pass writes its results over blk.
TEXT ·idct8AVX2(SB), NOSPLIT, $0-32
	MOVQ blk+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ stride+16(FP), R8
	MOVQ k+24(FP), DX
	VMOVDQU 736(DX), Y15 // row rounding
	VPXOR Y14, Y14, Y14
	MOVQ $8, CX

row:
	VMOVDQU (SI), Y0
	VPCMPEQD Y14, Y0, Y1
	VMOVMSKPS Y1, AX
	XORL $0xFF, AX // the row's non-zero coefficients
	JZ   rowzero
	BSRL AX, BX // the last one
	MOVQ DX, R9
	VPXOR Y2, Y2, Y2
	XORQ R10, R10

rowterm:
	VPBROADCASTD (SI)(R10*4), Y3
	VPMULLD (R9), Y3, Y3
	VPADDD Y3, Y2, Y2
	ADDQ $32, R9
	INCQ R10
	CMPQ R10, BX
	JLE  rowterm
	VPADDD Y15, Y2, Y2
	VPSRAD $10, Y2, Y2
	VMOVDQU Y2, (SI)
	JMP  rownext

rowzero:
	// nothing to do: the row is zero and so is its result
	// ((0 + 1<<9) >> 10)

rownext:
	ADDQ $32, SI
	DECQ CX
	JNZ  row

	SUBQ $256, SI
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	VMOVDQU 128(SI), Y4
	VMOVDQU 160(SI), Y5
	VMOVDQU 192(SI), Y6
	VMOVDQU 224(SI), Y7

	// even part
	VPADDD Y4, Y0, Y8
	VPSUBD Y4, Y0, Y9
	VPMULLD 256(DX), Y8, Y8 // a = k0*(t0+t4)
	VPMULLD 256(DX), Y9, Y9 // c = k0*(t0-t4)
	VPMULLD 288(DX), Y2, Y10
	VPMULLD 320(DX), Y6, Y11
	VPADDD Y11, Y10, Y10 // b = k1*t2 + k3*t6
	VPMULLD 320(DX), Y2, Y11
	VPMULLD 288(DX), Y6, Y12
	VPSUBD Y12, Y11, Y11 // d = k3*t2 - k1*t6
	VMOVDQU 768(DX), Y12 // bias
	VPADDD Y10, Y8, Y0
	VPADDD Y12, Y0, Y0 // e0
	VPSUBD Y10, Y8, Y6
	VPADDD Y12, Y6, Y6 // e3
	VPADDD Y11, Y9, Y2
	VPADDD Y12, Y2, Y2 // e1
	VPSUBD Y11, Y9, Y4
	VPADDD Y12, Y4, Y4 // e2

	// odd part: o_j = odd8[4j]*t1 + odd8[4j+1]*t3 + odd8[4j+2]*t5 + odd8[4j+3]*t7
	VPMULLD 352(DX), Y1, Y8
	VPMULLD 384(DX), Y3, Y9
	VPADDD Y9, Y8, Y8
	VPMULLD 416(DX), Y5, Y9
	VPADDD Y9, Y8, Y8
	VPMULLD 448(DX), Y7, Y9
	VPADDD Y9, Y8, Y8 // o0
	VPMULLD 480(DX), Y1, Y10
	VPMULLD 512(DX), Y3, Y11
	VPADDD Y11, Y10, Y10
	VPMULLD 544(DX), Y5, Y11
	VPADDD Y11, Y10, Y10
	VPMULLD 576(DX), Y7, Y11
	VPADDD Y11, Y10, Y10 // o1
	VPMULLD 608(DX), Y1, Y12
	VPMULLD 640(DX), Y3, Y13
	VPADDD Y13, Y12, Y12
	VPMULLD 672(DX), Y5, Y13
	VPADDD Y13, Y12, Y12
	VPMULLD 704(DX), Y7, Y13
	VPADDD Y13, Y12, Y12 // o2
	VPMULLD 800(DX), Y1, Y14
	VPMULLD 832(DX), Y3, Y15
	VPADDD Y15, Y14, Y14
	VPMULLD 864(DX), Y5, Y15
	VPADDD Y15, Y14, Y14
	VPMULLD 896(DX), Y7, Y15
	VPADDD Y15, Y14, Y14 // o3

	VPADDD Y8, Y0, Y9  // out0
	VPSUBD Y8, Y0, Y8  // out7
	VPADDD Y10, Y2, Y11 // out1
	VPSUBD Y10, Y2, Y10 // out6
	VPADDD Y12, Y4, Y13 // out2
	VPSUBD Y12, Y4, Y12 // out5
	VPADDD Y14, Y6, Y15 // out3
	VPSUBD Y14, Y6, Y14 // out4
	VPSRAD $14, Y9, Y9
	VPSRAD $14, Y8, Y8
	VPSRAD $14, Y11, Y11
	VPSRAD $14, Y10, Y10
	VPSRAD $14, Y13, Y13
	VPSRAD $14, Y12, Y12
	VPSRAD $14, Y15, Y15
	VPSRAD $14, Y14, Y14

	// clamp to bytes: rows 0-3 and 4-7, one row per quadword
	VPACKSSDW Y11, Y9, Y9
	VPACKSSDW Y15, Y13, Y13
	VPACKSSDW Y12, Y14, Y14
	VPACKSSDW Y8, Y10, Y10
	VPACKUSWB Y13, Y9, Y9
	VPACKUSWB Y10, Y14, Y14
	VMOVDQU 928(DX), Y0 // 0 4 1 5 2 6 3 7
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
