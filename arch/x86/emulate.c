// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 instruction decoder and emulator for the instructions guests use on
 * MMIO: mov (all forms, moffs), movzx/movsx/movsxd, the eight ALU
 * operations, test, not, neg, xchg, and movs/stos/lods with rep. The
 * contract is in include/khv/x86_emulate.h.
 *
 * Written from the Intel SDM vol. 2 (chapter 2 for the instruction format,
 * appendix A for the opcode map, the instruction pages for the flags) and
 * vol. 3 (chapter 5 for the segment checks), and the AMD APM vol. 3.
 *
 * Two passes: khv_decode_insn() turns the bytes at CS:RIP into a struct
 * khv_emul_insn (operands as register numbers, immediates, or segment and
 * effective address); khv_emulate_insn() then works on a copy of the
 * registers, does the segment checks of every memory operand, the accesses
 * (reads first, then at most one write) and commits the copy only when all
 * of them returned KHV_EMUL_OK.
 */
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/unaligned.h>

#include <khv/x86_emulate.h>

/* GPR numbers the decoder needs by name. */
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };

#define RFL_CF		BIT_ULL(0)
#define RFL_PF		BIT_ULL(2)
#define RFL_AF		BIT_ULL(4)
#define RFL_ZF		BIT_ULL(6)
#define RFL_SF		BIT_ULL(7)
#define RFL_DF		BIT_ULL(10)
#define RFL_OF		BIT_ULL(11)
#define RFL_ARITH	(RFL_CF | RFL_PF | RFL_AF | RFL_ZF | RFL_SF | RFL_OF)

#define REX_B		0x01
#define REX_X		0x02
#define REX_R		0x04
#define REX_W		0x08

/* Kinds of access to a memory operand, for the segment checks. */
#define ACC_R		1
#define ACC_W		2

#define PAGE_4K		4096u

/* The working copy of the registers an instruction may change. */
struct emul_regs {
	u64 regs[16];
	u64 rip, rflags;
};

static u64 width_mask(unsigned int bytes)
{
	return bytes >= 8 ? ~0ULL : BIT_ULL(bytes * 8) - 1;
}

static u64 sign_bit(unsigned int bytes)
{
	return BIT_ULL(bytes * 8 - 1);
}

/* Sign-extend the low @bytes bytes of @v to 64 bits. */
static u64 sext(u64 v, unsigned int bytes)
{
	unsigned int sh = 64 - bytes * 8;

	return (u64)((s64)(v << sh) >> sh);
}

static bool is_long64(const struct khv_emul_ctxt *c)
{
	return c->mode == KHV_MODE_LONG64;
}

static bool is_canonical(const struct khv_emul_ctxt *c, u64 la)
{
	unsigned int sh = c->la57 ? 64 - 57 : 64 - 48;

	return (u64)((s64)(la << sh) >> sh) == la;
}

static int emul_raise(struct khv_emul_ctxt *c, u8 vector, bool has_ec, u32 ec)
{
	c->exception.vector = vector;
	c->exception.has_error_code = has_ec;
	c->exception.error_code = ec;
	c->exception.cr2 = 0;
	return KHV_EMUL_FAULT;
}

static int raise_ud(struct khv_emul_ctxt *c)
{
	return emul_raise(c, KHV_EXC_UD, false, 0);
}

static int raise_gp0(struct khv_emul_ctxt *c)
{
	return emul_raise(c, KHV_EXC_GP, true, 0);
}

/* A segmentation fault on a data reference: #SS(0) through SS, else #GP(0). */
static int raise_seg(struct khv_emul_ctxt *c, unsigned int seg)
{
	return emul_raise(c, seg == KHV_SEG_SS ? KHV_EXC_SS : KHV_EXC_GP, true, 0);
}

/* A callback's answer; anything but the three allowed values is a bug. */
static int cb_result(int r)
{
	switch (r) {
	case KHV_EMUL_OK:
	case KHV_EMUL_EXIT:
	case KHV_EMUL_FAULT:
		return r;
	default:
		return KHV_EMUL_UNHANDLED;
	}
}

/* ------------------------------------------------------------------------
 * Instruction fetch
 */

/*
 * Have the first @end bytes of the instruction in d->bytes. Bytes are
 * fetched on demand, reading ahead to the end of the page (and of the CS
 * limit, and of the 15 bytes) so that one call usually does; a read-ahead
 * that faults is retried for the needed bytes only, in case the caller
 * maps no more than the instruction.
 */
static int fetch_to(struct khv_emul_ctxt *c, unsigned int end)
{
	struct khv_emul_insn *d = &c->d;
	const struct khv_emul_seg *cs = &c->seg[KHV_SEG_CS];
	unsigned int have = d->fetched, want;
	u64 ip = 0, lin;
	int r;

	if (end <= have)
		return KHV_EMUL_OK;
	if (end > KHV_INSN_MAX)
		return raise_gp0(c);
	if (!c->ops || !c->ops->fetch)
		return KHV_EMUL_UNHANDLED;

	if (is_long64(c)) {
		lin = c->rip + have;
		if (!is_canonical(c, lin) || !is_canonical(c, c->rip + end - 1))
			return raise_gp0(c);
	} else {
		ip = (u32)c->rip;
		lin = (u32)(cs->base + ip + have);
	}
	want = min_t(unsigned int, KHV_INSN_MAX,
		     have + PAGE_4K - (lin & (PAGE_4K - 1)));
	if (c->mode == KHV_MODE_PROT16 || c->mode == KHV_MODE_PROT32) {
		if (ip + end - 1 > cs->limit)
			return raise_gp0(c);
		want = min_t(u64, want, cs->limit - ip + 1);
	}
	want = max(want, end);

	r = cb_result(c->ops->fetch(c, lin, d->bytes + have, want - have));
	if (r == KHV_EMUL_FAULT && want > end) {
		want = end;
		r = cb_result(c->ops->fetch(c, lin, d->bytes + have,
					    want - have));
	}
	if (r != KHV_EMUL_OK)
		return r;
	d->fetched = want;
	return KHV_EMUL_OK;
}

/* The next @n (1, 2, 4 or 8) bytes of the instruction, little-endian. */
static int fetch_imm(struct khv_emul_ctxt *c, unsigned int n, u64 *val)
{
	struct khv_emul_insn *d = &c->d;
	u64 v = 0;
	int r, i;

	r = fetch_to(c, d->len + n);
	if (r != KHV_EMUL_OK)
		return r;
	for (i = n - 1; i >= 0; i--)
		v = v << 8 | d->bytes[d->len + i];
	d->len += n;
	*val = v;
	return KHV_EMUL_OK;
}

static int fetch_u8(struct khv_emul_ctxt *c, u8 *b)
{
	u64 v;
	int r = fetch_imm(c, 1, &v);

	*b = v;
	return r;
}

/* ------------------------------------------------------------------------
 * Decoding
 */

/* A GPR operand of @bytes, with the AH/CH/DH/BH rule for byte registers. */
static void set_reg(const struct khv_emul_insn *d, struct khv_emul_opnd *o,
		    unsigned int reg, unsigned int bytes)
{
	o->type = KHV_OPND_REG;
	o->bytes = bytes;
	o->reg = reg;
	o->hi8 = false;
	if (bytes == 1 && !d->rex && reg >= 4 && reg < 8) {
		o->reg = reg - 4;
		o->hi8 = true;
	}
}

static int set_imm(struct khv_emul_ctxt *c, struct khv_emul_opnd *o,
		   unsigned int imm_bytes, unsigned int bytes)
{
	u64 v;
	int r = fetch_imm(c, imm_bytes, &v);

	if (r != KHV_EMUL_OK)
		return r;
	o->type = KHV_OPND_IMM;
	o->bytes = bytes;
	o->val = sext(v, imm_bytes) & width_mask(bytes);
	return KHV_EMUL_OK;
}

/* Immediate of the operand size: ib, iw, id, or id sign-extended to 64. */
static int set_immz(struct khv_emul_ctxt *c, struct khv_emul_opnd *o,
		    unsigned int bytes)
{
	return set_imm(c, o, min(bytes, 4u), bytes);
}

static unsigned int data_seg(const struct khv_emul_insn *d, unsigned int def)
{
	return d->seg_override >= 0 ? d->seg_override : def;
}

static void set_mem(const struct khv_emul_insn *d, struct khv_emul_opnd *o,
		    unsigned int seg, u64 ea, unsigned int bytes)
{
	o->type = KHV_OPND_MEM;
	o->bytes = bytes;
	o->seg = seg;
	o->ea = ea & width_mask(d->ad_bytes);
}

/* 16-bit addressing (SDM vol. 2 table 2-1): base and index of each r/m. */
static const s8 base16[8] = { R_BX, R_BX, R_BP, R_BP, -1, -1, R_BP, R_BX };
static const s8 index16[8] = { R_SI, R_DI, R_SI, R_DI, R_SI, R_DI, -1, -1 };

static int decode_mem16(struct khv_emul_ctxt *c, struct khv_emul_opnd *o,
			unsigned int mod, unsigned int rm, unsigned int bytes)
{
	struct khv_emul_insn *d = &c->d;
	unsigned int seg = KHV_SEG_DS;
	u64 ea = 0, disp = 0;
	int r = KHV_EMUL_OK;

	if (mod == 0 && rm == 6) {
		r = fetch_imm(c, 2, &disp);
	} else {
		if (base16[rm] >= 0)
			ea += c->regs[base16[rm]];
		if (index16[rm] >= 0)
			ea += c->regs[index16[rm]];
		if (base16[rm] == R_BP)
			seg = KHV_SEG_SS;
		if (mod == 1) {
			r = fetch_imm(c, 1, &disp);
			disp = sext(disp, 1);
		} else if (mod == 2) {
			r = fetch_imm(c, 2, &disp);
		}
	}
	if (r != KHV_EMUL_OK)
		return r;
	set_mem(d, o, data_seg(d, seg), ea + disp, bytes);
	return KHV_EMUL_OK;
}

/*
 * 32- and 64-bit addressing (SDM vol. 2 tables 2-2 and 2-3, 2.2.1): SIB,
 * the no-base forms, RIP-relative in 64-bit mode. SS is the default
 * segment with rSP or rBP as base (not r12/r13).
 */
static int decode_mem32(struct khv_emul_ctxt *c, struct khv_emul_opnd *o,
			unsigned int mod, unsigned int rm, unsigned int bytes)
{
	struct khv_emul_insn *d = &c->d;
	unsigned int seg = KHV_SEG_DS, scale = 0, disp_bytes = 0;
	int base = -1, index = -1, r;
	u64 ea = 0, disp = 0;

	if (rm == 4) {
		r = fetch_u8(c, &d->sib);
		if (r != KHV_EMUL_OK)
			return r;
		scale = d->sib >> 6;
		index = ((d->sib >> 3) & 7) | (d->rex & REX_X ? 8 : 0);
		if (index == R_SP)
			index = -1;
		if ((d->sib & 7) == 5 && mod == 0)
			disp_bytes = 4;
		else
			base = (d->sib & 7) | (d->rex & REX_B ? 8 : 0);
	} else if (rm == 5 && mod == 0) {
		disp_bytes = 4;
		d->rip_relative = is_long64(c);
	} else {
		base = rm | (d->rex & REX_B ? 8 : 0);
	}
	if (mod == 1)
		disp_bytes = 1;
	else if (mod == 2)
		disp_bytes = 4;
	if (disp_bytes) {
		r = fetch_imm(c, disp_bytes, &disp);
		if (r != KHV_EMUL_OK)
			return r;
		disp = sext(disp, disp_bytes);
	}

	if (base >= 0) {
		ea += c->regs[base];
		if (base == R_SP || base == R_BP)
			seg = KHV_SEG_SS;
	}
	if (index >= 0)
		ea += c->regs[index] << scale;
	/* RIP-relative: finished once the length is known (decode_finish). */
	set_mem(d, o, data_seg(d, seg), ea + disp, bytes);
	return KHV_EMUL_OK;
}

/*
 * Fetch the ModRM byte (and SIB, displacement): its r/m side into @rm
 * (@rm_bytes wide), its reg side, if @reg, into @reg (@reg_bytes wide).
 */
static int decode_modrm(struct khv_emul_ctxt *c,
			struct khv_emul_opnd *rm, unsigned int rm_bytes,
			struct khv_emul_opnd *reg, unsigned int reg_bytes)
{
	struct khv_emul_insn *d = &c->d;
	unsigned int mod, rmf;
	int r;

	r = fetch_u8(c, &d->modrm);
	if (r != KHV_EMUL_OK)
		return r;
	d->has_modrm = true;
	mod = d->modrm >> 6;
	rmf = d->modrm & 7;
	if (reg)
		set_reg(d, reg, ((d->modrm >> 3) & 7) | (d->rex & REX_R ? 8 : 0),
			reg_bytes);
	if (mod == 3) {
		set_reg(d, rm, rmf | (d->rex & REX_B ? 8 : 0), rm_bytes);
		return KHV_EMUL_OK;
	}
	if (d->ad_bytes == 2)
		return decode_mem16(c, rm, mod, rmf, rm_bytes);
	return decode_mem32(c, rm, mod, rmf, rm_bytes);
}

static unsigned int modrm_reg(const struct khv_emul_insn *d)
{
	return (d->modrm >> 3) & 7;
}

/* Legacy prefixes (SDM vol. 2 2.1.1); false if @b is not one. */
static bool legacy_prefix(struct khv_emul_insn *d, u8 b)
{
	switch (b) {
	case 0x66:
		d->opsize_prefix = true;
		return true;
	case 0x67:
		d->adsize_prefix = true;
		return true;
	case 0x26:
		d->seg_override = KHV_SEG_ES;
		return true;
	case 0x2e:
		d->seg_override = KHV_SEG_CS;
		return true;
	case 0x36:
		d->seg_override = KHV_SEG_SS;
		return true;
	case 0x3e:
		d->seg_override = KHV_SEG_DS;
		return true;
	case 0x64:
		d->seg_override = KHV_SEG_FS;
		return true;
	case 0x65:
		d->seg_override = KHV_SEG_GS;
		return true;
	case 0xf0:
		d->lock = true;
		return true;
	case 0xf2:
	case 0xf3:
		d->rep = b;
		return true;
	default:
		return false;
	}
}

/* String instructions: rSI/rDI by the address size, ES not overridable. */
static void decode_string(struct khv_emul_ctxt *c, enum khv_insn_kind kind,
			  unsigned int bytes)
{
	struct khv_emul_insn *d = &c->d;

	d->kind = kind;
	if (kind == KHV_INSN_STOS)
		set_reg(d, &d->src, R_AX, bytes);
	else
		set_mem(d, &d->src, data_seg(d, KHV_SEG_DS), c->regs[R_SI],
			bytes);
	if (kind == KHV_INSN_LODS)
		set_reg(d, &d->dst, R_AX, bytes);
	else
		set_mem(d, &d->dst, KHV_SEG_ES, c->regs[R_DI], bytes);
}

static int decode_onebyte(struct khv_emul_ctxt *c, u8 op)
{
	struct khv_emul_insn *d = &c->d;
	unsigned int w = op & 1 ? d->op_bytes : 1;
	u64 moffs;
	int r;

	switch (op) {
	case 0x00 ... 0x3f:
		/* The others in the range: segment push/pop, BCD, prefixes. */
		if ((op & 7) > 5)
			return KHV_EMUL_UNHANDLED;
		d->kind = KHV_INSN_ALU;
		d->alu_op = op >> 3;
		switch (op & 6) {
		case 0:		/* op r/m, reg */
			return decode_modrm(c, &d->dst, w, &d->src, w);
		case 2:		/* op reg, r/m */
			return decode_modrm(c, &d->src, w, &d->dst, w);
		default:	/* op al/eAX, imm */
			set_reg(d, &d->dst, R_AX, w);
			return set_immz(c, &d->src, w);
		}
	case 0x63:
		/* movsxd (arpl outside 64-bit mode) */
		if (!is_long64(c))
			return KHV_EMUL_UNHANDLED;
		d->kind = KHV_INSN_MOVSX;
		return decode_modrm(c, &d->src, min_t(u8, d->op_bytes, 4),
				    &d->dst, d->op_bytes);
	case 0x80 ... 0x83:
		/* group 1; 82 is 80's alias, #UD in 64-bit mode */
		if (op == 0x82 && is_long64(c))
			return raise_ud(c);
		d->kind = KHV_INSN_ALU;
		r = decode_modrm(c, &d->dst, w, NULL, 0);
		if (r != KHV_EMUL_OK)
			return r;
		d->alu_op = modrm_reg(d);
		if (op == 0x81)
			return set_immz(c, &d->src, w);
		return set_imm(c, &d->src, 1, w);
	case 0x84:
	case 0x85:
		d->kind = KHV_INSN_TEST;
		return decode_modrm(c, &d->dst, w, &d->src, w);
	case 0x86:
	case 0x87:
		d->kind = KHV_INSN_XCHG;
		return decode_modrm(c, &d->dst, w, &d->src, w);
	case 0x88:
	case 0x89:
		d->kind = KHV_INSN_MOV;
		return decode_modrm(c, &d->dst, w, &d->src, w);
	case 0x8a:
	case 0x8b:
		d->kind = KHV_INSN_MOV;
		return decode_modrm(c, &d->src, w, &d->dst, w);
	case 0xa0 ... 0xa3:
		/* mov between al/eAX and [moffs]; the offset is address-sized */
		d->kind = KHV_INSN_MOV;
		r = fetch_imm(c, d->ad_bytes, &moffs);
		if (r != KHV_EMUL_OK)
			return r;
		if (op & 2) {
			set_mem(d, &d->dst, data_seg(d, KHV_SEG_DS), moffs, w);
			set_reg(d, &d->src, R_AX, w);
		} else {
			set_mem(d, &d->src, data_seg(d, KHV_SEG_DS), moffs, w);
			set_reg(d, &d->dst, R_AX, w);
		}
		return KHV_EMUL_OK;
	case 0xa4:
	case 0xa5:
		decode_string(c, KHV_INSN_MOVS, w);
		return KHV_EMUL_OK;
	case 0xa8:
	case 0xa9:
		d->kind = KHV_INSN_TEST;
		set_reg(d, &d->dst, R_AX, w);
		return set_immz(c, &d->src, w);
	case 0xaa:
	case 0xab:
		decode_string(c, KHV_INSN_STOS, w);
		return KHV_EMUL_OK;
	case 0xac:
	case 0xad:
		decode_string(c, KHV_INSN_LODS, w);
		return KHV_EMUL_OK;
	case 0xc6:
	case 0xc7:
		/* group 11: /0 mov; C6 F8 xabort, C7 F8 xbegin; others #UD */
		r = decode_modrm(c, &d->dst, w, NULL, 0);
		if (r != KHV_EMUL_OK)
			return r;
		if (d->modrm == 0xf8)
			return KHV_EMUL_UNHANDLED;
		if (modrm_reg(d) != 0)
			return raise_ud(c);
		d->kind = KHV_INSN_MOV;
		return set_immz(c, &d->src, w);
	case 0xf6:
	case 0xf7:
		/* group 3: /0 test, /2 not, /3 neg; mul and div are not here */
		r = decode_modrm(c, &d->dst, w, NULL, 0);
		if (r != KHV_EMUL_OK)
			return r;
		switch (modrm_reg(d)) {
		case 0:
			d->kind = KHV_INSN_TEST;
			return set_immz(c, &d->src, w);
		case 2:
			d->kind = KHV_INSN_NOT;
			return KHV_EMUL_OK;
		case 3:
			d->kind = KHV_INSN_NEG;
			return KHV_EMUL_OK;
		default:
			return KHV_EMUL_UNHANDLED;
		}
	default:
		return KHV_EMUL_UNHANDLED;
	}
}

static int decode_twobyte(struct khv_emul_ctxt *c, u8 op)
{
	struct khv_emul_insn *d = &c->d;

	/* F2/F3 select other instructions in this map (popcnt, tzcnt...). */
	if (d->rep)
		return KHV_EMUL_UNHANDLED;
	switch (op) {
	case 0xb6:
	case 0xb7:
		d->kind = KHV_INSN_MOVZX;
		break;
	case 0xbe:
	case 0xbf:
		d->kind = KHV_INSN_MOVSX;
		break;
	default:
		return KHV_EMUL_UNHANDLED;
	}
	return decode_modrm(c, &d->src, op & 1 ? 2 : 1, &d->dst, d->op_bytes);
}

/* Lock is allowed only on a read-modify-write of a memory destination. */
static bool lockable(const struct khv_emul_insn *d)
{
	if (d->dst.type != KHV_OPND_MEM)
		return false;
	switch (d->kind) {
	case KHV_INSN_ALU:
		return d->alu_op != KHV_ALU_CMP;
	case KHV_INSN_NOT:
	case KHV_INSN_NEG:
	case KHV_INSN_XCHG:
		return true;
	default:
		return false;
	}
}

int khv_decode_insn(struct khv_emul_ctxt *c)
{
	struct khv_emul_insn *d = &c->d;
	u8 b;
	int r;

	memset(d, 0, sizeof(*d));
	d->seg_override = -1;
	d->fetched = min_t(u8, c->insn_len, KHV_INSN_MAX);
	memcpy(d->bytes, c->insn, d->fetched);

	/* Prefixes. A REX counts only right before the opcode. */
	for (;;) {
		r = fetch_u8(c, &b);
		if (r != KHV_EMUL_OK)
			return r;
		if (is_long64(c) && (b & 0xf0) == 0x40) {
			d->rex = b;
			continue;
		}
		if (!legacy_prefix(d, b))
			break;
		d->rex = 0;
	}

	/* Default sizes from the mode (SDM vol. 1 3.6, 3.6.1). */
	switch (c->mode) {
	case KHV_MODE_REAL:
	case KHV_MODE_PROT16:
		d->op_bytes = 2;
		d->ad_bytes = 2;
		break;
	case KHV_MODE_PROT32:
		d->op_bytes = 4;
		d->ad_bytes = 4;
		break;
	case KHV_MODE_LONG64:
		d->op_bytes = 4;
		d->ad_bytes = 8;
		break;
	default:
		return KHV_EMUL_UNHANDLED;
	}
	if (d->opsize_prefix)
		d->op_bytes = d->op_bytes == 2 ? 4 : 2;
	if (d->rex & REX_W)
		d->op_bytes = 8;
	if (d->adsize_prefix)
		d->ad_bytes = d->ad_bytes == 4 ? 2 : 4;

	if (b == 0x0f) {
		r = fetch_u8(c, &b);
		if (r != KHV_EMUL_OK)
			return r;
		d->opcode = 0x0f00 | b;
		r = decode_twobyte(c, b);
	} else {
		d->opcode = b;
		r = decode_onebyte(c, b);
	}
	if (r != KHV_EMUL_OK)
		return r;

	d->next_rip = c->rip + d->len;
	if (!is_long64(c))
		d->next_rip = (u32)d->next_rip;
	if (d->rip_relative) {
		struct khv_emul_opnd *m = d->dst.type == KHV_OPND_MEM ?
					  &d->dst : &d->src;

		m->ea = (m->ea + d->next_rip) & width_mask(d->ad_bytes);
	}
	if (d->lock && !lockable(d))
		return raise_ud(c);
	return KHV_EMUL_OK;
}

/* ------------------------------------------------------------------------
 * Execution
 */

/*
 * Segmentation of a data access (SDM vol. 3 5.3, 5.4; 3.4.4.1 for 64-bit
 * mode): sets o->linear or raises #GP(0)/#SS(0).
 */
static int translate(struct khv_emul_ctxt *c, struct khv_emul_opnd *o,
		     unsigned int acc)
{
	const struct khv_emul_seg *s = &c->seg[o->seg];
	u64 ea = o->ea, last = o->ea + o->bytes - 1, la;

	switch (c->mode) {
	case KHV_MODE_LONG64:
		la = ea;
		if (o->seg == KHV_SEG_FS || o->seg == KHV_SEG_GS)
			la += s->base;
		if (!is_canonical(c, la) || !is_canonical(c, la + o->bytes - 1))
			return raise_seg(c, o->seg);
		o->linear = la;
		return KHV_EMUL_OK;
	case KHV_MODE_PROT16:
	case KHV_MODE_PROT32:
		if (s->unusable)
			return raise_seg(c, o->seg);
		if (((acc & ACC_W) && !s->writable) ||
		    ((acc & ACC_R) && s->exec_only))
			return raise_seg(c, o->seg);
		if (s->expand_down) {
			/* valid offsets: limit + 1 .. 64K - 1 or 4G - 1 */
			if (ea <= s->limit ||
			    last > (s->big ? 0xffffffffULL : 0xffffULL))
				return raise_seg(c, o->seg);
		} else if (last > s->limit) {
			return raise_seg(c, o->seg);
		}
		break;
	default:
		break;
	}
	o->linear = (u32)(s->base + ea);
	return KHV_EMUL_OK;
}

static u64 reg_get(const struct emul_regs *w, const struct khv_emul_opnd *o)
{
	u64 v = w->regs[o->reg];

	if (o->hi8)
		v >>= 8;
	return v & width_mask(o->bytes);
}

/*
 * Write a register the way an instruction of that width does: 8- and 16-bit
 * writes keep the rest, 32-bit writes zero the upper half.
 */
static void reg_put(struct emul_regs *w, unsigned int reg, bool hi8,
		    unsigned int bytes, u64 v)
{
	u64 *p = &w->regs[reg];

	switch (bytes) {
	case 1:
		if (hi8)
			*p = (*p & ~0xff00ULL) | (v & 0xff) << 8;
		else
			*p = (*p & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		*p = (*p & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		*p = (u32)v;
		break;
	default:
		*p = v;
		break;
	}
}

static int opnd_read(struct khv_emul_ctxt *c, const struct emul_regs *w,
		     const struct khv_emul_opnd *o, u64 *val)
{
	u8 buf[8] = {};
	int r;

	switch (o->type) {
	case KHV_OPND_REG:
		*val = reg_get(w, o);
		return KHV_EMUL_OK;
	case KHV_OPND_IMM:
		*val = o->val;
		return KHV_EMUL_OK;
	case KHV_OPND_MEM:
		if (!c->ops->read)
			return KHV_EMUL_UNHANDLED;
		r = cb_result(c->ops->read(c, o->linear, buf, o->bytes));
		if (r != KHV_EMUL_OK)
			return r;
		*val = get_unaligned_le64(buf);
		return KHV_EMUL_OK;
	default:
		*val = 0;
		return KHV_EMUL_OK;
	}
}

static int opnd_write(struct khv_emul_ctxt *c, struct emul_regs *w,
		      const struct khv_emul_opnd *o, u64 val)
{
	u8 buf[8];

	switch (o->type) {
	case KHV_OPND_REG:
		reg_put(w, o->reg, o->hi8, o->bytes, val);
		return KHV_EMUL_OK;
	case KHV_OPND_MEM:
		if (!c->ops->write)
			return KHV_EMUL_UNHANDLED;
		put_unaligned_le64(val, buf);
		return cb_result(c->ops->write(c, o->linear, buf, o->bytes));
	default:
		return KHV_EMUL_UNHANDLED;
	}
}

/* ZF, SF and PF of a result (PF: even number of ones in the low byte). */
static u64 flags_szp(u64 res, unsigned int bytes)
{
	u64 f = 0;

	if (!(res & width_mask(bytes)))
		f |= RFL_ZF;
	if (res & sign_bit(bytes))
		f |= RFL_SF;
	if (!(hweight8(res & 0xff) & 1))
		f |= RFL_PF;
	return f;
}

/*
 * The ALU operations with their flags (SDM vol. 2 instruction pages).
 * AF is undefined after and/or/xor/test: it is cleared here.
 */
static u64 alu(unsigned int op, u64 a, u64 b, unsigned int bytes, u64 *rflags)
{
	u64 m = width_mask(bytes), sign = sign_bit(bytes);
	u64 cin = 0, res, f = 0;

	a &= m;
	b &= m;
	switch (op) {
	case KHV_ALU_ADC:
		cin = *rflags & RFL_CF ? 1 : 0;
		fallthrough;
	case KHV_ALU_ADD:
		res = (a + b + cin) & m;
		if (cin ? res <= a : res < a)
			f |= RFL_CF;
		if ((a ^ res) & (b ^ res) & sign)
			f |= RFL_OF;
		f |= (a ^ b ^ res) & RFL_AF;
		break;
	case KHV_ALU_SBB:
		cin = *rflags & RFL_CF ? 1 : 0;
		fallthrough;
	case KHV_ALU_SUB:
	case KHV_ALU_CMP:
		res = (a - b - cin) & m;
		if (cin ? a <= b : a < b)
			f |= RFL_CF;
		if ((a ^ b) & (a ^ res) & sign)
			f |= RFL_OF;
		f |= (a ^ b ^ res) & RFL_AF;
		break;
	case KHV_ALU_AND:
		res = a & b;
		break;
	case KHV_ALU_OR:
		res = a | b;
		break;
	default: /* KHV_ALU_XOR */
		res = a ^ b;
		break;
	}
	f |= flags_szp(res, bytes);
	*rflags = (*rflags & ~RFL_ARITH) | f;
	return res;
}

static bool reads_dst(const struct khv_emul_insn *d)
{
	switch (d->kind) {
	case KHV_INSN_ALU:
	case KHV_INSN_TEST:
	case KHV_INSN_NOT:
	case KHV_INSN_NEG:
	case KHV_INSN_XCHG:
		return true;
	default:
		return false;
	}
}

static bool writes_dst(const struct khv_emul_insn *d)
{
	switch (d->kind) {
	case KHV_INSN_ALU:
		return d->alu_op != KHV_ALU_CMP;
	case KHV_INSN_TEST:
		return false;
	default:
		return true;
	}
}

/* Everything but the string instructions: one memory operand at most. */
static int exec_basic(struct khv_emul_ctxt *c, struct emul_regs *w)
{
	struct khv_emul_insn *d = &c->d;
	u64 s = 0, t = 0, res = 0;
	unsigned int acc;
	int r;

	if (d->dst.type == KHV_OPND_MEM) {
		acc = (reads_dst(d) ? ACC_R : 0) | (writes_dst(d) ? ACC_W : 0);
		r = translate(c, &d->dst, acc);
		if (r != KHV_EMUL_OK)
			return r;
	}
	if (d->src.type == KHV_OPND_MEM) {
		r = translate(c, &d->src, ACC_R);
		if (r != KHV_EMUL_OK)
			return r;
	}

	r = opnd_read(c, w, &d->src, &s);
	if (r == KHV_EMUL_OK && reads_dst(d))
		r = opnd_read(c, w, &d->dst, &t);
	if (r != KHV_EMUL_OK)
		return r;

	switch (d->kind) {
	case KHV_INSN_MOV:
	case KHV_INSN_MOVZX:
	case KHV_INSN_XCHG:
		res = s;
		break;
	case KHV_INSN_MOVSX:
		res = sext(s, d->src.bytes);
		break;
	case KHV_INSN_ALU:
		res = alu(d->alu_op, t, s, d->dst.bytes, &w->rflags);
		break;
	case KHV_INSN_TEST:
		alu(KHV_ALU_AND, t, s, d->dst.bytes, &w->rflags);
		break;
	case KHV_INSN_NOT:
		res = ~t;
		break;
	case KHV_INSN_NEG:
		res = alu(KHV_ALU_SUB, 0, t, d->dst.bytes, &w->rflags);
		break;
	default:
		return KHV_EMUL_UNHANDLED;
	}

	if (writes_dst(d)) {
		r = opnd_write(c, w, &d->dst, res);
		if (r != KHV_EMUL_OK)
			return r;
	}
	if (d->kind == KHV_INSN_XCHG)
		reg_put(w, d->src.reg, d->src.hi8, d->src.bytes, t);
	w->rip = d->next_rip;
	return KHV_EMUL_OK;
}

/*
 * movs, stos, lods: one iteration. With rep, the count is rCX of the
 * address size; RIP stays on the instruction until the count reaches 0.
 */
static int exec_string(struct khv_emul_ctxt *c, struct emul_regs *w)
{
	struct khv_emul_insn *d = &c->d;
	u64 count = 0, val = 0, delta;
	int r;

	if (d->rep) {
		count = w->regs[R_CX] & width_mask(d->ad_bytes);
		if (!count) {
			w->rip = d->next_rip;
			return KHV_EMUL_OK;
		}
	}
	if (d->src.type == KHV_OPND_MEM) {
		r = translate(c, &d->src, ACC_R);
		if (r != KHV_EMUL_OK)
			return r;
	}
	if (d->dst.type == KHV_OPND_MEM) {
		r = translate(c, &d->dst, ACC_W);
		if (r != KHV_EMUL_OK)
			return r;
	}

	r = opnd_read(c, w, &d->src, &val);
	if (r == KHV_EMUL_OK)
		r = opnd_write(c, w, &d->dst, val);
	if (r != KHV_EMUL_OK)
		return r;

	/* both operands have the width of the element */
	delta = w->rflags & RFL_DF ? -(u64)d->dst.bytes : d->dst.bytes;
	if (d->src.type == KHV_OPND_MEM)
		reg_put(w, R_SI, false, d->ad_bytes, w->regs[R_SI] + delta);
	if (d->dst.type == KHV_OPND_MEM)
		reg_put(w, R_DI, false, d->ad_bytes, w->regs[R_DI] + delta);
	if (d->rep) {
		reg_put(w, R_CX, false, d->ad_bytes, --count);
		if (count)
			return KHV_EMUL_OK;
	}
	w->rip = d->next_rip;
	return KHV_EMUL_OK;
}

int khv_emulate_insn(struct khv_emul_ctxt *c)
{
	struct emul_regs w;
	int r;

	if (!c->ops)
		return KHV_EMUL_UNHANDLED;
	r = khv_decode_insn(c);
	if (r != KHV_EMUL_OK)
		return r;

	memcpy(w.regs, c->regs, sizeof(w.regs));
	w.rip = c->rip;
	w.rflags = c->rflags;
	switch (c->d.kind) {
	case KHV_INSN_MOVS:
	case KHV_INSN_STOS:
	case KHV_INSN_LODS:
		r = exec_string(c, &w);
		break;
	default:
		r = exec_basic(c, &w);
		break;
	}
	if (r != KHV_EMUL_OK)
		return r;

	/* Every access went through: commit. */
	memcpy(c->regs, w.regs, sizeof(c->regs));
	c->rip = w.rip;
	c->rflags = w.rflags;
	return KHV_EMUL_OK;
}
