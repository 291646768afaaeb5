// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest page-table walker (include/khv/x86_walk.h).
 *
 * One walk, top level down, reads each entry, stops at a non-present entry
 * (#PF, P = 0) or at a present one with a reserved bit set (#PF, P = 1,
 * RSVD = 1), and records the entries used. Only when a translation exists
 * are the access rights checked, against the rights combined over the
 * entries that control them (SDM vol. 3A 4.6): a fault leaves memory as it
 * was. A permitted access then sets the accessed bit of every entry used and,
 * for a write, the dirty bit of the leaf, each by compare-exchange against
 * the value the walk read; if an entry changed meanwhile, the whole walk is
 * redone, at most KHV_WALK_TRIES times.
 *
 * PAE PDPTEs: the processor loads the four PDPTEs when CR3 (or a paging
 * control) is written and uses the latched values until the next load,
 * refusing a PDPTE with reserved bits with #GP at load time. The walker has
 * no such latch: it reads the PDPTE from CR3 on every walk, and, like KVM's
 * walker, does not check its reserved bits (the load did; QEMU's emulated
 * CPU even sets bit 5 in them). A guest that edits its PDPT without
 * reloading CR3 sees the new value here earlier than on hardware (AMD's
 * nested-paging guests behave this way anyway). PDPTEs carry no accessed
 * bit and no access rights, so a PAE walk never writes them.
 */
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>

#include <khv/x86_walk.h>

/* Paging-structure entry bits. */
#define PTE_P		BIT_ULL(0)
#define PTE_RW		BIT_ULL(1)
#define PTE_US		BIT_ULL(2)
#define PTE_A		BIT_ULL(5)
#define PTE_D		BIT_ULL(6)
#define PTE_PS		BIT_ULL(7)
#define PTE_XD		BIT_ULL(63)

#define WALK_MAX_LEVELS	5

/* The shape of a walk, derived once from the paging controls. */
struct walk_fmt {
	unsigned int levels;		/* 2, 3, 4 or 5 */
	unsigned int size;		/* entry size: 4 or 8 */
	unsigned int rights_top;	/* highest level with R/W, U/S, XD and A */
	unsigned int maxpa;		/* MAXPHYADDR, 32..52 */
	bool nx;			/* XD is a permission bit (PAE/IA-32e, NXE) */
	u64 table;			/* top paging structure, from CR3 */
	/*
	 * Per level: reserved bits of a table pointer or 4-KiB leaf ([0]) and
	 * of a PS = 1 leaf ([1]); large[] says whether PS = 1 makes a leaf.
	 */
	u64 rsvd[WALK_MAX_LEVELS + 1][2];
	bool large[WALK_MAX_LEVELS + 1];
};

/* The entries one walk used, by level. */
struct walk_path {
	u64 gpa[WALK_MAX_LEVELS + 1];
	u64 pte[WALK_MAX_LEVELS + 1];
	unsigned int leaf;
};

static void walk_fmt_32(const struct khv_walk_mode *m, struct walk_fmt *f)
{
	/* PSE-36: a 4-MiB PDE holds physical bits 39:32 in its bits 20:13. */
	unsigned int m32 = min(f->maxpa, 40U);

	f->levels = 2;
	f->size = 4;
	f->rights_top = 2;
	f->nx = false;
	f->table = m->cr3 & GENMASK_ULL(31, 12);
	/* Without CR4.PSE the PS bit of a PDE is ignored; a PTE has PAT there. */
	f->large[2] = m->cr4 & X86_CR4_PSE;
	f->rsvd[2][1] = BIT_ULL(21);
	if (m32 < 40)
		f->rsvd[2][1] |= GENMASK_ULL(20, m32 - 19);
}

static void walk_fmt_pae(const struct khv_walk_mode *m, struct walk_fmt *f)
{
	/* In PAE entries bits 62:MAXPHYADDR are reserved, not ignored. */
	u64 hi = GENMASK_ULL(62, f->maxpa);
	u64 xd = f->nx ? 0 : PTE_XD;

	f->levels = 3;
	f->size = 8;
	f->rights_top = 2;
	f->table = m->cr3 & GENMASK_ULL(31, 5);
	/* PDPTE: no rights, no A bit, no PS; reserved bits checked at load. */
	f->rsvd[3][0] = 0;
	f->rsvd[2][0] = hi | xd;
	f->rsvd[2][1] = hi | xd | GENMASK_ULL(20, 13);
	f->large[2] = true;
	f->rsvd[1][0] = hi | xd;
}

static void walk_fmt_ia32e(const struct khv_walk_mode *m, struct walk_fmt *f)
{
	/* Bits 62:52 are ignored (or protection keys) in IA-32e entries. */
	u64 hi = f->maxpa < 52 ? GENMASK_ULL(51, f->maxpa) : 0;
	u64 xd = f->nx ? 0 : PTE_XD;
	u64 top = hi | xd | PTE_PS | (m->amd ? BIT_ULL(8) : 0);

	f->levels = (m->cr4 & X86_CR4_LA57) ? 5 : 4;
	f->size = 8;
	f->rights_top = f->levels;
	f->table = m->cr3 & GENMASK_ULL(f->maxpa - 1, 12);
	f->rsvd[5][0] = top;
	f->rsvd[4][0] = top;
	f->rsvd[3][0] = hi | xd | (m->no_gbpages ? PTE_PS : 0);
	f->rsvd[3][1] = hi | xd | GENMASK_ULL(29, 13);
	f->large[3] = !m->no_gbpages;
	f->rsvd[2][0] = hi | xd;
	f->rsvd[2][1] = hi | xd | GENMASK_ULL(20, 13);
	f->large[2] = true;
	f->rsvd[1][0] = hi | xd;
}

static void walk_fmt_init(const struct khv_walk_mode *m, struct walk_fmt *f)
{
	*f = (struct walk_fmt){};
	f->maxpa = m->maxphyaddr ? clamp_t(unsigned int, m->maxphyaddr, 32, 52) : 52;
	if (m->efer & EFER_LMA) {
		f->nx = m->efer & EFER_NX;
		walk_fmt_ia32e(m, f);
	} else if (m->cr4 & X86_CR4_PAE) {
		f->nx = m->efer & EFER_NX;
		walk_fmt_pae(m, f);
	} else {
		walk_fmt_32(m, f);
	}
}

/* Bit position of the lowest linear-address bit that indexes this level. */
static unsigned int walk_shift(const struct walk_fmt *f, unsigned int level)
{
	return f->size == 4 ? 12 + 10 * (level - 1) : 12 + 9 * (level - 1);
}

static u64 walk_table_addr(const struct walk_fmt *f, u64 pte)
{
	if (f->size == 4)
		return pte & GENMASK_ULL(31, 12);
	return pte & GENMASK_ULL(f->maxpa - 1, 12);
}

/* Physical address of the byte gva names through a leaf at this level. */
static u64 walk_leaf_addr(const struct walk_fmt *f, u64 pte,
			  unsigned int level, u64 gva)
{
	unsigned int shift = walk_shift(f, level);
	u64 base;

	if (f->size == 4 && level == 2)
		base = (pte & GENMASK_ULL(31, 22)) | ((pte >> 13) & 0xff) << 32;
	else if (f->size == 4)
		base = pte & GENMASK_ULL(31, 12);
	else
		base = pte & GENMASK_ULL(f->maxpa - 1, shift);
	return base | (gva & GENMASK_ULL(shift - 1, 0));
}

static bool walk_user(const struct khv_walk_mode *m, u32 access)
{
	if (access & KHV_ACC_IMPLICIT)
		return false;
	return (access & KHV_ACC_USER) || m->cpl == 3;
}

/*
 * Rights check (SDM vol. 3A 4.6.1) on a complete translation. uaddr: U/S
 * is 1 in every entry (a user-mode address); writable: R/W is 1 in every
 * entry; xd: XD is 1 in some entry (only when f->nx).
 */
static bool walk_denied(const struct khv_walk_mode *m, u32 access, bool user,
			bool uaddr, bool writable, bool xd)
{
	bool write = access & KHV_ACC_WRITE;

	if (access & KHV_ACC_FETCH) {
		if (xd)
			return true;
		if (user)
			return !uaddr;
		/* SMEP: no supervisor fetch from a user-mode address. */
		return uaddr && (m->cr4 & X86_CR4_SMEP);
	}
	if (user)
		return !uaddr || (write && !writable);
	/*
	 * SMAP: no supervisor data access to a user-mode address, except an
	 * explicit one with EFLAGS.AC = 1.
	 */
	if (uaddr && (m->cr4 & X86_CR4_SMAP) &&
	    (!(m->rflags & X86_EFLAGS_AC) || (access & KHV_ACC_IMPLICIT)))
		return true;
	/* CR0.WP = 0 lets supervisor writes through read-only pages. */
	return write && !writable && (m->cr0 & X86_CR0_WP);
}

static u32 walk_error_code(const struct khv_walk_mode *m,
			   const struct walk_fmt *f, u32 access, u32 why)
{
	u32 ec = why;

	if (access & KHV_ACC_WRITE)
		ec |= KHV_PFERR_WRITE;
	if (walk_user(m, access))
		ec |= KHV_PFERR_USER;
	/* I/D reports a fetch only where fetches can be refused by paging. */
	if ((access & KHV_ACC_FETCH) && (f->nx || (m->cr4 & X86_CR4_SMEP)))
		ec |= KHV_PFERR_FETCH;
	return ec;
}

/* One walk: 0 with path and res filled, KHV_WALK_FAULT, or an error. */
static int walk_once(const struct khv_walk_mode *m, const struct walk_fmt *f,
		     u64 gva, u32 access, const struct khv_walk_ops *ops,
		     void *ctx, struct walk_path *p, struct khv_walk_result *res)
{
	bool uaddr = true, writable = true, xd = false;
	u64 table = f->table;
	unsigned int level;
	u32 why;
	int r;

	for (level = f->levels; level >= 1; level--) {
		unsigned int idx = (gva >> walk_shift(f, level)) &
				   (f->size == 4 ? 0x3ff : 0x1ff);
		u64 gpa = table + (u64)idx * f->size;
		bool large;
		u64 pte;

		r = ops->read_pte(ctx, gpa, &pte, f->size);
		if (r)
			return r;
		if (f->size == 4)
			pte = (u32)pte;
		if (!(pte & PTE_P)) {
			why = 0;
			goto fault;
		}
		large = level > 1 && (pte & PTE_PS) && f->large[level];
		/* Reserved bits count only in a present entry. */
		if (pte & f->rsvd[level][large]) {
			why = KHV_PFERR_PRESENT | KHV_PFERR_RSVD;
			goto fault;
		}
		p->gpa[level] = gpa;
		p->pte[level] = pte;
		if (level <= f->rights_top) {
			uaddr &= !!(pte & PTE_US);
			writable &= !!(pte & PTE_RW);
			xd |= f->nx && (pte & PTE_XD);
		}
		if (level == 1 || large)
			break;
		table = walk_table_addr(f, pte);
	}

	if (walk_denied(m, access, walk_user(m, access), uaddr, writable, xd)) {
		why = KHV_PFERR_PRESENT;
		goto fault;
	}
	p->leaf = level;
	res->level = level;
	res->gpa = walk_leaf_addr(f, p->pte[level], level, gva);
	return 0;

fault:
	res->error_code = walk_error_code(m, f, access, why);
	return KHV_WALK_FAULT;
}

/* Accessed bits on the entries used, top down; dirty on the leaf. */
static int walk_set_ad(const struct walk_fmt *f, const struct walk_path *p,
		       u32 access, const struct khv_walk_ops *ops, void *ctx)
{
	unsigned int level;
	int r;

	for (level = f->rights_top; level >= p->leaf; level--) {
		u64 old = p->pte[level], new = old | PTE_A;

		if (level == p->leaf && (access & KHV_ACC_WRITE))
			new |= PTE_D;
		if (new == old)
			continue;
		r = ops->cmpxchg_pte(ctx, p->gpa[level], old, new, f->size);
		if (r)
			return r;
	}
	return 0;
}

int khv_walk(const struct khv_walk_mode *m, u64 gva, u32 access,
	     const struct khv_walk_ops *ops, void *ctx,
	     struct khv_walk_result *res)
{
	struct walk_path path;
	struct walk_fmt f;
	unsigned int try;
	int r;

	*res = (struct khv_walk_result){};
	if (!(m->cr0 & X86_CR0_PG)) {
		res->gpa = (u32)gva;
		return 0;
	}
	if (!khv_walk_canonical(m, gva))
		return KHV_WALK_NONCANONICAL;
	walk_fmt_init(m, &f);
	if (f.levels < 4)
		gva = (u32)gva;

	for (try = 0; try < KHV_WALK_TRIES; try++) {
		r = walk_once(m, &f, gva, access, ops, ctx, &path, res);
		if (r)
			return r;
		r = walk_set_ad(&f, &path, access, ops, ctx);
		if (r != -EAGAIN)
			return r;
		*res = (struct khv_walk_result){};
	}
	return -EAGAIN;
}
