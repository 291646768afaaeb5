// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the x86 instruction decoder and emulator (arch/x86/emulate.c).
 *
 * The emulator is compiled into this module (see the #include below) and
 * runs against a fake guest: a linear address space with one page of code,
 * two pages of RAM and one page of MMIO whose reads return programmable
 * data (optionally KHV_EMUL_EXIT first, to exercise the retry path) and
 * whose accesses are logged. Anything else is unmapped and faults with #E_PF.
 *
 * Most cases are rows of tables: bytes, mode, registers before and after,
 * flags before and after, the data accesses expected in order. Expected
 * flags are computed by hand from the SDM's definitions.
 */
#include <kunit/test.h>
#include <linux/prandom.h>

#include "../../arch/x86/emulate.c"

/* The fake guest's linear address space. */
#define MEM_BASE	0x1000ULL	/* code page, then RAM */
#define CODE_BASE	0x1000ULL
#define CODE_END	0x2000ULL
#define RAM_BASE	0x2000ULL
#define MEM_END		0x4000ULL
#define MM		0xe000ULL	/* MMIO window, up to 64K + 256 */
#define MM_END		0x10100ULL
#define RIP0		0x1100ULL	/* where instructions are placed */

#define MAX_LOG		8

enum {
	GAX, GCX, GDX, GBX, GSP, GBP, GSI, GDI,
	G8, G9, G10, G11, G12, G13, G14, G15
};

struct acc {
	u64 addr;
	u8 len;
	bool write;
	u64 val;		/* written value (checked for writes only) */
};

struct fake {
	struct khv_emul_ctxt c;
	struct khv_emul_ops ops;
	u8 mem[MEM_END - MEM_BASE];
	u64 code_lo, code_hi;	/* fetchable linear range */
	u64 mmio_val;		/* what MMIO reads return */
	int read_exits;		/* MMIO reads answering EXIT first */
	int write_exits;	/* MMIO writes answering EXIT first */
	unsigned int nexits;
	struct acc log[MAX_LOG];	/* completed data accesses */
	unsigned int nlog;
	unsigned int nfetch;
	u64 fetch_lo, fetch_hi;	/* lowest, highest byte asked of fetch */
};

static int fake_pf(struct khv_emul_ctxt *c, u64 la)
{
	c->exception.vector = KHV_EXC_PF;
	c->exception.has_error_code = true;
	c->exception.error_code = 0;
	c->exception.cr2 = la;
	return KHV_EMUL_FAULT;
}

static bool within(u64 la, unsigned int len, u64 lo, u64 hi)
{
	return la >= lo && la < hi && len <= hi - la;
}

static void log_acc(struct fake *f, u64 la, unsigned int len, bool write,
		    const u8 *buf)
{
	u64 v = 0;
	int i;

	for (i = len - 1; i >= 0; i--)
		v = v << 8 | buf[i];
	if (f->nlog < MAX_LOG)
		f->log[f->nlog] = (struct acc){ la, len, write, v };
	f->nlog++;
}

static int fake_fetch(struct khv_emul_ctxt *c, u64 la, void *buf,
		      unsigned int len)
{
	struct fake *f = c->priv;
	unsigned int i;

	f->nfetch++;
	f->fetch_lo = min(f->fetch_lo, la);
	f->fetch_hi = max(f->fetch_hi, la + len - 1);
	for (i = 0; i < len; i++) {
		if (la + i < f->code_lo || la + i >= f->code_hi)
			return fake_pf(c, la + i);
		((u8 *)buf)[i] = f->mem[la + i - MEM_BASE];
	}
	return KHV_EMUL_OK;
}

static int fake_read(struct khv_emul_ctxt *c, u64 la, void *buf,
		     unsigned int len)
{
	struct fake *f = c->priv;
	u8 v[8];

	if (len > 8)
		return KHV_EMUL_UNHANDLED;
	if (within(la, len, MM, MM_END)) {
		if (f->read_exits) {
			f->read_exits--;
			f->nexits++;
			return KHV_EMUL_EXIT;
		}
		put_unaligned_le64(f->mmio_val, v);
		memcpy(buf, v, len);
	} else if (within(la, len, MEM_BASE, MEM_END)) {
		memcpy(buf, &f->mem[la - MEM_BASE], len);
	} else {
		return fake_pf(c, la);
	}
	log_acc(f, la, len, false, buf);
	return KHV_EMUL_OK;
}

static int fake_write(struct khv_emul_ctxt *c, u64 la, const void *buf,
		      unsigned int len)
{
	struct fake *f = c->priv;

	if (len > 8)
		return KHV_EMUL_UNHANDLED;
	if (within(la, len, MM, MM_END)) {
		if (f->write_exits) {
			f->write_exits--;
			f->nexits++;
			return KHV_EMUL_EXIT;
		}
	} else if (within(la, len, MEM_BASE, MEM_END)) {
		memcpy(&f->mem[la - MEM_BASE], buf, len);
	} else {
		return fake_pf(c, la);
	}
	log_acc(f, la, len, true, buf);
	return KHV_EMUL_OK;
}

/* A fresh guest in @mode: registers 0, RFLAGS 2, flat segments. */
static void reset(struct fake *f, enum khv_cpu_mode mode)
{
	struct khv_emul_ctxt *c = &f->c;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	for (i = RAM_BASE - MEM_BASE; i < sizeof(f->mem); i++)
		f->mem[i] = (u8)i;
	f->ops.fetch = fake_fetch;
	f->ops.read = fake_read;
	f->ops.write = fake_write;
	f->code_lo = CODE_BASE;
	f->code_hi = CODE_END;
	f->fetch_lo = ~0ULL;
	c->ops = &f->ops;
	c->priv = f;
	c->mode = mode;
	c->rip = RIP0;
	c->rflags = 2;
	for (i = 0; i < KHV_NR_SEGS; i++) {
		c->seg[i].limit = mode == KHV_MODE_PROT32 ? 0xffffffff : 0xffff;
		c->seg[i].big = mode == KHV_MODE_PROT32;
		c->seg[i].writable = i != KHV_SEG_CS;
	}
}

static void place(struct fake *f, u64 rip, const void *code, unsigned int len)
{
	f->c.rip = rip;
	memcpy(&f->mem[rip - MEM_BASE], code, len);
}

/* ------------------------------------------------------------------------
 * The table-driven cases
 */

struct rv {
	u8 r;			/* GPR number + 1; 0: unused */
	u64 v;
};

#define S_RO	BIT(0)		/* not writable */
#define S_ED	BIT(1)		/* expand-down */
#define S_BIG	BIT(2)
#define S_SMALL	BIT(3)
#define S_XO	BIT(4)		/* execute-only code */
#define S_NULL	BIT(5)		/* unusable */

struct sg {
	u8 seg;			/* KHV_SEG_* + 1; 0: unused */
	u8 attr;
	u64 base;
	u32 limit;		/* 0: the mode's default */
};

struct ecase {
	const char *name;
	u8 mode;
	u8 len;
	u8 code[16];
	struct rv in[4];
	struct sg sg[2];
	u64 fl_in;		/* RFLAGS before (bit 1 added) */
	u64 mmio;		/* what MMIO reads return */
	bool la57;
	int res;
	u8 vec;			/* KHV_EMUL_FAULT: the vector */
	struct rv out[4];	/* GPRs after; the others must not change */
	u64 fl_out;		/* RFLAGS after, as F(x); 0: unchanged */
	u8 adv;			/* RIP advance (0: stays) */
	struct acc rd, wr;	/* the data accesses, in this order */
};

#define L64		.mode = KHV_MODE_LONG64
#define P32		.mode = KHV_MODE_PROT32
#define P16		.mode = KHV_MODE_PROT16
#define RM		.mode = KHV_MODE_REAL
#define CODE(s)		.code = s, .len = sizeof(s) - 1
#define IN(...)		.in = { __VA_ARGS__ }
#define OUT(...)	.out = { __VA_ARGS__ }
#define SG(...)		.sg = { __VA_ARGS__ }
#define R(g, v)		{ (g) + 1, (v) }
#define S(s, a, b, l)	{ KHV_SEG_##s + 1, (a), (b), (l) }
#define RD(a, l)	.rd = { (a), (l), false, 0 }
#define WR(a, l, v)	.wr = { (a), (l), true, (v) }
#define F(x)		((x) | 2)
#define FAULT(v)	.res = KHV_EMUL_FAULT, .vec = (v)
#define E_UD		FAULT(KHV_EXC_UD)
#define E_GP		FAULT(KHV_EXC_GP)
#define E_SS		FAULT(KHV_EXC_SS)
#define E_PF		FAULT(KHV_EXC_PF)
#define UNH		.res = KHV_EMUL_UNHANDLED

#define F_CF	RFL_CF
#define F_PF	RFL_PF
#define F_AF	RFL_AF
#define F_ZF	RFL_ZF
#define F_SF	RFL_SF
#define F_DF	RFL_DF
#define F_OF	RFL_OF
#define F_ALL	(F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

#define MMV	0x1122334455667788ULL

static void case_desc(const struct ecase *e, char *desc)
{
	strscpy(desc, e->name, KUNIT_PARAM_DESC_SIZE);
}

static void check_acc(struct kunit *test, const struct ecase *e,
		      const struct acc *got, const struct acc *want)
{
	KUNIT_EXPECT_EQ_MSG(test, got->write, want->write, "%s", e->name);
	KUNIT_EXPECT_EQ_MSG(test, got->addr, want->addr, "%s", e->name);
	KUNIT_EXPECT_EQ_MSG(test, got->len, want->len, "%s", e->name);
	if (want->write)
		KUNIT_EXPECT_EQ_MSG(test, got->val, want->val, "%s", e->name);
}

static void setup_case(struct fake *f, const struct ecase *e)
{
	struct khv_emul_ctxt *c = &f->c;
	unsigned int i;

	reset(f, e->mode);
	place(f, RIP0, e->code, e->len);
	for (i = 0; i < ARRAY_SIZE(e->in); i++)
		if (e->in[i].r)
			c->regs[e->in[i].r - 1] = e->in[i].v;
	for (i = 0; i < ARRAY_SIZE(e->sg); i++) {
		const struct sg *g = &e->sg[i];
		struct khv_emul_seg *s;

		if (!g->seg)
			continue;
		s = &c->seg[g->seg - 1];
		s->base = g->base;
		if (g->limit)
			s->limit = g->limit;
		s->writable = !(g->attr & S_RO) && g->seg - 1 != KHV_SEG_CS;
		s->expand_down = g->attr & S_ED;
		if (g->attr & S_BIG)
			s->big = true;
		if (g->attr & S_SMALL)
			s->big = false;
		s->exec_only = g->attr & S_XO;
		s->unusable = g->attr & S_NULL;
	}
	c->rflags = e->fl_in | 2;
	c->la57 = e->la57;
	f->mmio_val = e->mmio;
}

static void run_case(struct kunit *test, const struct ecase *e)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	u64 want[16];
	unsigned int i, n = 0;
	int r;

	setup_case(f, e);
	memcpy(want, c->regs, sizeof(want));
	for (i = 0; i < ARRAY_SIZE(e->out); i++)
		if (e->out[i].r)
			want[e->out[i].r - 1] = e->out[i].v;

	r = khv_emulate_insn(c);

	KUNIT_EXPECT_EQ_MSG(test, r, e->res, "%s", e->name);
	if (r == KHV_EMUL_FAULT && e->res == KHV_EMUL_FAULT)
		KUNIT_EXPECT_EQ_MSG(test, c->exception.vector, e->vec, "%s",
				    e->name);
	for (i = 0; i < 16; i++)
		KUNIT_EXPECT_EQ_MSG(test, c->regs[i], want[i], "%s: GPR %u",
				    e->name, i);
	KUNIT_EXPECT_EQ_MSG(test, c->rip, RIP0 + e->adv, "%s", e->name);
	KUNIT_EXPECT_EQ_MSG(test, c->rflags, e->fl_out ? e->fl_out :
			    e->fl_in | 2, "%s", e->name);

	/* The accesses, in order: the read, then the write. */
	if (e->rd.len)
		n++;
	if (e->wr.len)
		n++;
	KUNIT_EXPECT_EQ_MSG(test, f->nlog, n, "%s: accesses", e->name);
	if (f->nlog != n)
		return;
	if (e->rd.len)
		check_acc(test, e, &f->log[0], &e->rd);
	if (e->wr.len)
		check_acc(test, e, &f->log[n - 1], &e->wr);
	/* Never a fetch beyond the 15 bytes. */
	if (f->nfetch)
		KUNIT_EXPECT_LT_MSG(test, f->fetch_hi, RIP0 + KHV_INSN_MAX,
				    "%s", e->name);
}

/* mov in all its forms, 64-bit mode; addressing forms; prefixes; REX. */
static const struct ecase mov_cases[] = {
	{ "mov eax,[rbx]", L64, CODE("\x8b\x03"), IN(R(GAX, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 2, RD(MM, 4) },
	{ "mov rax,[rbx]", L64, CODE("\x48\x8b\x03"), IN(R(GAX, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, MMV)), .adv = 3, RD(MM, 8) },
	{ "mov ax,[rbx]", L64, CODE("\x66\x8b\x03"), IN(R(GAX, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, 0xffffffffffff7788)), .adv = 3, RD(MM, 2) },
	{ "mov al,[rbx]", L64, CODE("\x8a\x03"), IN(R(GAX, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, 0xffffffffffffff88)), .adv = 2, RD(MM, 1) },
	{ "mov ah,[rbx]", L64, CODE("\x8a\x23"), IN(R(GAX, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, 0xffffffffffff88ff)), .adv = 2, RD(MM, 1) },
	{ "mov spl,[rbx] (REX 40)", L64, CODE("\x40\x8a\x23"),
	  IN(R(GAX, ~0ULL), R(GSP, ~0ULL), R(GBX, MM)), .mmio = MMV,
	  OUT(R(GSP, 0xffffffffffffff88)), .adv = 3, RD(MM, 1) },
	{ "mov r12b,[rbx]", L64, CODE("\x44\x8a\x23"), IN(R(G12, ~0ULL), R(GBX, MM)),
	  .mmio = MMV, OUT(R(G12, 0xffffffffffffff88)), .adv = 3, RD(MM, 1) },
	{ "mov r8,[r12] (SIB, REX.WRB)", L64, CODE("\x4d\x8b\x04\x24"),
	  IN(R(G12, MM)), .mmio = MMV, OUT(R(G8, MMV)), .adv = 4, RD(MM, 8) },
	{ "mov r13d,[r13+8]", L64, CODE("\x45\x8b\x6d\x08"), IN(R(G13, MM)),
	  .mmio = MMV, OUT(R(G13, 0x55667788)), .adv = 4, RD(MM + 8, 4) },
	{ "mov [rbx],bh", L64, CODE("\x88\x3b"), IN(R(GBX, MM)),
	  .adv = 2, WR(MM, 1, 0xe0) },
	{ "mov [rbx],dil (REX 40)", L64, CODE("\x40\x88\x3b"),
	  IN(R(GBX, MM), R(GDI, 0x1234)), .adv = 3, WR(MM, 1, 0x34) },
	{ "mov [rbx],ecx", L64, CODE("\x89\x0b"),
	  IN(R(GBX, MM), R(GCX, 0xaabbccdd11223344)), .adv = 2,
	  WR(MM, 4, 0x11223344) },
	{ "mov [rbx],rcx", L64, CODE("\x48\x89\x0b"),
	  IN(R(GBX, MM), R(GCX, 0xaabbccdd11223344)), .adv = 3,
	  WR(MM, 8, 0xaabbccdd11223344) },
	{ "mov [rbx],cx", L64, CODE("\x66\x89\x0b"),
	  IN(R(GBX, MM), R(GCX, 0xaabbccdd11223344)), .adv = 3,
	  WR(MM, 2, 0x3344) },
	{ "mov [rbx],r9", L64, CODE("\x4c\x89\x0b"),
	  IN(R(GBX, MM), R(G9, 0x0102030405060708)), .adv = 3,
	  WR(MM, 8, 0x0102030405060708) },
	{ "mov byte [rbx],imm8", L64, CODE("\xc6\x03\x5a"), IN(R(GBX, MM)),
	  .adv = 3, WR(MM, 1, 0x5a) },
	{ "mov dword [rbx],imm32", L64, CODE("\xc7\x03\x78\x56\x34\x12"),
	  IN(R(GBX, MM)), .adv = 6, WR(MM, 4, 0x12345678) },
	{ "mov word [rbx],imm16", L64, CODE("\x66\xc7\x03\x34\x12"),
	  IN(R(GBX, MM)), .adv = 5, WR(MM, 2, 0x1234) },
	{ "mov qword [rbx],simm32", L64, CODE("\x48\xc7\x03\x00\x00\x00\x80"),
	  IN(R(GBX, MM)), .adv = 7, WR(MM, 8, 0xffffffff80000000) },
	{ "mov dword [rbx+disp8],imm", L64,
	  CODE("\xc7\x43\x10\x01\x00\x00\x00"), IN(R(GBX, MM)), .adv = 7,
	  WR(MM + 0x10, 4, 1) },
	{ "mov [rbx+disp32],eax", L64, CODE("\x89\x83\x00\x01\x00\x00"),
	  IN(R(GBX, MM), R(GAX, 7)), .adv = 6, WR(MM + 0x100, 4, 7) },
	{ "mov [rbx-disp8],eax", L64, CODE("\x89\x43\xf0"),
	  IN(R(GBX, MM + 0x20), R(GAX, 7)), .adv = 3, WR(MM + 0x10, 4, 7) },
	{ "mov [rbx+rcx*4],eax", L64, CODE("\x89\x04\x8b"),
	  IN(R(GBX, MM), R(GCX, 4), R(GAX, 7)), .adv = 3, WR(MM + 0x10, 4, 7) },
	{ "mov [rbx+r9*8+8],eax (REX.X)", L64, CODE("\x42\x89\x44\xcb\x08"),
	  IN(R(GBX, MM), R(G9, 2), R(GAX, 7)), .adv = 5, WR(MM + 0x18, 4, 7) },
	{ "mov [r13+r12*2+0],eax (REX.XB)", L64, CODE("\x43\x89\x44\x65\x00"),
	  IN(R(G13, MM), R(G12, 8), R(GAX, 7)), .adv = 5, WR(MM + 0x10, 4, 7) },
	{ "mov [disp32],eax (SIB no base)", L64,
	  CODE("\x89\x04\x25\x00\xe0\x00\x00"), IN(R(GAX, 7)), .adv = 7,
	  WR(MM, 4, 7) },
	{ "mov [rsp+8],eax", L64, CODE("\x89\x44\x24\x08"),
	  IN(R(GSP, MM), R(GAX, 7)), .adv = 4, WR(MM + 8, 4, 7) },
	{ "mov [rbp+0],eax", L64, CODE("\x89\x45\x00"),
	  IN(R(GBP, MM), R(GAX, 7)), .adv = 3, WR(MM, 4, 7) },
	{ "mov [rip+disp32],eax", L64, CODE("\x89\x05\xfa\xce\x00\x00"),
	  IN(R(GAX, 7)), .adv = 6, WR(MM, 4, 7) },
	{ "mov dword [rip+disp32],imm32", L64,
	  CODE("\xc7\x05\xf6\xce\x00\x00\xef\xbe\xad\xde"), .adv = 10,
	  WR(MM, 4, 0xdeadbeef) },
	{ "mov eax,[rip-0x106]", L64, CODE("\x8b\x05\xfa\xfe\xff\xff"),
	  IN(R(GAX, ~0ULL)), OUT(R(GAX, 0)), .adv = 6, RD(CODE_BASE, 4) },
	{ "mov eax,[ebx] (67)", L64, CODE("\x67\x8b\x03"),
	  IN(R(GBX, 0xffffffff00000000 | MM)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 3, RD(MM, 4) },
	{ "mov eax,[eip+disp32] (67)", L64, CODE("\x67\x8b\x05\xf9\xce\x00\x00"),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 7, RD(MM, 4) },
	{ "mov eax,[moffs64]", L64,
	  CODE("\xa1\x00\xe0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, ~0ULL)),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 9, RD(MM, 4) },
	{ "mov al,[moffs64]", L64,
	  CODE("\xa0\x04\xe0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, ~0ULL)),
	  .mmio = MMV, OUT(R(GAX, 0xffffffffffffff88)), .adv = 9,
	  RD(MM + 4, 1) },
	{ "mov ax,[moffs64] (66)", L64,
	  CODE("\x66\xa1\x00\xe0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, ~0ULL)),
	  .mmio = MMV, OUT(R(GAX, 0xffffffffffff7788)), .adv = 10, RD(MM, 2) },
	{ "mov [moffs64],rax", L64,
	  CODE("\x48\xa3\x08\xe0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, MMV)),
	  .adv = 10, WR(MM + 8, 8, MMV) },
	{ "mov [moffs64],al", L64,
	  CODE("\xa2\x00\xe0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, MMV)),
	  .adv = 9, WR(MM, 1, 0x88) },
	{ "mov eax,[moffs32] (67)", L64, CODE("\x67\xa1\x00\xe0\x00\x00"),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 6, RD(MM, 4) },
	{ "mov [fs:moffs64],eax", L64,
	  CODE("\x64\xa3\x00\xd0\x00\x00\x00\x00\x00\x00"), IN(R(GAX, 9)),
	  SG(S(FS, 0, 0x1000, 0)), .adv = 10, WR(MM, 4, 9) },
	{ "mov eax,gs:[rbx]", L64, CODE("\x65\x8b\x03"), IN(R(GBX, 0x1000)),
	  SG(S(GS, 0, 0xd000, 0)), .mmio = MMV, OUT(R(GAX, 0x55667788)),
	  .adv = 3, RD(MM, 4) },
	{ "es: ignored in 64-bit mode", L64, CODE("\x26\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(ES, 0, 0x5000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 3, RD(MM, 4) },
	{ "REX before 66 is ignored", L64, CODE("\x48\x66\x8b\x03"),
	  IN(R(GBX, MM)), .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 4,
	  RD(MM, 2) },
	{ "REX.W wins over 66", L64, CODE("\x66\x48\x8b\x03"),
	  IN(R(GBX, MM)), .mmio = MMV, OUT(R(GAX, MMV)), .adv = 4, RD(MM, 8) },
	{ "mov al,ah (register)", L64, CODE("\x88\xe0"), IN(R(GAX, 0x1234)),
	  OUT(R(GAX, 0x1212)), .adv = 2 },
	{ "mov al,spl (register, REX)", L64, CODE("\x40\x88\xe0"),
	  IN(R(GAX, 0x1234), R(GSP, 0x99)), OUT(R(GAX, 0x1299)), .adv = 3 },
	{ "mov r15,rax (register)", L64, CODE("\x49\x89\xc7"),
	  IN(R(GAX, MMV)), OUT(R(G15, MMV)), .adv = 3 },
};

/* movzx, movsx, movsxd. */
static const struct ecase movx_cases[] = {
	{ "movzx eax,byte [rbx]", L64, CODE("\x0f\xb6\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0x80, OUT(R(GAX, 0x80)),
	  .adv = 3, RD(MM, 1) },
	{ "movzx ax,byte [rbx]", L64, CODE("\x66\x0f\xb6\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0x80,
	  OUT(R(GAX, 0xffffffffffff0080)), .adv = 4, RD(MM, 1) },
	{ "movzx rax,word [rbx]", L64, CODE("\x48\x0f\xb7\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0x18765,
	  OUT(R(GAX, 0x8765)), .adv = 4, RD(MM, 2) },
	{ "movzx eax,ah", L64, CODE("\x0f\xb6\xc4"), IN(R(GAX, 0xabcd)),
	  OUT(R(GAX, 0xab)), .adv = 3 },
	{ "movzx eax,spl", L64, CODE("\x40\x0f\xb6\xc4"),
	  IN(R(GAX, 0xabcd), R(GSP, 0x77)), OUT(R(GAX, 0x77)), .adv = 4 },
	{ "movsx eax,byte [rbx]", L64, CODE("\x0f\xbe\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0x80,
	  OUT(R(GAX, 0xffffff80)), .adv = 3, RD(MM, 1) },
	{ "movsx rax,word [rbx]", L64, CODE("\x48\x0f\xbf\x03"),
	  IN(R(GBX, MM)), .mmio = 0x8000,
	  OUT(R(GAX, 0xffffffffffff8000)), .adv = 4, RD(MM, 2) },
	{ "movsx r10w,byte [rbx]", L64, CODE("\x66\x44\x0f\xbe\x13"),
	  IN(R(G10, 0x5555555555555555), R(GBX, MM)), .mmio = 0xfe,
	  OUT(R(G10, 0x555555555555fffe)), .adv = 5, RD(MM, 1) },
	{ "movsx ecx,byte [rbx] positive", L64, CODE("\x0f\xbe\x0b"),
	  IN(R(GCX, ~0ULL), R(GBX, MM)), .mmio = 0x7f,
	  OUT(R(GCX, 0x7f)), .adv = 3, RD(MM, 1) },
	{ "movsxd rax,dword [rbx]", L64, CODE("\x48\x63\x03"),
	  IN(R(GBX, MM)), .mmio = 0x80000000,
	  OUT(R(GAX, 0xffffffff80000000)), .adv = 3, RD(MM, 4) },
	{ "movsxd eax,dword [rbx] (no REX.W)", L64, CODE("\x63\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0x80000000,
	  OUT(R(GAX, 0x80000000)), .adv = 2, RD(MM, 4) },
	{ "movsxd r9,r8d", L64, CODE("\x4d\x63\xc8"), IN(R(G8, 0xfffffffe)),
	  OUT(R(G9, 0xfffffffffffffffe)), .adv = 3 },
};

/* ALU operations and their flags. */
static const struct ecase alu_cases[] = {
	{ "add [rbx],eax: OF SF AF PF", L64, CODE("\x01\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0x7fffffff, .adv = 2,
	  .fl_out = F(F_OF | F_SF | F_AF | F_PF), RD(MM, 4), WR(MM, 4, 0x80000000) },
	{ "add [rbx],al: CF ZF AF PF", L64, CODE("\x00\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0xff, .adv = 2,
	  .fl_out = F(F_CF | F_ZF | F_AF | F_PF), RD(MM, 1), WR(MM, 1, 0) },
	{ "add eax,[rbx]", L64, CODE("\x03\x03"),
	  IN(R(GBX, MM), R(GAX, 0xffffffff00000005)), .mmio = 3, .fl_in = F_ALL,
	  OUT(R(GAX, 8)), .adv = 2, .fl_out = F(0), RD(MM, 4) },
	{ "add [rbx],rax: CF OF ZF PF", L64, CODE("\x48\x01\x03"),
	  IN(R(GBX, MM), R(GAX, 1ULL << 63)), .mmio = 1ULL << 63, .adv = 3,
	  .fl_out = F(F_CF | F_OF | F_ZF | F_PF), RD(MM, 8), WR(MM, 8, 0) },
	{ "add [rbx],ax: CF ZF AF PF", L64, CODE("\x66\x01\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0xffff, .adv = 3,
	  .fl_out = F(F_CF | F_ZF | F_AF | F_PF), RD(MM, 2), WR(MM, 2, 0) },
	{ "add al,imm8", L64, CODE("\x04\x01"), IN(R(GAX, 0x17f)),
	  OUT(R(GAX, 0x180)), .adv = 2, .fl_out = F(F_OF | F_SF | F_AF) },
	{ "add rax,simm32", L64, CODE("\x48\x05\xff\xff\xff\xff"),
	  IN(R(GAX, 1)), OUT(R(GAX, 0)), .adv = 6,
	  .fl_out = F(F_CF | F_ZF | F_AF | F_PF) },
	{ "add ax,imm16", L64, CODE("\x66\x05\x01\x00"),
	  IN(R(GAX, 0xffff0000ffff)), OUT(R(GAX, 0xffff00000000)), .adv = 4,
	  .fl_out = F(F_CF | F_ZF | F_AF | F_PF) },
	{ "sub [rbx],eax: CF SF AF PF", L64, CODE("\x29\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0, .adv = 2,
	  .fl_out = F(F_CF | F_SF | F_AF | F_PF), RD(MM, 4), WR(MM, 4, 0xffffffff) },
	{ "sub [rbx],al: OF AF", L64, CODE("\x28\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0x80, .adv = 2,
	  .fl_out = F(F_OF | F_AF), RD(MM, 1), WR(MM, 1, 0x7f) },
	{ "sub [rbx],ax: OF AF PF", L64, CODE("\x66\x29\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0x8000, .adv = 3,
	  .fl_out = F(F_OF | F_AF | F_PF), RD(MM, 2), WR(MM, 2, 0x7fff) },
	{ "sub eax,[rbx]", L64, CODE("\x2b\x03"),
	  IN(R(GBX, MM), R(GAX, 0x10)), .mmio = 1, .fl_in = F_CF,
	  OUT(R(GAX, 0xf)), .adv = 2, .fl_out = F(F_AF | F_PF), RD(MM, 4) },
	{ "cmp [rbx],eax: equal", L64, CODE("\x39\x03"),
	  IN(R(GBX, MM), R(GAX, 5)), .mmio = 5, .adv = 2,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 4) },
	{ "cmp eax,[rbx]: below", L64, CODE("\x3b\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 2, .adv = 2,
	  .fl_out = F(F_CF | F_SF | F_AF | F_PF), RD(MM, 4) },
	{ "cmp al,imm8: CF OF SF PF", L64, CODE("\x3c\x80"),
	  IN(R(GAX, 0x7f)), .adv = 2, .fl_out = F(F_CF | F_OF | F_SF | F_PF) },
	{ "and [rbx],eax: clears CF OF", L64, CODE("\x21\x03"),
	  IN(R(GBX, MM), R(GAX, 0x0ff00ff0)), .mmio = 0xf0f0f0f0,
	  .fl_in = F_ALL, .adv = 2, .fl_out = F(F_PF), RD(MM, 4),
	  WR(MM, 4, 0x00f000f0) },
	{ "or [rbx],eax: SF", L64, CODE("\x09\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0x80000000, .fl_in = F_CF | F_OF,
	  .adv = 2, .fl_out = F(F_SF), RD(MM, 4), WR(MM, 4, 0x80000001) },
	{ "xor [rbx],eax: ZF PF", L64, CODE("\x31\x03"),
	  IN(R(GBX, MM), R(GAX, 0x12345678)), .mmio = 0x12345678, .adv = 2,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 4), WR(MM, 4, 0) },
	{ "xor [rbx],rax: SF PF", L64, CODE("\x48\x31\x03"),
	  IN(R(GBX, MM), R(GAX, 0)), .mmio = 1ULL << 63, .adv = 3,
	  .fl_out = F(F_SF | F_PF), RD(MM, 8), WR(MM, 8, 1ULL << 63) },
	{ "adc [rbx],eax: carry in wraps", L64, CODE("\x11\x03"),
	  IN(R(GBX, MM), R(GAX, 0)), .mmio = 0xffffffff, .fl_in = F_CF,
	  .adv = 2, .fl_out = F(F_CF | F_ZF | F_AF | F_PF), RD(MM, 4), WR(MM, 4, 0) },
	{ "adc [rbx],al: carry in overflows", L64, CODE("\x10\x03"),
	  IN(R(GBX, MM), R(GAX, 0)), .mmio = 0x7f, .fl_in = F_CF, .adv = 2,
	  .fl_out = F(F_OF | F_SF | F_AF), RD(MM, 1), WR(MM, 1, 0x80) },
	{ "adc [rbx],eax: no carry in", L64, CODE("\x11\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 1, .adv = 2, .fl_out = F(0),
	  RD(MM, 4), WR(MM, 4, 2) },
	{ "adc al,imm: ff+ff+1", L64, CODE("\x14\xff"), IN(R(GAX, 0xff)),
	  .fl_in = F_CF, OUT(R(GAX, 0xff)), .adv = 2,
	  .fl_out = F(F_CF | F_SF | F_AF | F_PF) },
	{ "sbb [rbx],eax: borrow in", L64, CODE("\x19\x03"),
	  IN(R(GBX, MM), R(GAX, 0)), .mmio = 0, .fl_in = F_CF, .adv = 2,
	  .fl_out = F(F_CF | F_SF | F_AF | F_PF), RD(MM, 4), WR(MM, 4, 0xffffffff) },
	{ "sbb [rbx],al: 80-7f-1 OF ZF", L64, CODE("\x18\x03"),
	  IN(R(GBX, MM), R(GAX, 0x7f)), .mmio = 0x80, .fl_in = F_CF, .adv = 2,
	  .fl_out = F(F_OF | F_ZF | F_AF | F_PF), RD(MM, 1), WR(MM, 1, 0) },
	{ "sbb [rbx],al: 05-ff-1", L64, CODE("\x18\x03"),
	  IN(R(GBX, MM), R(GAX, 0xff)), .mmio = 0x05, .fl_in = F_CF, .adv = 2,
	  .fl_out = F(F_CF | F_AF | F_PF), RD(MM, 1), WR(MM, 1, 5) },
	{ "sbb eax,[rbx]: no borrow in", L64, CODE("\x1b\x03"),
	  IN(R(GBX, MM), R(GAX, 3)), .mmio = 3, OUT(R(GAX, 0)), .adv = 2,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 4) },
	{ "add byte [rbx],1: AF", L64, CODE("\x80\x03\x01"), IN(R(GBX, MM)),
	  .mmio = 0x0f, .adv = 3, .fl_out = F(F_AF), RD(MM, 1), WR(MM, 1, 0x10) },
	{ "or byte [rbx],80: SF PF", L64, CODE("\x80\x0b\x80"), IN(R(GBX, MM)),
	  .mmio = 0x01, .adv = 3, .fl_out = F(F_SF | F_PF), RD(MM, 1),
	  WR(MM, 1, 0x81) },
	{ "adc byte [rbx],0", L64, CODE("\x80\x13\x00"), IN(R(GBX, MM)),
	  .mmio = 0xff, .fl_in = F_CF, .adv = 3, .fl_out = F(F_CF | F_ZF | F_AF | F_PF),
	  RD(MM, 1), WR(MM, 1, 0) },
	{ "sbb byte [rbx],0", L64, CODE("\x80\x1b\x00"), IN(R(GBX, MM)),
	  .mmio = 0, .fl_in = F_CF, .adv = 3, .fl_out = F(F_CF | F_SF | F_AF | F_PF),
	  RD(MM, 1), WR(MM, 1, 0xff) },
	{ "and byte [rbx],0f", L64, CODE("\x80\x23\x0f"), IN(R(GBX, MM)),
	  .mmio = 0xf0, .adv = 3, .fl_out = F(F_ZF | F_PF), RD(MM, 1),
	  WR(MM, 1, 0) },
	{ "sub byte [rbx],1", L64, CODE("\x80\x2b\x01"), IN(R(GBX, MM)),
	  .mmio = 1, .adv = 3, .fl_out = F(F_ZF | F_PF), RD(MM, 1), WR(MM, 1, 0) },
	{ "xor byte [rbx],ff", L64, CODE("\x80\x33\xff"), IN(R(GBX, MM)),
	  .mmio = 0x0f, .adv = 3, .fl_out = F(F_SF | F_PF), RD(MM, 1),
	  WR(MM, 1, 0xf0) },
	{ "cmp byte [rbx],10", L64, CODE("\x80\x3b\x10"), IN(R(GBX, MM)),
	  .mmio = 0x10, .adv = 3, .fl_out = F(F_ZF | F_PF), RD(MM, 1) },
	{ "add dword [rbx],imm32", L64, CODE("\x81\x03\x00\x00\x00\x80"),
	  IN(R(GBX, MM)), .mmio = 0x80000000, .adv = 6,
	  .fl_out = F(F_CF | F_OF | F_ZF | F_PF), RD(MM, 4), WR(MM, 4, 0) },
	{ "add qword [rbx],simm32", L64, CODE("\x48\x81\x03\xff\xff\xff\xff"),
	  IN(R(GBX, MM)), .mmio = 1, .adv = 7, .fl_out = F(F_CF | F_ZF | F_AF | F_PF),
	  RD(MM, 8), WR(MM, 8, 0) },
	{ "add word [rbx],imm16", L64, CODE("\x66\x81\x03\x34\x12"),
	  IN(R(GBX, MM)), .mmio = 0x1111, .fl_in = F_ALL, .adv = 5,
	  .fl_out = F(0), RD(MM, 2), WR(MM, 2, 0x2345) },
	{ "cmp ecx,imm32", L64, CODE("\x81\xf9\x00\x01\x00\x00"),
	  IN(R(GCX, 0xff)), .adv = 6, .fl_out = F(F_CF | F_SF | F_PF) },
	{ "add dword [rbx],-1 (83)", L64, CODE("\x83\x03\xff"), IN(R(GBX, MM)),
	  .mmio = 1, .adv = 3, .fl_out = F(F_CF | F_ZF | F_AF | F_PF), RD(MM, 4),
	  WR(MM, 4, 0) },
	{ "sub qword [rbx],1 (83)", L64, CODE("\x48\x83\x2b\x01"),
	  IN(R(GBX, MM)), .mmio = 0, .adv = 4, .fl_out = F(F_CF | F_SF | F_AF | F_PF),
	  RD(MM, 8), WR(MM, 8, ~0ULL) },
	{ "cmp word [rbx],-1 (83)", L64, CODE("\x66\x83\x3b\xff"),
	  IN(R(GBX, MM)), .mmio = 0xffff, .adv = 4, .fl_out = F(F_ZF | F_PF),
	  RD(MM, 2) },
	{ "or r8d,1 (83, REX.B)", L64, CODE("\x41\x83\xc8\x01"),
	  IN(R(G8, 0xffffffff00000000)), OUT(R(G8, 1)), .adv = 4,
	  .fl_out = F(0) },
	{ "82 (add byte) in 32-bit mode", P32, CODE("\x82\x03\x01"),
	  IN(R(GBX, MM)), .mmio = 0x7f, .adv = 3, .fl_out = F(F_OF | F_SF | F_AF),
	  RD(MM, 1), WR(MM, 1, 0x80) },
	{ "82 in 64-bit mode: #UD", L64, CODE("\x82\x03\x01"), IN(R(GBX, MM)),
	  E_UD },
	{ "test [rbx],eax", L64, CODE("\x85\x03"),
	  IN(R(GBX, MM), R(GAX, 0x80000001)), .mmio = 0x80000000,
	  .fl_in = F_CF | F_OF, .adv = 2, .fl_out = F(F_SF | F_PF), RD(MM, 4) },
	{ "test [rbx],al: ZF", L64, CODE("\x84\x03"),
	  IN(R(GBX, MM), R(GAX, 0xf0)), .mmio = 0x0f, .adv = 2,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 1) },
	{ "test byte [rbx],imm8", L64, CODE("\xf6\x03\x80"), IN(R(GBX, MM)),
	  .mmio = 0x80, .adv = 3, .fl_out = F(F_SF), RD(MM, 1) },
	{ "test dword [rbx],imm32", L64, CODE("\xf7\x03\x00\x00\x01\x00"),
	  IN(R(GBX, MM)), .mmio = 0x10000, .adv = 6, .fl_out = F(F_PF),
	  RD(MM, 4) },
	{ "test qword [rbx],simm32", L64,
	  CODE("\x48\xf7\x03\x00\x00\x00\x80"), IN(R(GBX, MM)),
	  .mmio = 1ULL << 63, .adv = 7, .fl_out = F(F_SF | F_PF), RD(MM, 8) },
	{ "test word [rbx],imm16", L64, CODE("\x66\xf7\x03\xff\x00"),
	  IN(R(GBX, MM)), .mmio = 0xff00, .adv = 5, .fl_out = F(F_ZF | F_PF),
	  RD(MM, 2) },
	{ "test al,imm8", L64, CODE("\xa8\x01"), IN(R(GAX, 2)), .adv = 2,
	  .fl_out = F(F_ZF | F_PF) },
	{ "test ax,imm16", L64, CODE("\x66\xa9\x00\x80"), IN(R(GAX, 0x8000)),
	  .adv = 4, .fl_out = F(F_SF | F_PF) },
	{ "not dword [rbx]: no flags", L64, CODE("\xf7\x13"), IN(R(GBX, MM)),
	  .mmio = 0x0f0f0f0f, .fl_in = F_CF | F_ZF, .adv = 2, RD(MM, 4),
	  WR(MM, 4, 0xf0f0f0f0) },
	{ "not eax (register)", L64, CODE("\xf7\xd0"),
	  IN(R(GAX, 0xffffffff00000000)), OUT(R(GAX, 0xffffffff)), .adv = 2 },
	{ "neg byte [rbx]: 80", L64, CODE("\xf6\x1b"), IN(R(GBX, MM)),
	  .mmio = 0x80, .adv = 2, .fl_out = F(F_CF | F_OF | F_SF), RD(MM, 1),
	  WR(MM, 1, 0x80) },
	{ "neg dword [rbx]: 0", L64, CODE("\xf7\x1b"), IN(R(GBX, MM)),
	  .mmio = 0, .fl_in = F_CF, .adv = 2, .fl_out = F(F_ZF | F_PF), RD(MM, 4),
	  WR(MM, 4, 0) },
	{ "neg qword [rbx]: 1", L64, CODE("\x48\xf7\x1b"), IN(R(GBX, MM)),
	  .mmio = 1, .adv = 3, .fl_out = F(F_CF | F_SF | F_AF | F_PF), RD(MM, 8),
	  WR(MM, 8, ~0ULL) },
	{ "xchg [rbx],eax", L64, CODE("\x87\x03"),
	  IN(R(GBX, MM), R(GAX, 0xffffffff22222222)), .mmio = 0x11111111,
	  OUT(R(GAX, 0x11111111)), .adv = 2, RD(MM, 4),
	  WR(MM, 4, 0x22222222) },
	{ "xchg [rbx],ah", L64, CODE("\x86\x23"),
	  IN(R(GBX, MM), R(GAX, 0x1234)), .mmio = 0x5a,
	  OUT(R(GAX, 0x5a34)), .adv = 2, RD(MM, 1), WR(MM, 1, 0x12) },
	{ "xchg [rbx],r15", L64, CODE("\x4c\x87\x3b"),
	  IN(R(GBX, MM), R(G15, 7)), .mmio = MMV, OUT(R(G15, MMV)), .adv = 3,
	  RD(MM, 8), WR(MM, 8, 7) },
	{ "xchg [rbx],cx", L64, CODE("\x66\x87\x0b"),
	  IN(R(GBX, MM), R(GCX, 0xaaaabbbb)), .mmio = 0x1234,
	  OUT(R(GCX, 0xaaaa1234)), .adv = 3, RD(MM, 2), WR(MM, 2, 0xbbbb) },
	{ "lock xchg [rbx],ecx", L64, CODE("\xf0\x87\x0b"),
	  IN(R(GBX, MM), R(GCX, 3)), .mmio = 4, OUT(R(GCX, 4)), .adv = 3,
	  RD(MM, 4), WR(MM, 4, 3) },
	{ "xchg eax,ecx (register)", L64, CODE("\x87\xc8"),
	  IN(R(GAX, 1), R(GCX, 2)), OUT(R(GAX, 2), R(GCX, 1)), .adv = 2 },
	{ "xchg eax,eax (87) zero-extends", L64, CODE("\x87\xc0"),
	  IN(R(GAX, ~0ULL)), OUT(R(GAX, 0xffffffff)), .adv = 2 },
};

/* Lock, #E_UD encodings, unsupported instructions. */
static const struct ecase prefix_cases[] = {
	{ "lock add [rbx],eax", L64, CODE("\xf0\x01\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 1, .adv = 3, .fl_out = F(0),
	  RD(MM, 4), WR(MM, 4, 2) },
	{ "lock or dword [rbx],1", L64, CODE("\xf0\x83\x0b\x01"),
	  IN(R(GBX, MM)), .mmio = 2, .adv = 4, .fl_out = F(F_PF), RD(MM, 4),
	  WR(MM, 4, 3) },
	{ "lock neg dword [rbx]", L64, CODE("\xf0\xf7\x1b"), IN(R(GBX, MM)),
	  .mmio = 0, .adv = 3, .fl_out = F(F_ZF | F_PF), RD(MM, 4), WR(MM, 4, 0) },
	{ "lock not byte [rbx]", L64, CODE("\xf0\xf6\x13"), IN(R(GBX, MM)),
	  .mmio = 0, .adv = 3, RD(MM, 1), WR(MM, 1, 0xff) },
	{ "lock add ebx,eax: #UD", L64, CODE("\xf0\x01\xc3"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock add eax,[rbx]: #UD", L64, CODE("\xf0\x03\x03"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock mov [rbx],eax: #UD", L64, CODE("\xf0\x89\x03"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock cmp [rbx],eax: #UD", L64, CODE("\xf0\x39\x03"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock cmp byte [rbx],1: #UD", L64, CODE("\xf0\x80\x3b\x01"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock test [rbx],eax: #UD", L64, CODE("\xf0\x85\x03"),
	  IN(R(GBX, MM)), E_UD },
	{ "lock stosd: #UD", L64, CODE("\xf0\xab"), IN(R(GDI, MM)), E_UD },
	{ "lock movzx: #UD", L64, CODE("\xf0\x0f\xb6\x03"), IN(R(GBX, MM)), E_UD },
	{ "lock xchg eax,ecx: #UD", L64, CODE("\xf0\x87\xc8"), E_UD },
	{ "lock add al,imm: #UD", L64, CODE("\xf0\x04\x01"), E_UD },
	{ "c6 /1: #UD", L64, CODE("\xc6\x0b\x01"), IN(R(GBX, MM)), E_UD },
	{ "c7 /7 memory: #UD", L64, CODE("\xc7\x3b\x00\x00\x00\x00"),
	  IN(R(GBX, MM)), E_UD },
	{ "xbegin: unhandled", L64, CODE("\xc7\xf8\x00\x00\x00\x00"), UNH },
	{ "ud2: unhandled", L64, CODE("\x0f\x0b"), UNH },
	{ "inc dword [rbx]: unhandled", L64, CODE("\xff\x03"), IN(R(GBX, MM)),
	  UNH },
	{ "mul byte [rbx]: unhandled", L64, CODE("\xf6\x23"), IN(R(GBX, MM)),
	  UNH },
	{ "f6 /1: unhandled", L64, CODE("\xf6\x0b\x01"), IN(R(GBX, MM)), UNH },
	{ "lea: unhandled", L64, CODE("\x8d\x03"), UNH },
	{ "mov ds,ax: unhandled", L64, CODE("\x8e\xd8"), UNH },
	{ "f3 0f b6: unhandled", L64, CODE("\xf3\x0f\xb6\x03"), UNH },
	{ "vex (vzeroupper): unhandled", L64, CODE("\xc5\xf8\x77"), UNH },
	{ "cmpsb: unhandled", L64, CODE("\xa6"), UNH },
	{ "push es (32-bit): unhandled", P32, CODE("\x06"), UNH },
	{ "arpl (32-bit): unhandled", P32, CODE("\x63\x03"), UNH },
	{ "40 is inc eax in 32-bit mode", P32, CODE("\x48\x8b\x03"), UNH },
	{ "rep is ignored on mov", L64, CODE("\xf3\x89\x03"),
	  IN(R(GBX, MM), R(GAX, 1)), .adv = 3, WR(MM, 4, 1) },
	{ "15 bytes: 13 prefixes + mov", L64,
	  CODE("\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x8b\x03"),
	  IN(R(GBX, MM)), .mmio = 1, OUT(R(GAX, 1)), .adv = 15, RD(MM, 4) },
	{ "16 bytes: 14 prefixes + mov: #GP", L64,
	  CODE("\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x26\x8b\x03"),
	  IN(R(GBX, MM)), E_GP },
	{ "16 bytes: 10 prefixes + c7 imm32: #GP", L64,
	  CODE("\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x67\xc7\x03\x00\x00\x00\x00"),
	  IN(R(GBX, MM)), E_GP },
	{ "16 prefixes: #GP", L64,
	  CODE("\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"),
	  E_GP },
};

/* Real mode, 16-bit protected mode, 32-bit protected mode. */
static const struct ecase mode_cases[] = {
	{ "real: mov ax,[bx+si+disp8]", RM, CODE("\x8b\x40\x10"),
	  IN(R(GAX, 0xffffffff), R(GBX, 0xd000), R(GSI, 0x0ff0)), .mmio = MMV,
	  OUT(R(GAX, 0xffff7788)), .adv = 3, RD(MM, 2) },
	{ "real: mov ax,[bx+di]", RM, CODE("\x8b\x01"),
	  IN(R(GBX, 0xd000), R(GDI, 0x1000)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: mov ax,[bp+si] uses SS", RM, CODE("\x8b\x02"),
	  IN(R(GBP, 0xc000), R(GSI, 0x1000)), SG(S(SS, 0, 0x1000, 0)),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: mov ax,[bp+di+disp16]", RM, CODE("\x8b\x83\x00\x10"),
	  IN(R(GBP, 0xc000)), SG(S(SS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 4, RD(MM, 2) },
	{ "real: mov ax,[si]", RM, CODE("\x8b\x04"), IN(R(GSI, MM)),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: mov ax,[di]", RM, CODE("\x8b\x05"), IN(R(GDI, MM)),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: mov ax,[disp16]", RM, CODE("\x8b\x06\x00\xe0"), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 4, RD(MM, 2) },
	{ "real: mov ax,[bp+disp8] uses SS", RM, CODE("\x8b\x46\x10"),
	  IN(R(GBP, 0xcff0)), SG(S(SS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 3, RD(MM, 2) },
	{ "real: mov ax,[bx]", RM, CODE("\x8b\x07"), IN(R(GBX, MM)),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: mov ax,[bx-1]", RM, CODE("\x8b\x47\xff"), IN(R(GBX, MM + 1)),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 3, RD(MM, 2) },
	{ "real: [bx+si] wraps at 64K", RM, CODE("\x8b\x00"),
	  IN(R(GBX, 0xf000), R(GSI, 0xf000)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "real: [bx] ignores upper bits", RM, CODE("\x8b\x07"),
	  IN(R(GBX, 0x1234e000)), .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 2,
	  RD(MM, 2) },
	{ "real: es: override", RM, CODE("\x26\x8b\x07"), IN(R(GBX, 0xd000)),
	  SG(S(ES, 0, 0x1000, 0)), .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 3,
	  RD(MM, 2) },
	{ "real: ds: override on [bp]", RM, CODE("\x3e\x8b\x46\x00"),
	  IN(R(GBP, MM)), SG(S(SS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 4, RD(MM, 2) },
	{ "real: mov eax,[bx] (66)", RM, CODE("\x66\x8b\x07"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 3, RD(MM, 4) },
	{ "real: mov ax,[ebx+ecx*2] (67)", RM, CODE("\x67\x8b\x04\x4b"),
	  IN(R(GBX, 0xd000), R(GCX, 0x800)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 4, RD(MM, 2) },
	{ "real: mov word [bx],imm16", RM, CODE("\xc7\x07\x34\x12"),
	  IN(R(GBX, MM)), .adv = 4, WR(MM, 2, 0x1234) },
	{ "real: mov ax,[moffs16]", RM, CODE("\xa1\x00\xe0"), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 3, RD(MM, 2) },
	{ "real: mov [moffs16],al", RM, CODE("\xa2\x02\xe0"), IN(R(GAX, 0x99)),
	  .adv = 3, WR(MM + 2, 1, 0x99) },
	{ "real: mov ax,[moffs32] (67)", RM, CODE("\x67\xa1\x00\xe0\x00\x00"),
	  .mmio = MMV, OUT(R(GAX, 0x7788)), .adv = 6, RD(MM, 2) },
	{ "real: add [bx],ax", RM, CODE("\x01\x07"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 0x7fff, .adv = 2,
	  .fl_out = F(F_OF | F_SF | F_AF | F_PF), RD(MM, 2), WR(MM, 2, 0x8000) },
	{ "real: movzx ax,byte [bx]", RM, CODE("\x0f\xb6\x07"),
	  IN(R(GAX, 0xffffffff), R(GBX, MM)), .mmio = 0xfe,
	  OUT(R(GAX, 0xffff00fe)), .adv = 3, RD(MM, 1) },
	{ "real: movsx eax,word [bx]", RM, CODE("\x66\x0f\xbf\x07"),
	  IN(R(GBX, MM)), .mmio = 0x8001, OUT(R(GAX, 0xffff8001)), .adv = 4,
	  RD(MM, 2) },
	{ "real: no limit checks", RM, CODE("\x8b\x07"), IN(R(GBX, MM)),
	  SG(S(DS, S_RO, 0, 0x10)), .mmio = MMV, OUT(R(GAX, 0x7788)),
	  .adv = 2, RD(MM, 2) },
	{ "real: REX bytes are inc/dec", RM, CODE("\x41\x8b\x07"), UNH },
	{ "real: arpl", RM, CODE("\x63\x07"), UNH },
	{ "p16: mov ax,[bx+si]", P16, CODE("\x8b\x00"),
	  IN(R(GBX, 0xd000), R(GSI, 0x1000)), .mmio = MMV,
	  OUT(R(GAX, 0x7788)), .adv = 2, RD(MM, 2) },
	{ "p16: mov [bp+di],al uses SS", P16, CODE("\x88\x03"),
	  IN(R(GBP, 0xd000), R(GAX, 0x42)), SG(S(SS, 0, 0x1000, 0)),
	  .adv = 2, WR(MM, 1, 0x42) },
	{ "p16: word at ffff: #GP", P16, CODE("\x8b\x07"), IN(R(GBX, 0xffff)),
	  E_GP },
	{ "p16: byte at ffff is within the limit", P16, CODE("\x8a\x07"),
	  IN(R(GBX, 0xffff)), .mmio = MMV, OUT(R(GAX, 0x88)), .adv = 2,
	  RD(0xffff, 1) },
	{ "real: cmp byte [bx+si],imm8", RM, CODE("\x80\x38\x05"),
	  IN(R(GBX, MM)), .mmio = 5, .adv = 3, .fl_out = F(F_ZF | F_PF),
	  RD(MM, 1) },
	{ "real: mov byte [bp+di+1],imm8", RM, CODE("\xc6\x43\x01\x55"),
	  IN(R(GBP, MM - 1)), .adv = 4, WR(MM, 1, 0x55) },
	{ "real: test [bx],ax", RM, CODE("\x85\x07"),
	  IN(R(GBX, MM), R(GAX, 0x8000)), .mmio = 0x8001, .adv = 2,
	  .fl_out = F(F_SF | F_PF), RD(MM, 2) },
	{ "real: sub ax,[bx]", RM, CODE("\x2b\x07"),
	  IN(R(GBX, MM), R(GAX, 0xabcd0001)), .mmio = 2,
	  OUT(R(GAX, 0xabcdffff)), .adv = 2,
	  .fl_out = F(F_CF | F_SF | F_AF | F_PF), RD(MM, 2) },
	{ "real: lock add [bx],ax", RM, CODE("\xf0\x01\x07"),
	  IN(R(GBX, MM), R(GAX, 1)), .mmio = 1, .adv = 3, .fl_out = F(0),
	  RD(MM, 2), WR(MM, 2, 2) },
	{ "real: xchg [bx],al", RM, CODE("\x86\x07"),
	  IN(R(GBX, MM), R(GAX, 0x1234)), .mmio = 0x56, OUT(R(GAX, 0x1256)),
	  .adv = 2, RD(MM, 1), WR(MM, 1, 0x34) },
	{ "real: rep stosd (66), cx=1", RM, CODE("\x66\xf3\xab"),
	  IN(R(GDI, MM), R(GCX, 1), R(GAX, 0x11223344)),
	  OUT(R(GDI, MM + 4), R(GCX, 0)), .adv = 3, WR(MM, 4, 0x11223344) },
	{ "p16: mov eax,[ebx] (66 67)", P16, CODE("\x66\x67\x8b\x03"),
	  IN(R(GBX, MM)), .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 4,
	  RD(MM, 4) },
	{ "p16: mov [moffs16],ax", P16, CODE("\xa3\x00\xe0"),
	  IN(R(GAX, 0xbeef)), .adv = 3, WR(MM, 2, 0xbeef) },
	{ "p16: add word [bx],1 (83)", P16, CODE("\x83\x07\x01"),
	  IN(R(GBX, MM)), .mmio = 0xffff, .adv = 3,
	  .fl_out = F(F_CF | F_ZF | F_AF | F_PF), RD(MM, 2), WR(MM, 2, 0) },
	{ "p16: test byte [bx],imm8", P16, CODE("\xf6\x07\x01"),
	  IN(R(GBX, MM)), .mmio = 0, .adv = 3, .fl_out = F(F_ZF | F_PF),
	  RD(MM, 1) },
	{ "p16: xchg [bx],ax", P16, CODE("\x87\x07"),
	  IN(R(GBX, MM), R(GAX, 0x1111)), .mmio = 0x2222, OUT(R(GAX, 0x2222)),
	  .adv = 2, RD(MM, 2), WR(MM, 2, 0x1111) },
	{ "p16: movsx ax,byte [bx]", P16, CODE("\x0f\xbe\x07"),
	  IN(R(GBX, MM)), .mmio = 0x80, OUT(R(GAX, 0xff80)), .adv = 3,
	  RD(MM, 1) },
	{ "p16: stosw", P16, CODE("\xab"), IN(R(GDI, MM), R(GAX, 0x4242)),
	  OUT(R(GDI, MM + 2)), .adv = 1, WR(MM, 2, 0x4242) },
	{ "p16: rep movsb, cx=1, segment bases", P16, CODE("\xf3\xa4"),
	  IN(R(GSI, 0xd000), R(GDI, MM + 0x100), R(GCX, 1)),
	  SG(S(DS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GSI, 0xd001), R(GDI, MM + 0x101), R(GCX, 0)), .adv = 2,
	  RD(MM, 1), WR(MM + 0x100, 1, 0x88) },
	{ "p16: lock add ax,ax: #UD", P16, CODE("\xf0\x01\xc0"), E_UD },
	{ "p32: movzx eax,word [ebx]", P32, CODE("\x0f\xb7\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = 0xfedc,
	  OUT(R(GAX, 0xfedc)), .adv = 3, RD(MM, 2) },
	{ "p32: movsx eax,byte [ebx+esi*2+disp32]", P32,
	  CODE("\x0f\xbe\x84\x73\x00\x10\x00\x00"),
	  IN(R(GBX, 0xc000), R(GSI, 0x800)), .mmio = 0x90,
	  OUT(R(GAX, 0xffffff90)), .adv = 8, RD(MM, 1) },
	{ "p32: or dword [ebx],imm32", P32, CODE("\x81\x0b\x00\x00\x00\x80"),
	  IN(R(GBX, MM)), .mmio = 1, .adv = 6, .fl_out = F(F_SF), RD(MM, 4),
	  WR(MM, 4, 0x80000001) },
	{ "p32: and byte [ebx],0", P32, CODE("\x80\x23\x00"),
	  IN(R(GBX, MM)), .mmio = 0xff, .fl_in = F_CF | F_OF, .adv = 3,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 1), WR(MM, 1, 0) },
	{ "p32: neg word [ebx]: 8000", P32, CODE("\x66\xf7\x1b"),
	  IN(R(GBX, MM)), .mmio = 0x8000, .adv = 3,
	  .fl_out = F(F_CF | F_OF | F_SF | F_PF), RD(MM, 2),
	  WR(MM, 2, 0x8000) },
	{ "p32: not byte [ebx]", P32, CODE("\xf6\x13"), IN(R(GBX, MM)),
	  .mmio = 0x5a, .adv = 2, RD(MM, 1), WR(MM, 1, 0xa5) },
	{ "p32: mov byte [ebx],imm8", P32, CODE("\xc6\x03\x77"),
	  IN(R(GBX, MM)), .adv = 3, WR(MM, 1, 0x77) },
	{ "p32: mov [ebx],bh", P32, CODE("\x88\x3b"), IN(R(GBX, MM)),
	  .adv = 2, WR(MM, 1, 0xe0) },
	{ "p32: rep stosd, ecx=0", P32, CODE("\xf3\xab"), IN(R(GDI, MM)),
	  .adv = 2 },
	{ "p32: lodsd, DF=1", P32, CODE("\xad"), IN(R(GSI, MM)),
	  .fl_in = F_DF, .mmio = MMV, OUT(R(GSI, MM - 4), R(GAX, 0x55667788)),
	  .adv = 1, RD(MM, 4) },
	{ "p32: mov eax,[ebx]", P32, CODE("\x8b\x03"),
	  IN(R(GAX, ~0ULL), R(GBX, MM)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 2, RD(MM, 4) },
	{ "p32: mov ax,[ebx] (66)", P32, CODE("\x66\x8b\x03"),
	  IN(R(GAX, 0xffffffff), R(GBX, MM)), .mmio = MMV,
	  OUT(R(GAX, 0xffff7788)), .adv = 3, RD(MM, 2) },
	{ "p32: mov eax,[bx+si] (67)", P32, CODE("\x67\x8b\x00"),
	  IN(R(GBX, 0xd000), R(GSI, 0x1000)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 3, RD(MM, 4) },
	{ "p32: mov eax,[ebp+8] uses SS", P32, CODE("\x8b\x45\x08"),
	  IN(R(GBP, 0xcff8)), SG(S(SS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 3, RD(MM, 4) },
	{ "p32: mov eax,[esp+4] uses SS", P32, CODE("\x8b\x44\x24\x04"),
	  IN(R(GSP, 0xcffc)), SG(S(SS, 0, 0x1000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 4, RD(MM, 4) },
	{ "p32: es: override", P32, CODE("\x26\x8b\x03"), IN(R(GBX, 0xd000)),
	  SG(S(ES, 0, 0x1000, 0)), .mmio = MMV, OUT(R(GAX, 0x55667788)),
	  .adv = 3, RD(MM, 4) },
	{ "p32: [disp32] is absolute", P32, CODE("\x89\x05\x00\xe0\x00\x00"),
	  IN(R(GAX, 5)), .adv = 6, WR(MM, 4, 5) },
	{ "p32: mov eax,[moffs32]", P32, CODE("\xa1\x00\xe0\x00\x00"),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 5, RD(MM, 4) },
	{ "p32: mov [moffs32],ax (66)", P32, CODE("\x66\xa3\x00\xe0\x00\x00"),
	  IN(R(GAX, 0x4321)), .adv = 6, WR(MM, 2, 0x4321) },
	{ "p32: mov eax,[moffs16] (67)", P32, CODE("\x67\xa1\x00\xe0"),
	  .mmio = MMV, OUT(R(GAX, 0x55667788)), .adv = 4, RD(MM, 4) },
	{ "p32: linear address wraps at 4G", P32, CODE("\x8b\x03"),
	  IN(R(GBX, 0x1e000)), SG(S(DS, 0, 0xffff0000, 0)), .mmio = MMV,
	  OUT(R(GAX, 0x55667788)), .adv = 2, RD(MM, 4) },
	{ "p32: sub [ebx],eax", P32, CODE("\x29\x03"),
	  IN(R(GBX, MM), R(GAX, 0x80000000)), .mmio = 0x7fffffff, .adv = 2,
	  .fl_out = F(F_CF | F_OF | F_SF | F_PF), RD(MM, 4), WR(MM, 4, 0xffffffff) },
	{ "p32: xchg [ebx],al", P32, CODE("\x86\x03"),
	  IN(R(GBX, MM), R(GAX, 0x11)), .mmio = 0x22, OUT(R(GAX, 0x22)),
	  .adv = 2, RD(MM, 1), WR(MM, 1, 0x11) },
};

/* movs, stos, lods, with and without rep. */
static const struct ecase string_cases[] = {
	{ "stosb", L64, CODE("\xaa"), IN(R(GDI, MM), R(GAX, 0x5a)),
	  OUT(R(GDI, MM + 1)), .adv = 1, WR(MM, 1, 0x5a) },
	{ "stosd, DF=1", L64, CODE("\xab"), IN(R(GDI, MM + 8), R(GAX, MMV)),
	  .fl_in = F_DF, OUT(R(GDI, MM + 4)), .adv = 1, WR(MM + 8, 4, 0x55667788) },
	{ "stosq", L64, CODE("\x48\xab"), IN(R(GDI, MM), R(GAX, MMV)),
	  OUT(R(GDI, MM + 8)), .adv = 2, WR(MM, 8, MMV) },
	{ "stosw", L64, CODE("\x66\xab"), IN(R(GDI, MM), R(GAX, MMV)),
	  OUT(R(GDI, MM + 2)), .adv = 2, WR(MM, 2, 0x7788) },
	{ "stosb ignores es: base", L64, CODE("\xaa"),
	  IN(R(GDI, MM), R(GAX, 1)), SG(S(ES, 0, 0x1000, 0)),
	  OUT(R(GDI, MM + 1)), .adv = 1, WR(MM, 1, 1) },
	{ "movsb mmio -> ram", L64, CODE("\xa4"),
	  IN(R(GSI, MM), R(GDI, RAM_BASE)), .mmio = MMV,
	  OUT(R(GSI, MM + 1), R(GDI, RAM_BASE + 1)), .adv = 1, RD(MM, 1),
	  WR(RAM_BASE, 1, 0x88) },
	{ "movsd ram -> mmio", L64, CODE("\xa5"),
	  IN(R(GSI, RAM_BASE + 0x10), R(GDI, MM)),
	  OUT(R(GSI, RAM_BASE + 0x14), R(GDI, MM + 4)), .adv = 1,
	  RD(RAM_BASE + 0x10, 4), WR(MM, 4, 0x13121110) },
	{ "movsq, DF=1", L64, CODE("\x48\xa5"),
	  IN(R(GSI, MM), R(GDI, RAM_BASE + 0x100)), .mmio = MMV, .fl_in = F_DF,
	  OUT(R(GSI, MM - 8), R(GDI, RAM_BASE + 0xf8)), .adv = 2, RD(MM, 8),
	  WR(RAM_BASE + 0x100, 8, MMV) },
	{ "movsb fs: source", L64, CODE("\x64\xa4"),
	  IN(R(GSI, 0xd000), R(GDI, RAM_BASE)), SG(S(FS, 0, 0x1000, 0)),
	  .mmio = MMV, OUT(R(GSI, 0xd001), R(GDI, RAM_BASE + 1)), .adv = 2,
	  RD(MM, 1), WR(RAM_BASE, 1, 0x88) },
	{ "lodsb", L64, CODE("\xac"), IN(R(GSI, MM), R(GAX, ~0ULL)),
	  .mmio = MMV, OUT(R(GSI, MM + 1), R(GAX, 0xffffffffffffff88)),
	  .adv = 1, RD(MM, 1) },
	{ "lodsd zero-extends", L64, CODE("\xad"),
	  IN(R(GSI, MM), R(GAX, ~0ULL)), .mmio = MMV,
	  OUT(R(GSI, MM + 4), R(GAX, 0x55667788)), .adv = 1, RD(MM, 4) },
	{ "lodsq", L64, CODE("\x48\xad"), IN(R(GSI, MM)), .mmio = MMV,
	  OUT(R(GSI, MM + 8), R(GAX, MMV)), .adv = 2, RD(MM, 8) },
	{ "rep stosd, rcx=0: nothing", L64, CODE("\xf3\xab"),
	  IN(R(GDI, MM), R(GCX, 0)), .adv = 2 },
	{ "rep stosd, rcx=1: last", L64, CODE("\xf3\xab"),
	  IN(R(GDI, MM), R(GCX, 1), R(GAX, 7)),
	  OUT(R(GDI, MM + 4), R(GCX, 0)), .adv = 2, WR(MM, 4, 7) },
	{ "rep stosd, rcx=3: rip stays", L64, CODE("\xf3\xab"),
	  IN(R(GDI, MM), R(GCX, 3), R(GAX, 7)),
	  OUT(R(GDI, MM + 4), R(GCX, 2)), .adv = 0, WR(MM, 4, 7) },
	{ "rep movsb, DF=1, rcx=5", L64, CODE("\xf3\xa4"),
	  IN(R(GSI, MM + 4), R(GDI, RAM_BASE + 4), R(GCX, 5)), .mmio = MMV,
	  .fl_in = F_DF,
	  OUT(R(GSI, MM + 3), R(GDI, RAM_BASE + 3), R(GCX, 4)), .adv = 0,
	  RD(MM + 4, 1), WR(RAM_BASE + 4, 1, 0x88) },
	{ "rep movsq, rcx=1", L64, CODE("\xf3\x48\xa5"),
	  IN(R(GSI, RAM_BASE), R(GDI, MM), R(GCX, 1)),
	  OUT(R(GSI, RAM_BASE + 8), R(GDI, MM + 8), R(GCX, 0)), .adv = 3,
	  RD(RAM_BASE, 8), WR(MM, 8, 0x0706050403020100) },
	{ "repne (f2) stosb repeats too", L64, CODE("\xf2\xaa"),
	  IN(R(GDI, MM), R(GCX, 2), R(GAX, 3)),
	  OUT(R(GDI, MM + 1), R(GCX, 1)), .adv = 0, WR(MM, 1, 3) },
	{ "rep lodsw, rcx=2", L64, CODE("\xf3\x66\xad"),
	  IN(R(GSI, MM), R(GCX, 2)), .mmio = MMV,
	  OUT(R(GSI, MM + 2), R(GCX, 1), R(GAX, 0x7788)), .adv = 0, RD(MM, 2) },
	{ "67 rep stosd: ecx, edi", L64, CODE("\x67\xf3\xab"),
	  IN(R(GDI, 0xffffffff00000000 | MM), R(GCX, 0xffffffff00000001),
	     R(GAX, 1)),
	  OUT(R(GDI, MM + 4), R(GCX, 0)), .adv = 3, WR(MM, 4, 1) },
	{ "67 rep stosd: ecx=0 (upper bits set)", L64, CODE("\x67\xf3\xab"),
	  IN(R(GDI, MM), R(GCX, 0xffffffff00000000)), .adv = 3 },
	{ "real: rep stosb, DF=1: cx, di", RM, CODE("\xf3\xaa"),
	  IN(R(GDI, 0x5555e000), R(GCX, 0x12340002), R(GAX, 0xab)),
	  .fl_in = F_DF, OUT(R(GDI, 0x5555dfff), R(GCX, 0x12340001)), .adv = 0,
	  WR(MM, 1, 0xab) },
	{ "real: movsw ds:si -> es:di", RM, CODE("\xa5"),
	  IN(R(GSI, 0xd000), R(GDI, 0x10)),
	  SG(S(DS, 0, 0x1000, 0), S(ES, 0, RAM_BASE, 0)), .mmio = MMV,
	  OUT(R(GSI, 0xd002), R(GDI, 0x12)), .adv = 1, RD(MM, 2),
	  WR(RAM_BASE + 0x10, 2, 0x7788) },
	{ "real: rep movsw, cx=0 (upper set)", RM, CODE("\xf3\xa5"),
	  IN(R(GCX, 0xffff0000)), .adv = 2 },
	{ "real: di wraps at 64K", RM, CODE("\xaa"),
	  IN(R(GDI, 0xffff), R(GAX, 1)), OUT(R(GDI, 0)), .adv = 1,
	  WR(0xffff, 1, 1) },
	{ "p32: rep movsd", P32, CODE("\xf3\xa5"),
	  IN(R(GSI, MM), R(GDI, RAM_BASE), R(GCX, 2)), .mmio = MMV,
	  OUT(R(GSI, MM + 4), R(GDI, RAM_BASE + 4), R(GCX, 1)), .adv = 0,
	  RD(MM, 4), WR(RAM_BASE, 4, 0x55667788) },
	{ "p32: 67 rep stosb: cx, di", P32, CODE("\x67\xf3\xaa"),
	  IN(R(GDI, 0x1e000), R(GCX, 0x10001), R(GAX, 9)),
	  OUT(R(GDI, 0x1e001), R(GCX, 0x10000)), .adv = 3, WR(MM, 1, 9) },
	{ "p32: es: override does not apply to stos", P32, CODE("\x64\xab"),
	  IN(R(GDI, MM), R(GAX, 2)), SG(S(FS, 0, 0x1000, 0)),
	  OUT(R(GDI, MM + 4)), .adv = 2, WR(MM, 4, 2) },
};

/* Segment limits and attributes, canonical addresses. */
static const struct ecase seg_cases[] = {
	{ "p32: dword ending at the limit", P32, CODE("\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(DS, 0, 0, MM + 3)), .mmio = 1, OUT(R(GAX, 1)),
	  .adv = 2, RD(MM, 4) },
	{ "p32: dword crossing the limit: #GP", P32, CODE("\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(DS, 0, 0, MM + 2)), E_GP },
	{ "p32: ss-based beyond the limit: #SS", P32, CODE("\x8b\x45\x00"),
	  IN(R(GBP, MM)), SG(S(SS, 0, 0, MM - 1)), E_SS },
	{ "p32: ss: override beyond the limit: #SS", P32, CODE("\x36\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(SS, 0, 0, MM - 1)), E_SS },
	{ "p32: ds: override on [ebp] checks DS", P32, CODE("\x3e\x8b\x45\x00"),
	  IN(R(GBP, MM)), SG(S(SS, 0, 0, MM - 1)), .mmio = 3, OUT(R(GAX, 3)),
	  .adv = 4, RD(MM, 4) },
	{ "p32: write to read-only: #GP", P32, CODE("\x89\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_RO, 0, 0)), E_GP },
	{ "p32: read from read-only", P32, CODE("\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_RO, 0, 0)), .mmio = 3, OUT(R(GAX, 3)),
	  .adv = 2, RD(MM, 4) },
	{ "p32: rmw on read-only: #GP before the read", P32, CODE("\x01\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_RO, 0, 0)), E_GP },
	{ "p32: cmp on read-only is fine", P32, CODE("\x39\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_RO, 0, 0)), .mmio = 0, .adv = 2,
	  .fl_out = F(F_ZF | F_PF), RD(MM, 4) },
	{ "p32: expand-down, above the limit", P32, CODE("\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_ED | S_BIG, 0, MM - 1)), .mmio = 3,
	  OUT(R(GAX, 3)), .adv = 2, RD(MM, 4) },
	{ "p32: expand-down, at the limit: #GP", P32, CODE("\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(DS, S_ED | S_BIG, 0, MM)), E_GP },
	{ "p16: expand-down small, past 64K: #GP", P16, CODE("\x66\x8b\x07"),
	  IN(R(GBX, 0xfffe)), SG(S(DS, S_ED | S_SMALL, 0, 0xfff)), E_GP },
	{ "p32: null ds: #GP", P32, CODE("\x8b\x03"), IN(R(GBX, MM)),
	  SG(S(DS, S_NULL, 0, 0)), E_GP },
	{ "p32: null es on stos: #GP", P32, CODE("\xab"), IN(R(GDI, MM)),
	  SG(S(ES, S_NULL, 0, 0)), E_GP },
	{ "p32: cs: read, readable", P32, CODE("\x2e\x8b\x03"),
	  IN(R(GBX, MM)), .mmio = 3, OUT(R(GAX, 3)), .adv = 3, RD(MM, 4) },
	{ "p32: cs: read, execute-only: #GP", P32, CODE("\x2e\x8b\x03"),
	  IN(R(GBX, MM)), SG(S(CS, S_XO, 0, 0)), E_GP },
	{ "p32: cs: write: #GP", P32, CODE("\x2e\x89\x03"), IN(R(GBX, MM)), E_GP },
	{ "p32: stos beyond es limit: #GP", P32, CODE("\xab"), IN(R(GDI, MM)),
	  SG(S(ES, 0, 0, MM - 1)), E_GP },
	{ "p32: movs dst fault: no source read", P32, CODE("\xa5"),
	  IN(R(GSI, MM), R(GDI, MM + 0x100)), SG(S(ES, 0, 0, MM + 0xff)), E_GP },
	{ "p32: rep movs src fault, rcx kept", P32, CODE("\xf3\xa5"),
	  IN(R(GSI, MM), R(GDI, RAM_BASE), R(GCX, 4)),
	  SG(S(DS, 0, 0, MM + 2)), E_GP },
	{ "p32: fetch beyond cs limit: #GP", P32, CODE("\xc7\x03\x00\x00\x00\x00"),
	  IN(R(GBX, MM)), SG(S(CS, 0, 0, RIP0 + 4)), E_GP },
	{ "p32: instruction ending at cs limit", P32,
	  CODE("\xc7\x03\x01\x00\x00\x00"), IN(R(GBX, MM)),
	  SG(S(CS, 0, 0, RIP0 + 5)), .adv = 6, WR(MM, 4, 1) },
	{ "64: non-canonical: #GP", L64, CODE("\x8b\x03"),
	  IN(R(GBX, 0x0000800000000000)), E_GP },
	{ "64: straddling the canonical edge: #GP", L64, CODE("\x8b\x03"),
	  IN(R(GBX, 0x00007ffffffffffe)), E_GP },
	{ "64: non-canonical via rbp: #SS", L64, CODE("\x8b\x45\x00"),
	  IN(R(GBP, 0x8000000000000000)), E_SS },
	{ "64: non-canonical via r13 (ds): #GP", L64, CODE("\x41\x8b\x45\x00"),
	  IN(R(G13, 0x8000000000000000)), E_GP },
	{ "64: fs base makes it non-canonical: #GP", L64, CODE("\x64\x8b\x03"),
	  SG(S(FS, 0, 0x0000800000000000, 0)), E_GP },
	{ "64: non-canonical stos: #GP", L64, CODE("\xab"),
	  IN(R(GDI, 0x0001000000000000)), E_GP },
	{ "64: high canonical reaches the callback", L64, CODE("\x8b\x03"),
	  IN(R(GBX, 0xffff800000000000)), E_PF },
	{ "64: la57: 57-bit canonical reaches the callback", L64,
	  CODE("\x8b\x03"), IN(R(GBX, 0x0000800000000000)), .la57 = true, E_PF },
	{ "64: la57: non-canonical: #GP", L64, CODE("\x8b\x03"),
	  IN(R(GBX, 0x0100000000000000)), .la57 = true, E_GP },
	{ "64: limits are not checked", L64, CODE("\x89\x03"), IN(R(GBX, MM)),
	  SG(S(DS, S_RO | S_NULL, 0, 1)), .adv = 2, WR(MM, 4, 0) },
	{ "callback #PF on read: nothing changes", L64, CODE("\x01\x03"),
	  IN(R(GBX, 0x100000), R(GAX, 1)), E_PF },
	{ "callback #PF on write: nothing changes", L64, CODE("\xab"),
	  IN(R(GDI, 0x100000), R(GAX, 1)), E_PF },
};

KUNIT_ARRAY_PARAM(mov, mov_cases, case_desc);
KUNIT_ARRAY_PARAM(movx, movx_cases, case_desc);
KUNIT_ARRAY_PARAM(alu, alu_cases, case_desc);
KUNIT_ARRAY_PARAM(prefix, prefix_cases, case_desc);
KUNIT_ARRAY_PARAM(mode, mode_cases, case_desc);
KUNIT_ARRAY_PARAM(string, string_cases, case_desc);
KUNIT_ARRAY_PARAM(seg, seg_cases, case_desc);

static void emu_mov(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_movx(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_alu(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_prefix(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_mode(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_string(struct kunit *test)
{
	run_case(test, test->param_value);
}

static void emu_seg(struct kunit *test)
{
	run_case(test, test->param_value);
}

/* ------------------------------------------------------------------------
 * Sequences: retry after EXIT, rep loops, fetch edge cases, decode only
 */

struct snap {
	u64 regs[16];
	u64 rip, rflags;
};

static void take(struct snap *s, const struct khv_emul_ctxt *c)
{
	memcpy(s->regs, c->regs, sizeof(s->regs));
	s->rip = c->rip;
	s->rflags = c->rflags;
}

static bool same(const struct snap *s, const struct khv_emul_ctxt *c)
{
	return !memcmp(s->regs, c->regs, sizeof(s->regs)) &&
	       s->rip == c->rip && s->rflags == c->rflags;
}

static void set_code(struct fake *f, enum khv_cpu_mode mode, const void *code,
		     unsigned int len)
{
	reset(f, mode);
	place(f, RIP0, code, len);
}

/* A read answering EXIT: nothing committed, then the retry completes. */
static void emu_exit_retry(struct kunit *test)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	struct snap s;

	/* add [rbx],eax */
	set_code(f, KHV_MODE_LONG64, "\x01\x03", 2);
	c->regs[GBX] = MM;
	c->regs[GAX] = 1;
	c->rflags = 2 | F_CF;
	f->mmio_val = 0x7fffffff;
	f->read_exits = 1;
	take(&s, c);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_EXIT);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_EQ(test, f->nlog, 0u);
	KUNIT_EXPECT_EQ(test, f->nexits, 1u);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 2);
	KUNIT_EXPECT_EQ(test, c->rflags, F(F_OF | F_SF | F_AF | F_PF));
	KUNIT_ASSERT_EQ(test, f->nlog, 2u);
	KUNIT_EXPECT_FALSE(test, f->log[0].write);
	KUNIT_EXPECT_TRUE(test, f->log[1].write);
	KUNIT_EXPECT_EQ(test, f->log[1].val, 0x80000000ULL);

	/* xchg [rbx],eax: the register is not swapped until the retry */
	set_code(f, KHV_MODE_LONG64, "\x87\x03", 2);
	c->regs[GBX] = MM;
	c->regs[GAX] = 5;
	f->mmio_val = 6;
	f->read_exits = 1;
	take(&s, c);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_EXIT);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->regs[GAX], 6ULL);
	KUNIT_EXPECT_EQ(test, f->nlog, 2u);

	/* A write answering EXIT: nothing committed either. */
	set_code(f, KHV_MODE_LONG64, "\x89\x03", 2);
	c->regs[GBX] = MM;
	f->write_exits = 1;
	take(&s, c);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_EXIT);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 2);

	/* movsd mmio -> mmio: the read exits, then the write, then done */
	set_code(f, KHV_MODE_LONG64, "\xf3\xa5", 2);
	c->regs[GSI] = MM;
	c->regs[GDI] = MM + 0x100;
	c->regs[GCX] = 2;
	f->read_exits = 1;
	f->write_exits = 1;
	take(&s, c);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_EXIT);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_EXIT);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->regs[GCX], 1ULL);
	KUNIT_EXPECT_EQ(test, c->regs[GSI], MM + 4);
	KUNIT_EXPECT_EQ(test, c->regs[GDI], MM + 0x104);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0);
}

/* A rep loop run to the end, one iteration per call. */
static void emu_rep_loop(struct kunit *test)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	unsigned int i, n = 0;

	/* rep stosw, F_DF=1, 5 words down from MM + 0x40 */
	set_code(f, KHV_MODE_LONG64, "\xf3\x66\xab", 3);
	c->regs[GDI] = MM + 0x40;
	c->regs[GCX] = 5;
	c->regs[GAX] = 0xbeef;
	c->rflags = 2 | F_DF;
	while (c->rip == RIP0 && n < 10) {
		KUNIT_ASSERT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 5u);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 3);
	KUNIT_EXPECT_EQ(test, c->regs[GCX], 0ULL);
	KUNIT_EXPECT_EQ(test, c->regs[GDI], MM + 0x40 - 10);
	KUNIT_ASSERT_EQ(test, f->nlog, 5u);
	for (i = 0; i < 5; i++) {
		KUNIT_EXPECT_EQ(test, f->log[i].addr, MM + 0x40 - 2 * i);
		KUNIT_EXPECT_EQ(test, f->log[i].val, 0xbeefULL);
	}

	/* rep movsb mmio -> RAM, 3 bytes up */
	set_code(f, KHV_MODE_PROT32, "\xf3\xa4", 2);
	c->regs[GSI] = MM;
	c->regs[GDI] = RAM_BASE + 0x200;
	c->regs[GCX] = 3;
	f->mmio_val = 0x42;
	n = 0;
	while (c->rip == RIP0 && n < 10) {
		KUNIT_ASSERT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, 3u);
	KUNIT_EXPECT_EQ(test, c->regs[GSI], MM + 3);
	KUNIT_EXPECT_EQ(test, c->regs[GDI], RAM_BASE + 0x203);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, f->mem[RAM_BASE + 0x200 + i - MEM_BASE],
				0x42);
	/* The byte after is untouched (RAM pattern). */
	KUNIT_EXPECT_EQ(test, f->mem[RAM_BASE + 0x203 - MEM_BASE], 0x03);
}

/* Truncated instructions: fetch faults at the page end, never beyond. */
static void emu_truncated(struct kunit *test)
{
	static const struct {
		const char *code;
		unsigned int len;
	} t[] = {
		{ "\x66", 1 },
		{ "\x0f", 1 },
		{ "\x48", 1 },
		{ "\x8b", 1 },
		{ "\x8b\x04", 2 },
		{ "\x8b\x44\x24", 3 },
		{ "\x8b\x83\x00\x01", 4 },
		{ "\xc7\x03\x78\x56", 4 },
		{ "\xa1\x00\xe0\x00", 4 },
		{ "\x0f\xb6", 2 },
		{ "\x80\x03", 2 },
	};
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	struct snap s;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		reset(f, KHV_MODE_LONG64);
		place(f, CODE_END - t[i].len, t[i].code, t[i].len);
		c->regs[GBX] = MM;
		take(&s, c);
		KUNIT_EXPECT_EQ_MSG(test, khv_emulate_insn(c), KHV_EMUL_FAULT,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, c->exception.vector, KHV_EXC_PF,
				    "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, c->exception.cr2, CODE_END,
				    "case %u", i);
		KUNIT_EXPECT_TRUE_MSG(test, same(&s, c), "case %u", i);
		KUNIT_EXPECT_EQ_MSG(test, f->nlog, 0u, "case %u", i);
		KUNIT_EXPECT_LT_MSG(test, f->fetch_hi, s.rip + KHV_INSN_MAX,
				    "case %u", i);
	}

	/* The same, with the bytes prefetched and no fetch callback. */
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		reset(f, KHV_MODE_LONG64);
		f->ops.fetch = NULL;
		memcpy(c->insn, t[i].code, t[i].len);
		c->insn_len = t[i].len;
		c->regs[GBX] = MM;
		take(&s, c);
		KUNIT_EXPECT_EQ_MSG(test, khv_emulate_insn(c),
				    KHV_EMUL_UNHANDLED, "case %u", i);
		KUNIT_EXPECT_TRUE_MSG(test, same(&s, c), "case %u", i);
	}

	/* A 32-bit instruction running into the CS limit. */
	set_code(f, KHV_MODE_PROT32, "\x8b\x44\x24\x04", 4);
	c->seg[KHV_SEG_CS].limit = RIP0 + 2;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_GP);
	KUNIT_EXPECT_LE(test, f->fetch_hi, RIP0 + 2);

	/* 64-bit: RIP itself non-canonical */
	reset(f, KHV_MODE_LONG64);
	c->rip = 0x0000800000000000;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_GP);
	KUNIT_EXPECT_EQ(test, f->nfetch, 0u);
}

/* More than 15 bytes: #E_GP(0) without fetching a 16th byte. */
static void emu_too_long(struct kunit *test)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	struct snap s;
	u8 code[16];

	memset(code, 0x66, sizeof(code));
	set_code(f, KHV_MODE_LONG64, code, sizeof(code));
	take(&s, c);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_GP);
	KUNIT_EXPECT_TRUE(test, c->exception.has_error_code);
	KUNIT_EXPECT_EQ(test, c->exception.error_code, 0u);
	KUNIT_EXPECT_TRUE(test, same(&s, c));
	KUNIT_EXPECT_LE(test, f->fetch_hi, RIP0 + 14);

	/* 15 prefixes at the end of the code page: still #E_GP, no #E_PF. */
	reset(f, KHV_MODE_PROT32);
	place(f, CODE_END - 15, code, 15);
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_GP);
	KUNIT_EXPECT_LT(test, f->fetch_hi, CODE_END);

	/* Prefetched: 15 bytes of prefixes and nothing else to read. */
	reset(f, KHV_MODE_REAL);
	f->ops.fetch = NULL;
	memcpy(c->insn, code, 15);
	c->insn_len = 15;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_GP);
}

/* Prefetched bytes (decode assists) come first; fetch gets the rest. */
static void emu_prefetched(struct kunit *test)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;

	/* Complete: memory holds something else, fetch is never called. */
	set_code(f, KHV_MODE_LONG64, "\x90\x90", 2);
	memcpy(c->insn, "\x8b\x03", 2);
	c->insn_len = 2;
	c->regs[GBX] = MM;
	f->mmio_val = 9;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->regs[GAX], 9ULL);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 2);
	KUNIT_EXPECT_EQ(test, f->nfetch, 0u);

	/* More than the instruction: the extra bytes are ignored. */
	reset(f, KHV_MODE_LONG64);
	memcpy(c->insn, "\x8b\x03\xff\xff\xff\xff\xff\xff", 8);
	c->insn_len = 8;
	c->regs[GBX] = MM;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 2);
	KUNIT_EXPECT_EQ(test, f->nfetch, 0u);

	/* Partial: the rest is fetched from after the prefetched bytes. */
	set_code(f, KHV_MODE_LONG64, "\xc7\x03\x78\x56\x34\x12", 6);
	memcpy(c->insn, "\xc7\x03", 2);
	c->insn_len = 2;
	c->regs[GBX] = MM;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 6);
	KUNIT_EXPECT_EQ(test, f->fetch_lo, RIP0 + 2);
	KUNIT_ASSERT_EQ(test, f->nlog, 1u);
	KUNIT_EXPECT_EQ(test, f->log[0].val, 0x12345678ULL);

	/* Only the instruction's bytes fetchable: the read-ahead retries. */
	set_code(f, KHV_MODE_LONG64, "\xc7\x03\x78\x56\x34\x12", 6);
	f->code_hi = RIP0 + 6;
	c->regs[GBX] = MM;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 + 6);
	KUNIT_EXPECT_EQ(test, c->d.len, 6);

	/* Real mode: CS base is added to IP. */
	set_code(f, KHV_MODE_REAL, "\x8b\x07", 2);
	c->seg[KHV_SEG_CS].base = 0x100;
	c->rip = RIP0 - 0x100;
	c->regs[GBX] = MM;
	f->mmio_val = 0x1234;
	KUNIT_EXPECT_EQ(test, khv_emulate_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, c->regs[GAX], 0x1234ULL);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0 - 0x100 + 2);
	KUNIT_EXPECT_EQ(test, f->fetch_lo, RIP0);
}

/* khv_decode_insn: what the caller gets, without any data access. */
static void emu_decode(struct kunit *test)
{
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	struct khv_emul_insn *d = &c->d;

	/* mov ax,[r13+rcx*4+0x10] */
	set_code(f, KHV_MODE_LONG64, "\x66\x41\x8b\x44\x8d\x10", 6);
	c->regs[G13] = 0x1000;
	c->regs[GCX] = 3;
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->len, 6);
	KUNIT_EXPECT_EQ(test, d->opcode, 0x8b);
	KUNIT_EXPECT_EQ(test, d->kind, KHV_INSN_MOV);
	KUNIT_EXPECT_EQ(test, d->op_bytes, 2);
	KUNIT_EXPECT_EQ(test, d->ad_bytes, 8);
	KUNIT_EXPECT_EQ(test, d->rex, 0x41);
	KUNIT_EXPECT_EQ(test, d->src.type, KHV_OPND_MEM);
	KUNIT_EXPECT_EQ(test, d->src.seg, KHV_SEG_DS);
	KUNIT_EXPECT_EQ(test, d->src.ea, 0x1000ULL + 12 + 0x10);
	KUNIT_EXPECT_EQ(test, d->dst.type, KHV_OPND_REG);
	KUNIT_EXPECT_EQ(test, d->dst.reg, 0);
	KUNIT_EXPECT_EQ(test, d->next_rip, RIP0 + 6);
	KUNIT_EXPECT_EQ(test, f->nlog, 0u);
	KUNIT_EXPECT_EQ(test, c->rip, RIP0);

	/* ss: mov [rip+0x1000],eax */
	set_code(f, KHV_MODE_LONG64, "\x36\x89\x05\x00\x10\x00\x00", 7);
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_TRUE(test, d->rip_relative);
	KUNIT_EXPECT_EQ(test, d->dst.seg, KHV_SEG_SS);
	KUNIT_EXPECT_EQ(test, d->dst.ea, RIP0 + 7 + 0x1000);
	KUNIT_EXPECT_EQ(test, d->dst.bytes, 4);

	/* real mode mov ax,[bp-2] with BP=1: wraps, E_SS */
	set_code(f, KHV_MODE_REAL, "\x8b\x46\xfe", 3);
	c->regs[GBP] = 1;
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->src.seg, KHV_SEG_SS);
	KUNIT_EXPECT_EQ(test, d->src.ea, 0xffffULL);
	KUNIT_EXPECT_EQ(test, d->ad_bytes, 2);

	/* rep movsq */
	set_code(f, KHV_MODE_LONG64, "\xf3\x48\xa5", 3);
	c->regs[GSI] = 0x10;
	c->regs[GDI] = 0x20;
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->kind, KHV_INSN_MOVS);
	KUNIT_EXPECT_EQ(test, d->rep, 0xf3);
	KUNIT_EXPECT_EQ(test, d->op_bytes, 8);
	KUNIT_EXPECT_EQ(test, d->src.seg, KHV_SEG_DS);
	KUNIT_EXPECT_EQ(test, d->src.ea, 0x10ULL);
	KUNIT_EXPECT_EQ(test, d->dst.seg, KHV_SEG_ES);
	KUNIT_EXPECT_EQ(test, d->dst.ea, 0x20ULL);

	/* movzx eax,word [rbx]; movsxd eax,[rbx] */
	set_code(f, KHV_MODE_LONG64, "\x0f\xb7\x03", 3);
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->opcode, 0x0fb7);
	KUNIT_EXPECT_EQ(test, d->src.bytes, 2);
	KUNIT_EXPECT_EQ(test, d->dst.bytes, 4);
	set_code(f, KHV_MODE_LONG64, "\x48\x63\x03", 3);
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->src.bytes, 4);
	KUNIT_EXPECT_EQ(test, d->dst.bytes, 8);

	/* 32-bit mode, 67: 16-bit moffs */
	set_code(f, KHV_MODE_PROT32, "\x67\xa1\x34\x12", 4);
	KUNIT_ASSERT_EQ(test, khv_decode_insn(c), KHV_EMUL_OK);
	KUNIT_EXPECT_EQ(test, d->len, 4);
	KUNIT_EXPECT_EQ(test, d->ad_bytes, 2);
	KUNIT_EXPECT_EQ(test, d->src.ea, 0x1234ULL);

	/* lock prefix on a register destination */
	set_code(f, KHV_MODE_LONG64, "\xf0\x01\xc3", 3);
	KUNIT_EXPECT_EQ(test, khv_decode_insn(c), KHV_EMUL_FAULT);
	KUNIT_EXPECT_EQ(test, c->exception.vector, KHV_EXC_UD);
	KUNIT_EXPECT_FALSE(test, c->exception.has_error_code);
}

/*
 * Random bytes in every mode: whatever the result, nothing is corrupted,
 * nothing is committed unless OK, no fetch past 15 bytes, at most one
 * write.
 */
static void emu_fuzz(struct kunit *test)
{
	static const u8 seeds[] = {
		0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64,
		0x65, 0x40, 0x41, 0x44, 0x48, 0x4f, 0x0f, 0x88, 0x89, 0x8a,
		0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xaa,
		0xab, 0xac, 0xad, 0x01, 0x03, 0x29, 0x31, 0x39, 0x80, 0x81,
		0x83, 0x84, 0x85, 0x86, 0x87, 0xf6, 0xf7, 0x63, 0xb6, 0xbf,
	};
	struct fake *f = test->priv;
	struct khv_emul_ctxt *c = &f->c;
	struct rnd_state rs;
	unsigned int i, j, w, n[4] = {}, bad = 0;
	struct snap s;
	u8 code[16];
	int r;

	prandom_seed_state(&rs, 0x6b6876);
	for (i = 0; i < 20000 && !bad; i++) {
		reset(f, i % 4);
		for (j = 0; j < sizeof(code); j++) {
			u32 x = prandom_u32_state(&rs);

			code[j] = x & 1 ? seeds[(x >> 8) % ARRAY_SIZE(seeds)] :
					  (u8)(x >> 8);
		}
		place(f, RIP0, code, sizeof(code));
		for (j = 0; j < 16; j++) {
			u32 x = prandom_u32_state(&rs);

			switch (x & 3) {
			case 0:
				c->regs[j] = MM + ((x >> 4) & 0xff);
				break;
			case 1:
				c->regs[j] = (x >> 4) & 7;
				break;
			case 2:
				c->regs[j] = RAM_BASE + ((x >> 4) & 0xfff);
				break;
			default:
				c->regs[j] = (u64)prandom_u32_state(&rs) << 32 |
					     prandom_u32_state(&rs);
				break;
			}
		}
		c->rflags = 2 | (prandom_u32_state(&rs) & (F_ALL | F_DF));
		if (prandom_u32_state(&rs) & 1) {
			c->insn_len = prandom_u32_state(&rs) % 16;
			memcpy(c->insn, code, c->insn_len);
		}
		f->read_exits = prandom_u32_state(&rs) & 1;
		f->mmio_val = (u64)prandom_u32_state(&rs) << 32 |
			      prandom_u32_state(&rs);
		take(&s, c);

		r = khv_emulate_insn(c);
		if (r < KHV_EMUL_OK || r > KHV_EMUL_UNHANDLED) {
			bad++;
			break;
		}
		n[r]++;
		if (r != KHV_EMUL_OK && !same(&s, c))
			bad++;
		if (f->nfetch && f->fetch_hi >= RIP0 + KHV_INSN_MAX)
			bad++;
		if (r == KHV_EMUL_OK && (c->d.len < 1 || c->d.len > 15))
			bad++;
		if (r == KHV_EMUL_OK && (c->rflags & ~(F_ALL | F_DF)) != 2)
			bad++;
		for (j = 0, w = 0; j < min_t(unsigned int, f->nlog, MAX_LOG); j++)
			w += f->log[j].write;
		if (w > 1 || f->nlog > 2)
			bad++;
		if (bad)
			kunit_err(test, "iteration %u: mode %d bytes %*ph", i,
				  c->mode, (int)sizeof(code), code);
	}
	KUNIT_EXPECT_EQ(test, bad, 0u);
	kunit_info(test, "%u runs: %u ok, %u exit, %u fault, %u unhandled",
		   i, n[0], n[1], n[2], n[3]);
}

static int emu_init(struct kunit *test)
{
	struct fake *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	test->priv = f;
	return 0;
}

static struct kunit_case khv_x86_emulate_cases[] = {
	KUNIT_CASE_PARAM(emu_mov, mov_gen_params),
	KUNIT_CASE_PARAM(emu_movx, movx_gen_params),
	KUNIT_CASE_PARAM(emu_alu, alu_gen_params),
	KUNIT_CASE_PARAM(emu_prefix, prefix_gen_params),
	KUNIT_CASE_PARAM(emu_mode, mode_gen_params),
	KUNIT_CASE_PARAM(emu_string, string_gen_params),
	KUNIT_CASE_PARAM(emu_seg, seg_gen_params),
	KUNIT_CASE(emu_exit_retry),
	KUNIT_CASE(emu_rep_loop),
	KUNIT_CASE(emu_truncated),
	KUNIT_CASE(emu_too_long),
	KUNIT_CASE(emu_prefetched),
	KUNIT_CASE(emu_decode),
	KUNIT_CASE(emu_fuzz),
	{}
};

static struct kunit_suite khv_x86_emulate_suite = {
	.name = "khv_x86_emulate",
	.init = emu_init,
	.test_cases = khv_x86_emulate_cases,
};

kunit_test_suite(khv_x86_emulate_suite);

MODULE_DESCRIPTION("khv: KUnit tests of the x86 instruction emulator");
MODULE_LICENSE("GPL");
