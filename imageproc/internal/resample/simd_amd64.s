#include "textflag.h"

// AVX2 kernels for the two passes of resizePlane (see simd_amd64.go).
// Every sum is the exact integer sum the Go loops compute (VPMADDWD on
// 16-bit samples and weights cannot overflow here), so the output is the
// same to the bit.

DATA round8<>+0(SB)/4, $128 // horizontal16: 1 << (fracBits - midBits - 1)
GLOBL round8<>(SB), RODATA|NOPTR, $4
DATA max16<>+0(SB)/4, $16320 // horizontal16: 255 << midBits
GLOBL max16<>(SB), RODATA|NOPTR, $4
DATA round20<>+0(SB)/4, $524288 // vertical16: 1 << (fracBits + midBits - 1)
GLOBL round20<>(SB), RODATA|NOPTR, $4

// TAPS16 loads the 16 samples from in + starts[s/4] (zero-extended) into
// y and multiplies them by the 16 weights at wts + w, summing pairs.
#define TAPS16(s, w, y) \
	MOVLQSX s(BX), AX \
	VPMOVZXBW (SI)(AX*1), y \
	VPMADDWD w(DX), y, y

// TAPS8 is TAPS16 for two outputs of 8 taps, one per lane of y (x is
// its low half, t a scratch register).
#define TAPS8(s0, s1, w, x, t, y) \
	MOVLQSX s0(BX), AX \
	VPMOVZXBW (SI)(AX*1), x \
	MOVLQSX s1(BX), AX \
	VPMOVZXBW (SI)(AX*1), t \
	VINSERTI128 $1, t, y, y \
	VPMADDWD w(DX), y, y

// STORE16 rounds, shifts and clamps the eight sums in Y0 as horizontal16Row
// does and stores them as 16-bit samples at DI.
#define STORE16 \
	VPADDD Y14, Y0, Y0 \
	VPSRAD $8, Y0, Y0 \
	VPMAXSD Y13, Y0, Y0 \
	VPMINSD Y12, Y0, Y0 \
	VPACKUSDW Y0, Y0, Y0 \
	VPERMQ $0x08, Y0, Y0 \
	VMOVDQU X0, (DI)

// MADDROWS adds the 16 samples of Y3 and those of next (the next row, or
// zero), weighted by the pair of weights in Y2, to the sums in Y0 (columns
// 0-3, 8-11) and Y1 (4-7, 12-15).
#define MADDROWS(next) \
	VPUNPCKLWD next, Y3, Y5 \
	VPUNPCKHWD next, Y3, Y6 \
	VPMADDWD Y2, Y5, Y5 \
	VPMADDWD Y2, Y6, Y6 \
	VPADDD Y5, Y0, Y0 \
	VPADDD Y6, Y1, Y1

// HARGS loads the arguments and constants of the horizontal kernels.
#define HARGS \
	MOVQ in+0(FP), SI \
	MOVQ starts+8(FP), BX \
	MOVQ wts+16(FP), DX \
	MOVQ out+24(FP), DI \
	MOVQ n+32(FP), CX \
	VPBROADCASTD round8<>(SB), Y14 \
	VPBROADCASTD max16<>(SB), Y12 \
	VPXOR Y13, Y13, Y13

// func hRow16K16(in *uint8, starts *int32, wts *int16, out *uint16, n int)
// out[x] for x < n (a multiple of 8): 16 taps from in[starts[x]:].
TEXT ·hRow16K16(SB), NOSPLIT, $0-40
	HARGS

k16loop:
	CMPQ CX, $8
	JLT  k16done
	TAPS16(0, 0, Y0)
	TAPS16(4, 32, Y1)
	TAPS16(8, 64, Y2)
	TAPS16(12, 96, Y3)
	TAPS16(16, 128, Y4)
	TAPS16(20, 160, Y5)
	TAPS16(24, 192, Y6)
	TAPS16(28, 224, Y7)

	// Reduce eight vectors of eight partial sums to one of eight sums.
	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y5, Y4, Y4
	VPHADDD Y7, Y6, Y6
	VPHADDD Y2, Y0, Y0 // [a..d taps 0-7 | a..d taps 8-15]
	VPHADDD Y6, Y4, Y4 // [e..h taps 0-7 | e..h taps 8-15]
	VPERM2I128 $0x20, Y4, Y0, Y1
	VPERM2I128 $0x31, Y4, Y0, Y2
	VPADDD Y2, Y1, Y0

	STORE16

	ADDQ $32, BX
	ADDQ $256, DX
	ADDQ $16, DI
	SUBQ $8, CX
	JMP  k16loop

k16done:
	VZEROUPPER
	RET

// func hRow16K8(in *uint8, starts *int32, wts *int16, out *uint16, n int)
// As hRow16K16 with 8 taps; wts holds each group of eight outputs in the
// order 0 4 1 5 2 6 3 7 (two outputs per register, one per lane).
TEXT ·hRow16K8(SB), NOSPLIT, $0-40
	HARGS

k8loop:
	CMPQ CX, $8
	JLT  k8done
	TAPS8(0, 16, 0, X0, X8, Y0)
	TAPS8(4, 20, 32, X1, X9, Y1)
	TAPS8(8, 24, 64, X2, X10, Y2)
	TAPS8(12, 28, 96, X3, X11, Y3)

	VPHADDD Y1, Y0, Y0
	VPHADDD Y3, Y2, Y2
	VPHADDD Y2, Y0, Y0 // [a b c d | e f g h]

	STORE16

	ADDQ $32, BX
	ADDQ $128, DX
	ADDQ $16, DI
	SUBQ $8, CX
	JMP  k8loop

k8done:
	VZEROUPPER
	RET

// func vRow16(src *uint16, stride int, wts *int32, taps int, out *uint8, n int)
// out[x] for x < n (a multiple of 16): taps rows of 16-bit samples, stride
// bytes apart, weighted by wts (each entry a pair of int16 weights, the
// second zero for an odd last tap).
TEXT ·vRow16(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ stride+8(FP), R8
	MOVQ wts+16(FP), DX
	MOVQ taps+24(FP), R9
	MOVQ out+32(FP), DI
	MOVQ n+40(FP), CX
	VPBROADCASTD round20<>(SB), Y14
	VPXOR Y13, Y13, Y13
	LEAQ (R8)(R8*1), R10 // two rows

vcol:
	CMPQ CX, $16
	JLT  vdone
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	MOVQ SI, R11 // row pointer
	MOVQ DX, R12 // weight pairs
	MOVQ R9, R13 // taps left

vpair:
	CMPQ R13, $2
	JLT  vodd
	VPBROADCASTD (R12), Y2
	VMOVDQU (R11), Y3
	VMOVDQU (R11)(R8*1), Y4
	MADDROWS(Y4)
	ADDQ R10, R11
	ADDQ $4, R12
	SUBQ $2, R13
	JMP  vpair

vodd:
	CMPQ R13, $1
	JLT  vstore
	VPBROADCASTD (R12), Y2
	VMOVDQU (R11), Y3
	MADDROWS(Y13)

vstore:
	VPADDD Y14, Y0, Y0
	VPADDD Y14, Y1, Y1
	VPSRAD $20, Y0, Y0
	VPSRAD $20, Y1, Y1
	VPACKSSDW Y1, Y0, Y0 // [x0-7 | x8-15] as words
	VPACKUSWB Y0, Y0, Y0
	VPERMQ $0x08, Y0, Y0
	VMOVDQU X0, (DI)
	ADDQ $32, SI
	ADDQ $16, DI
	SUBQ $16, CX
	JMP  vcol

vdone:
	VZEROUPPER
	RET
