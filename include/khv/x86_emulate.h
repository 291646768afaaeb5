/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * x86 instruction decoder and emulator for MMIO accesses (arch/x86/emulate.c).
 *
 * When a guest touches a guest-physical address that no memslot backs, the
 * stage-2 fault tells us the address but not what the instruction wanted to
 * do with it. The caller fills a struct khv_emul_ctxt with the vCPU's GPRs,
 * RIP, RFLAGS, segments and mode, plus three callbacks for linear-address
 * accesses, and calls khv_emulate_insn(): it decodes one instruction and
 * performs it through the callbacks. No VM structure is touched here.
 *
 * The result and retry contract:
 *
 *   KHV_EMUL_OK         the instruction (or one iteration of a rep string
 *                       instruction) is done: regs, rip and rflags hold the
 *                       new state. A rep instruction with iterations left
 *                       leaves rip on itself, so running the guest (or
 *                       calling again) does the next iteration.
 *   KHV_EMUL_EXIT       a callback sent the access to user space. Nothing
 *                       in the context was changed; call again with the
 *                       same state once user space has answered (the read
 *                       callback then returns the data).
 *   KHV_EMUL_FAULT      the instruction faults: c->exception says how (set
 *                       by the emulator for #UD, #GP and #SS, by a callback
 *                       for anything else, e.g. #PF). Nothing in the
 *                       context was changed.
 *   KHV_EMUL_UNHANDLED  an instruction (or form) this emulator does not do,
 *                       or a callback the instruction needs is missing.
 *                       Nothing in the context was changed.
 *
 * Memory is always read before it is written (read-modify-write on MMIO:
 * the read may EXIT and the whole instruction is retried), and every
 * instruction here writes memory at most once, as its last access; a write
 * callback returning KHV_EMUL_OK means the write is done (for MMIO: queued
 * for user space, which the caller then runs after the commit). All
 * segmentation and canonical checks of an instruction are done before its
 * first access, so a read with side effects is never followed by a #GP or
 * #SS from the same instruction.
 *
 * Locked read-modify-writes (lock prefix, xchg) are performed as a read then
 * a write; making them atomic, if the target is not MMIO, is up to the
 * callbacks.
 */
#ifndef KHV_X86_EMULATE_H
#define KHV_X86_EMULATE_H

#include <linux/types.h>

enum khv_emul_result {
	KHV_EMUL_OK,
	KHV_EMUL_EXIT,
	KHV_EMUL_FAULT,
	KHV_EMUL_UNHANDLED,
};

/* Segment registers, in the encoding order of the sreg field. */
enum {
	KHV_SEG_ES, KHV_SEG_CS, KHV_SEG_SS, KHV_SEG_DS, KHV_SEG_FS, KHV_SEG_GS,
	KHV_NR_SEGS
};

/*
 * The mode of the code being run. PROT16: a 16-bit code segment in
 * protected mode, including virtual-8086 mode; PROT32: a 32-bit code
 * segment, in legacy protected mode or compatibility mode; LONG64: 64-bit
 * mode (CS.L = 1).
 */
enum khv_cpu_mode {
	KHV_MODE_REAL,
	KHV_MODE_PROT16,
	KHV_MODE_PROT32,
	KHV_MODE_LONG64,
};

/* Exception vectors the emulator raises itself (and #PF, for callbacks). */
#define KHV_EXC_UD	6
#define KHV_EXC_SS	12
#define KHV_EXC_GP	13
#define KHV_EXC_PF	14

/* Architectural limit on the length of one instruction. */
#define KHV_INSN_MAX	15

struct khv_emul_ctxt;

struct khv_emul_ops {
	/*
	 * Each returns KHV_EMUL_OK, KHV_EMUL_EXIT (the access went to user
	 * space: emulation stops and the instruction is re-executed later,
	 * nothing may have been committed) or KHV_EMUL_FAULT (the callback
	 * has set c->exception). Addresses are linear: segment bases are
	 * added, segment limits and canonicality checked, by the emulator.
	 * fetch reads instruction bytes; it is only asked for bytes the
	 * instruction may need: never past the 15th byte of the instruction,
	 * the end of the CS limit (protected mode) or, beyond the bytes the
	 * decoder needs, the end of the 4 KiB page it starts in.
	 */
	int (*fetch)(struct khv_emul_ctxt *c, u64 linear, void *buf,
		     unsigned int len);
	int (*read)(struct khv_emul_ctxt *c, u64 linear, void *buf,
		    unsigned int len);
	int (*write)(struct khv_emul_ctxt *c, u64 linear, const void *buf,
		     unsigned int len);
};

/*
 * A segment register's hidden part. Only base is used in real mode (and
 * only the FS and GS bases in 64-bit mode); protected 16/32-bit modes also
 * check the limit and the attributes. The fields after writable are khv's
 * additions: all false is an ordinary usable, readable segment.
 */
struct khv_emul_seg {
	u64 base;
	u32 limit;		/* byte granular (G already applied) */
	u16 sel;
	bool expand_down;
	/* a data segment with W (protected mode: writes elsewhere #GP) */
	bool writable;
	/* D/B: an expand-down segment ends at 4 GiB - 1, not 64 KiB - 1 */
	bool big;
	bool exec_only;		/* code segment without R: reads #GP */
	bool unusable;		/* null selector: any access faults */
};

/* Kinds of instruction, once decoded (struct khv_emul_insn.kind). */
enum khv_insn_kind {
	KHV_INSN_NONE,
	KHV_INSN_MOV,		/* 88 89 8A 8B C6 C7 A0-A3 */
	KHV_INSN_MOVZX,		/* 0F B6 0F B7 */
	KHV_INSN_MOVSX,		/* 0F BE 0F BF 63 (movsxd) */
	KHV_INSN_ALU,		/* 00-3D, 80-83: alu_op says which */
	KHV_INSN_TEST,		/* 84 85 A8 A9 F6/F7 /0 */
	KHV_INSN_NOT,		/* F6/F7 /2 */
	KHV_INSN_NEG,		/* F6/F7 /3 */
	KHV_INSN_XCHG,		/* 86 87 */
	KHV_INSN_MOVS,		/* A4 A5 */
	KHV_INSN_STOS,		/* AA AB */
	KHV_INSN_LODS,		/* AC AD */
};

/* ALU operations, in the order of the opcode's bits 5:3 (and /digit). */
enum khv_alu_op {
	KHV_ALU_ADD, KHV_ALU_OR, KHV_ALU_ADC, KHV_ALU_SBB,
	KHV_ALU_AND, KHV_ALU_SUB, KHV_ALU_XOR, KHV_ALU_CMP,
};

/* Where an operand is. */
enum khv_opnd_type {
	KHV_OPND_NONE,
	KHV_OPND_REG,		/* reg: GPR number; hi8: AH/CH/DH/BH */
	KHV_OPND_MEM,		/* seg:ea, linear once emulated */
	KHV_OPND_IMM,		/* val */
};

struct khv_emul_opnd {
	u8 type;		/* enum khv_opnd_type */
	u8 bytes;		/* access width: 1, 2, 4 or 8 */
	u8 reg;
	bool hi8;
	u8 seg;			/* KHV_SEG_*: effective segment */
	u64 ea;			/* offset in seg, address-size truncated */
	u64 linear;		/* set by khv_emulate_insn, before the access */
	u64 val;		/* immediate (sign-extended to the op size) */
};

/* The decoded instruction (filled by khv_decode_insn). */
struct khv_emul_insn {
	u8 bytes[KHV_INSN_MAX];	/* the instruction as fetched ... */
	u8 fetched;		/* ... this many bytes of it (>= len) */
	u8 len;			/* its length */
	u16 opcode;		/* one-byte opcode, or 0x0f00 | second byte */
	u8 kind;		/* enum khv_insn_kind */
	u8 alu_op;		/* enum khv_alu_op, for KHV_INSN_ALU */
	u8 op_bytes;		/* operand size: 1, 2, 4 or 8 */
	u8 ad_bytes;		/* address size: 2, 4 or 8 */
	u8 rex;			/* the REX prefix in effect, or 0 */
	u8 rep;			/* 0, 0xf2 or 0xf3 (last one wins) */
	bool lock;
	bool opsize_prefix, adsize_prefix;
	s8 seg_override;	/* KHV_SEG_*, or -1 */
	bool has_modrm;
	u8 modrm, sib;
	bool rip_relative;
	u64 next_rip;		/* RIP of the next instruction */
	/*
	 * The operands. At most one is memory, except for movs: src DS:rSI
	 * (or the override), dst ES:rDI. Single-operand forms (not, neg)
	 * have src.type == KHV_OPND_NONE.
	 */
	struct khv_emul_opnd dst, src;
};

struct khv_emul_ctxt {
	/* in/out architectural state */
	u64 regs[16];			/* RAX..R15, in encoding order */
	u64 rip, rflags;
	struct khv_emul_seg seg[KHV_NR_SEGS];
	enum khv_cpu_mode mode;
	bool la57;			/* 57-bit canonical addresses */
	const struct khv_emul_ops *ops;
	void *priv;

	/*
	 * Optional prefetched instruction bytes (e.g. from decode assists):
	 * if insn_len != 0 they are used before fetch is called.
	 */
	u8 insn[KHV_INSN_MAX];
	u8 insn_len;

	/* out: valid on KHV_EMUL_FAULT */
	struct {
		u8 vector;
		bool has_error_code;
		u32 error_code;
		u64 cr2;
	} exception;

	/* out: the last instruction decoded (valid unless UNHANDLED early) */
	struct khv_emul_insn d;
};

/*
 * Fetch and decode the instruction at CS:RIP into c->d without executing
 * it or touching memory operands. Returns KHV_EMUL_OK, KHV_EMUL_EXIT or
 * KHV_EMUL_FAULT (from fetch; or #GP(0) for more than 15 bytes, #UD for an
 * invalid encoding of a supported opcode, e.g. lock where not allowed), or
 * KHV_EMUL_UNHANDLED.
 */
int khv_decode_insn(struct khv_emul_ctxt *c);

/* Decode and execute one instruction; see the contract above. */
int khv_emulate_insn(struct khv_emul_ctxt *c);

#endif /* KHV_X86_EMULATE_H */
