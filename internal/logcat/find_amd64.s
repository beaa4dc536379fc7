#include "textflag.h"

// func indexPairAVX2(h []byte, i1, i2 int, c1, c2 byte) (pos, next int)
//
// Looks at the positions p = 0, 1, ... for h[p+i1] == c1 and h[p+i2] ==
// c2, 32 positions at a time, while p+i2+32 <= len(h) (i1 < i2). It
// returns the first p found and 0, or -1 and the first p not looked at.
TEXT ·indexPairAVX2(SB), NOSPLIT, $0-64
	MOVQ h_base+0(FP), SI
	MOVQ h_len+8(FP), BX
	MOVQ i1+24(FP), R8
	MOVQ i2+32(FP), R9
	// Broadcast from memory: a legacy SSE MOVQ into X1 first made every
	// call cost 0.6 µs here (the SSE/AVX transition), more than the search.
	VPBROADCASTB c1+40(FP), Y1
	VPBROADCASTB c2+41(FP), Y2
	LEAQ (SI)(R8*1), R10
	LEAQ (SI)(R9*1), R11
	// DX: the last p from which 64 positions can be looked at.
	MOVQ BX, DX
	SUBQ R9, DX
	SUBQ $64, DX
	XORQ DI, DI

loop64:
	CMPQ DI, DX
	JGT  tail32
	// A page ahead: the hardware's prefetcher stops at page ends, and
	// from a mapping each new page costs a wait for memory (10 % of the
	// search of 1 GB; 512 and 1024 bytes ahead gained less).
	PREFETCHT0 4096(R11)(DI*1)
	VMOVDQU (R10)(DI*1), Y3
	VMOVDQU (R11)(DI*1), Y4
	VMOVDQU 32(R10)(DI*1), Y5
	VMOVDQU 32(R11)(DI*1), Y6
	VPCMPEQB Y1, Y3, Y3
	VPCMPEQB Y2, Y4, Y4
	VPCMPEQB Y1, Y5, Y5
	VPCMPEQB Y2, Y6, Y6
	VPAND Y3, Y4, Y3
	VPAND Y5, Y6, Y5
	VPOR Y3, Y5, Y7
	VPTEST Y7, Y7
	JNZ  found64
	ADDQ $64, DI
	JMP  loop64

found64:
	VPMOVMSKB Y3, AX
	TESTL AX, AX
	JNZ  found
	VPMOVMSKB Y5, AX
	ADDQ $32, DI
	JMP  found

tail32:
	// One more step of 32 when there is room for it.
	ADDQ $32, DX
	CMPQ DI, DX
	JGT  notfound
	VMOVDQU (R10)(DI*1), Y3
	VMOVDQU (R11)(DI*1), Y4
	VPCMPEQB Y1, Y3, Y3
	VPCMPEQB Y2, Y4, Y4
	VPAND Y3, Y4, Y3
	VPMOVMSKB Y3, AX
	TESTL AX, AX
	JNZ  found
	ADDQ $32, DI

notfound:
	VZEROUPPER
	MOVQ $-1, pos+48(FP)
	MOVQ DI, next+56(FP)
	RET

found:
	VZEROUPPER
	BSFL AX, AX
	ADDQ DI, AX
	MOVQ AX, pos+48(FP)
	MOVQ $0, next+56(FP)
	RET
