// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the guest page-table walker (arch/x86/walk.c).
 *
 * The walker is compiled into this module (see the #include below) and
 * driven against a fake guest-physical memory: a small zeroed array in which
 * each case builds the paging structures for one linear address. Most cases
 * are rows of one table (walk_cases): a paging mode, a leaf size, bits forced
 * on or off in the entry built at each level, the controls, the access, and
 * the expected outcome. For every row the memory is also checked afterwards:
 * a translation sets A in every entry used (never in a PAE PDPTE) and D in
 * the leaf for a write, and changes nothing else; a fault, a non-canonical
 * address or -EFAULT changes nothing at all.
 *
 * A few walks are built by hand with literal addresses, so that the table
 * builder and the walker do not share an indexing mistake; the rest cover
 * the compare-exchange retry loop.
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../../arch/x86/walk.c"

#define PG		4096ULL
#define MEM_PAGES	16
#define MEM_SIZE	(MEM_PAGES * PG)
/* A page-aligned guest-physical address outside the fake memory. */
#define OUTSIDE		0x40000000ULL

#define B(n)		BIT_ULL(n)

/* Fake guest-physical memory [0, MEM_SIZE) and its paging-entry accessors. */
struct fake_mem {
	struct kunit *test;
	u8 *mem;
	unsigned int next_page;		/* bump allocator for tables */
	unsigned int size;		/* expected entry size, 0: any */
	unsigned int reads, xchgs;
	int read_err;			/* nonzero: every read fails with it */
	bool xchg_efault;		/* every compare-exchange fails */
	/* The next 'races' compare-exchanges find their entry changed first. */
	unsigned int races;
	u64 race_set, race_clr, race_flip;
};

static u64 mem_get(struct fake_mem *f, u64 gpa, unsigned int size)
{
	u32 v32;
	u64 v64;

	if (size == 4) {
		memcpy(&v32, f->mem + gpa, 4);
		return v32;
	}
	memcpy(&v64, f->mem + gpa, 8);
	return v64;
}

static void mem_put(struct fake_mem *f, u64 gpa, u64 val, unsigned int size)
{
	u32 v32 = val;

	if (size == 4)
		memcpy(f->mem + gpa, &v32, 4);
	else
		memcpy(f->mem + gpa, &val, 8);
}

static bool fake_check(struct fake_mem *f, u64 gpa, unsigned int size)
{
	KUNIT_EXPECT_TRUE(f->test, size == 4 || size == 8);
	if (f->size)
		KUNIT_EXPECT_EQ(f->test, f->size, size);
	KUNIT_EXPECT_EQ_MSG(f->test, gpa & (size - 1), 0ULL,
			    "misaligned entry at %#llx", gpa);
	return gpa < MEM_SIZE && MEM_SIZE - gpa >= size;
}

static int fake_read(void *ctx, u64 gpa, u64 *val, unsigned int size)
{
	struct fake_mem *f = ctx;

	f->reads++;
	if (f->read_err)
		return f->read_err;
	if (!fake_check(f, gpa, size))
		return -EFAULT;
	*val = mem_get(f, gpa, size);
	return 0;
}

static int fake_cmpxchg(void *ctx, u64 gpa, u64 old, u64 new, unsigned int size)
{
	struct fake_mem *f = ctx;
	u64 cur;

	f->xchgs++;
	if (f->xchg_efault || !fake_check(f, gpa, size))
		return -EFAULT;
	cur = mem_get(f, gpa, size);
	if (f->races) {
		f->races--;
		cur = ((cur | f->race_set) & ~f->race_clr) ^ f->race_flip;
		mem_put(f, gpa, cur, size);
	}
	if (cur != old)
		return -EAGAIN;
	mem_put(f, gpa, new, size);
	return 0;
}

static const struct khv_walk_ops fake_ops = {
	.read_pte = fake_read,
	.cmpxchg_pte = fake_cmpxchg,
};

static struct fake_mem *fake_new(struct kunit *test)
{
	struct fake_mem *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->mem = kunit_kzalloc(test, MEM_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->mem);
	f->test = test;
	f->next_page = 1;	/* keep gpa 0 free of tables */
	return f;
}

static u64 fake_table(struct kunit *test, struct fake_mem *f)
{
	KUNIT_ASSERT_LT(test, f->next_page, MEM_PAGES);
	return f->next_page++ * PG;
}

/* --- the table of cases ---------------------------------------------------- */

enum tmode { T_OFF, T_32, T_PAE, T_L4, T_L5 };

static const unsigned int tmode_levels[] = {
	[T_OFF] = 0, [T_32] = 2, [T_PAE] = 3, [T_L4] = 4, [T_L5] = 5,
};

/* Controls; the defaults are CR0.WP = 1 and EFER.NXE = 1. */
#define C_NOWP		BIT(0)
#define C_NONXE		BIT(1)
#define C_PSE		BIT(2)
#define C_SMEP		BIT(3)
#define C_SMAP		BIT(4)
#define C_AC		BIT(5)
#define C_NOGB		BIT(6)
#define C_AMD		BIT(7)

/* Accesses. */
#define A_R		0
#define A_W		KHV_ACC_WRITE
#define A_U		KHV_ACC_USER
#define A_X		KHV_ACC_FETCH
#define A_I		KHV_ACC_IMPLICIT

/* Error-code bits. */
#define EC_P		KHV_PFERR_PRESENT
#define EC_W		KHV_PFERR_WRITE
#define EC_U		KHV_PFERR_USER
#define EC_RSVD		KHV_PFERR_RSVD
#define EC_I		KHV_PFERR_FETCH

#define FAULT		KHV_WALK_FAULT
#define NONCANON	KHV_WALK_NONCANONICAL

#define P_BIT		B(0)
#define RW		B(1)
#define US		B(2)
#define PS		B(7)
#define XD		B(63)

struct walk_case {
	const char *name;
	enum tmode mode;
	u8 leaf;		/* level of the leaf built: 1 (default), 2, 3 */
	u32 ctl;		/* C_* */
	u8 maxpa;		/* khv_walk_mode.maxphyaddr */
	u8 cpl;
	u32 access;		/* A_* */
	u64 gva;		/* 0: the mode's default address */
	u64 set[6], clr[6];	/* bits forced on / off in the entry of a level */
	u8 oom;			/* the table read at this level is outside memory */
	int ret;
	u32 ec;			/* error code, when ret is FAULT */
	u64 gpa;		/* 0: the leaf's default frame + page offset */
};

/* Default linear addresses: every index differs from its neighbours'. */
static const u64 tmode_gva[] = {
	[T_OFF] = 0x12345678,
	[T_32] = 0xdeadbeef,
	[T_PAE] = 0xdeadbeef,
	[T_L4] = 0x00007a5bc3d2e1f0,
	[T_L5] = 0x00abcdef12345678,
};

/* Default leaf frames, by level; above 4 GiB but below 2^36 for PAE/IA-32e. */
static u64 leaf_frame(enum tmode mode, unsigned int level)
{
	static const u64 frame32[] = { 0, 0x12345000, 0x12400000 };
	static const u64 frame64[] = { 0, 0x987654000, 0x987600000, 0x940000000 };

	return mode == T_32 ? frame32[level] : frame64[level];
}

static u64 page_size(enum tmode mode, unsigned int level)
{
	if (level == 2 && mode == T_32)
		return 4ULL << 20;
	return 1ULL << (12 + 9 * (level - 1));
}

static const struct walk_case walk_cases[] = {
	/* Paging off. */
	{ "off: identity", T_OFF, .gva = 0x12345678, .gpa = 0x12345678 },
	{ "off: bits 63:32 dropped", T_OFF, .gva = 0xffffffff89abcdef,
	  .access = A_W, .gpa = 0x89abcdef },
	{ "off: no rights checked", T_OFF, .ctl = C_SMEP | C_SMAP,
	  .access = A_U | A_X, .gva = 0x1000, .gpa = 0x1000 },

	/* 32-bit paging. */
	{ "32: 4K read", T_32 },
	{ "32: 4K user write", T_32, .access = A_U | A_W },
	{ "32: 4M page with CR4.PSE", T_32, .leaf = 2, .ctl = C_PSE, .access = A_W },
	{ "32: PDE.PS ignored without CR4.PSE", T_32, .set[2] = PS, .access = A_W },
	{ "32: PAT bit of a PTE", T_32, .set[1] = B(7) },
	{ "32: PAT bit 12 of a 4M PDE", T_32, .leaf = 2, .ctl = C_PSE, .set[2] = B(12) },
	{ "32: PSE-36 bits 39:32", T_32, .leaf = 2, .ctl = C_PSE,
	  .set[2] = 0x12ULL << 13, .gpa = 0x12126dbeefULL },
	{ "32: PSE-36 bit 35 under MAXPHYADDR 36", T_32, .leaf = 2, .ctl = C_PSE,
	  .maxpa = 36, .set[2] = B(16), .gpa = 0x8126dbeefULL },
	{ "32: PSE-36 bit 36 over MAXPHYADDR 36", T_32, .leaf = 2, .ctl = C_PSE,
	  .maxpa = 36, .set[2] = B(17), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "32: PSE-36 bits all reserved at MAXPHYADDR 32", T_32, .leaf = 2,
	  .ctl = C_PSE, .maxpa = 32, .set[2] = B(13), .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "32: 4M PDE bit 21 reserved", T_32, .leaf = 2, .ctl = C_PSE,
	  .set[2] = B(21), .access = A_W, .ret = FAULT, .ec = EC_P | EC_W | EC_RSVD },
	{ "32: bit 21 of a table PDE is an address bit", T_32, .ctl = C_PSE,
	  .set[2] = B(21), .ret = -EFAULT },
	{ "32: PDE not present", T_32, .clr[2] = P_BIT, .access = A_W,
	  .ret = FAULT, .ec = EC_W },
	{ "32: PTE not present", T_32, .clr[1] = P_BIT, .access = A_U,
	  .ret = FAULT, .ec = EC_U },
	{ "32: user read, supervisor PDE", T_32, .clr[2] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "32: user write, read-only PTE", T_32, .clr[1] = RW, .access = A_U | A_W,
	  .ret = FAULT, .ec = EC_P | EC_W | EC_U },
	{ "32: supervisor write, read-only PDE, WP=1", T_32, .clr[2] = RW,
	  .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "32: supervisor write, read-only PDE, WP=0", T_32, .ctl = C_NOWP,
	  .clr[2] = RW, .access = A_W },
	{ "32: user fetch, supervisor page: no I/D (NXE has no effect)", T_32,
	  .clr[1] = US, .access = A_U | A_X, .ret = FAULT, .ec = EC_P | EC_U },
	{ "32: SMEP: supervisor fetch, user page", T_32, .ctl = C_SMEP,
	  .access = A_X, .ret = FAULT, .ec = EC_P | EC_I },
	{ "32: SMEP: I/D on a non-present fault", T_32, .ctl = C_SMEP,
	  .clr[2] = P_BIT, .access = A_X, .ret = FAULT, .ec = EC_I },
	{ "32: SMAP on a 4M page", T_32, .leaf = 2, .ctl = C_PSE | C_SMAP,
	  .ret = FAULT, .ec = EC_P },
	{ "32: gva bits 63:32 ignored", T_32, .gva = 0xffffffffdeadbeefULL,
	  .gpa = 0x12345eefULL },
	{ "32: page table outside memory", T_32, .oom = 1, .ret = -EFAULT },
	{ "32: CR3 outside memory", T_32, .oom = 2, .ret = -EFAULT },

	/* PAE paging. */
	{ "pae: 4K read", T_PAE },
	{ "pae: 4K user write", T_PAE, .access = A_U | A_W },
	{ "pae: 2M write (CR4.PSE not needed)", T_PAE, .leaf = 2, .access = A_W },
	{ "pae: PAT bit 12 of a 2M PDE", T_PAE, .leaf = 2, .set[2] = B(12) },
	{ "pae: 2M PDE bit 13 reserved", T_PAE, .leaf = 2, .set[2] = B(13),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "pae: 2M PDE bit 20 reserved", T_PAE, .leaf = 2, .set[2] = B(20),
	  .access = A_U, .ret = FAULT, .ec = EC_P | EC_U | EC_RSVD },
	/*
	 * PDPTE reserved bits are checked when the CPU loads the PDPTEs (MOV
	 * to CR0/CR3/CR4, KVM_SET_SREGS), not by a walk; QEMU's emulated CPU
	 * even sets bit 5 in them. A walk ignores them, as KVM's does.
	 */
	{ "pae: PDPTE bits 2:1 ignored by a walk", T_PAE, .set[3] = B(1) | B(2) },
	{ "pae: PDPTE bit 5 (set by some CPUs) ignored", T_PAE, .set[3] = B(5),
	  .access = A_W },
	{ "pae: PDPTE bits 8:7 ignored by a walk", T_PAE, .set[3] = B(7) | B(8) },
	{ "pae: PDPTE bit 63 ignored by a walk", T_PAE, .set[3] = B(63) },
	{ "pae: PDPTE bits 4:3, 11:9 allowed", T_PAE,
	  .set[3] = B(3) | B(4) | B(9) | B(10) | B(11) },
	{ "pae: PDPTE not present", T_PAE, .clr[3] = P_BIT, .access = A_W,
	  .ret = FAULT, .ec = EC_W },
	{ "pae: PDPTE not present, reserved bits ignored", T_PAE,
	  .clr[3] = P_BIT, .set[3] = B(63) | B(1), .ret = FAULT, .ec = 0 },
	{ "pae: PDE not present, fetch (NXE: I/D)", T_PAE, .clr[2] = P_BIT,
	  .access = A_X, .ret = FAULT, .ec = EC_I },
	{ "pae: PTE not present, reserved bits ignored", T_PAE, .clr[1] = P_BIT,
	  .set[1] = B(62) | B(52), .access = A_U, .ret = FAULT, .ec = EC_U },
	{ "pae: PDE bit 62 reserved", T_PAE, .set[2] = B(62), .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "pae: PTE bit 52 reserved", T_PAE, .set[1] = B(52), .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "pae: PTE bit 40 over MAXPHYADDR 36", T_PAE, .maxpa = 36,
	  .set[1] = B(40), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "pae: PTE bit 34 under MAXPHYADDR 36", T_PAE, .maxpa = 36,
	  .set[1] = B(34), .gpa = 0xd87654eefULL },
	{ "pae: XD reserved without NXE", T_PAE, .ctl = C_NONXE, .set[1] = XD,
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "pae: XD reserved without NXE, fetch: no I/D", T_PAE, .ctl = C_NONXE,
	  .set[2] = XD, .access = A_X, .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "pae: XD with NXE, read", T_PAE, .set[1] = XD },
	{ "pae: XD in PTE, fetch", T_PAE, .set[1] = XD, .access = A_X,
	  .ret = FAULT, .ec = EC_P | EC_I },
	{ "pae: XD in PDE, user fetch", T_PAE, .set[2] = XD, .access = A_U | A_X,
	  .ret = FAULT, .ec = EC_P | EC_U | EC_I },
	{ "pae: user read, supervisor PDE", T_PAE, .clr[2] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "pae: gva bits 63:32 ignored", T_PAE, .gva = 0xabcdef00deadbeefULL,
	  .gpa = 0x987654eefULL },
	{ "pae: PDPT outside memory", T_PAE, .oom = 3, .ret = -EFAULT },
	{ "pae: page directory outside memory", T_PAE, .oom = 2, .ret = -EFAULT },

	/* 4-level paging: page sizes and reserved bits. */
	{ "l4: 4K read", T_L4 },
	{ "l4: 4K write", T_L4, .access = A_W },
	{ "l4: 2M write", T_L4, .leaf = 2, .access = A_W },
	{ "l4: 1G write", T_L4, .leaf = 3, .access = A_W },
	{ "l4: 1G user fetch", T_L4, .leaf = 3, .access = A_U | A_X },
	{ "l4: 1G PDPTE without 1G pages", T_L4, .leaf = 3, .ctl = C_NOGB,
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: 2M page without 1G pages", T_L4, .leaf = 2, .ctl = C_NOGB },
	{ "l4: 1G PDPTE bit 13 reserved", T_L4, .leaf = 3, .set[3] = B(13),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: 1G PDPTE bit 29 reserved", T_L4, .leaf = 3, .set[3] = B(29),
	  .access = A_W, .ret = FAULT, .ec = EC_P | EC_W | EC_RSVD },
	{ "l4: 1G PDPTE PAT bit 12", T_L4, .leaf = 3, .set[3] = B(12) },
	{ "l4: 2M PDE bit 20 reserved", T_L4, .leaf = 2, .set[2] = B(20),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: 2M PDE bit 13 reserved", T_L4, .leaf = 2, .set[2] = B(13),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: table PDE bits 20:13 are address bits", T_L4, .set[2] = B(20),
	  .ret = -EFAULT },
	{ "l4: PML4E PS reserved", T_L4, .set[4] = PS, .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "l4: PML4E bit 8 ignored (Intel)", T_L4, .set[4] = B(8) },
	{ "l4: PML4E bit 8 reserved (AMD)", T_L4, .ctl = C_AMD, .set[4] = B(8),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDPTE bit 8 ignored (AMD)", T_L4, .ctl = C_AMD, .set[3] = B(8) },
	{ "l4: PML4E bit 40 over MAXPHYADDR 40", T_L4, .maxpa = 40,
	  .set[4] = B(40), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDPTE bit 51 over MAXPHYADDR 48", T_L4, .maxpa = 48,
	  .set[3] = B(51), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDE bit 47 over MAXPHYADDR 46", T_L4, .maxpa = 46,
	  .set[2] = B(47), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PTE bit 36 over MAXPHYADDR 36", T_L4, .maxpa = 36,
	  .set[1] = B(36), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDE bit 51 is an address bit at MAXPHYADDR 52", T_L4,
	  .set[2] = B(51), .ret = -EFAULT },
	{ "l4: PTE bit 39 under MAXPHYADDR 40", T_L4, .maxpa = 40,
	  .set[1] = B(39), .gpa = 0x89876541f0ULL },
	{ "l4: PTE bits 62:52 ignored", T_L4, .set[1] = GENMASK_ULL(62, 52) },
	{ "l4: PML4E bits 62:52 ignored", T_L4, .set[4] = GENMASK_ULL(62, 52) },
	{ "l4: PML4E XD reserved without NXE", T_L4, .ctl = C_NONXE,
	  .set[4] = XD, .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDPTE XD reserved without NXE", T_L4, .ctl = C_NONXE,
	  .set[3] = XD, .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: PDE XD reserved without NXE", T_L4, .ctl = C_NONXE,
	  .set[2] = XD, .access = A_W, .ret = FAULT, .ec = EC_P | EC_W | EC_RSVD },
	{ "l4: PTE XD reserved without NXE", T_L4, .ctl = C_NONXE,
	  .set[1] = XD, .access = A_U, .ret = FAULT, .ec = EC_P | EC_U | EC_RSVD },
	{ "l4: 1G XD reserved without NXE", T_L4, .leaf = 3, .ctl = C_NONXE,
	  .set[3] = XD, .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l4: reserved bit beats a rights fault", T_L4, .maxpa = 48,
	  .clr[1] = US, .set[1] = B(51), .access = A_U, .ret = FAULT,
	  .ec = EC_P | EC_U | EC_RSVD },
	{ "l4: non-present beats a rights fault", T_L4, .clr[4] = US,
	  .clr[1] = P_BIT, .access = A_U, .ret = FAULT, .ec = EC_U },
	{ "l4: CR3 outside memory", T_L4, .oom = 4, .ret = -EFAULT },
	{ "l4: PDPT outside memory", T_L4, .oom = 3, .ret = -EFAULT },
	{ "l4: page directory outside memory", T_L4, .oom = 2, .ret = -EFAULT },
	{ "l4: page table outside memory", T_L4, .oom = 1, .access = A_W,
	  .ret = -EFAULT },

	/* 4-level paging: non-present at each level. */
	{ "l4: PML4E not present", T_L4, .clr[4] = P_BIT, .ret = FAULT, .ec = 0 },
	{ "l4: PDPTE not present", T_L4, .clr[3] = P_BIT, .access = A_U | A_W,
	  .ret = FAULT, .ec = EC_U | EC_W },
	{ "l4: PDE not present", T_L4, .clr[2] = P_BIT, .access = A_X,
	  .ret = FAULT, .ec = EC_I },
	{ "l4: PTE not present, no NXE: no I/D", T_L4, .ctl = C_NONXE,
	  .clr[1] = P_BIT, .access = A_U | A_X, .ret = FAULT, .ec = EC_U },

	/* 4-level paging: U/S, R/W, WP. */
	{ "l4: user read, supervisor PML4E", T_L4, .clr[4] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "l4: user read, supervisor PDPTE", T_L4, .clr[3] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "l4: user read, supervisor PDE", T_L4, .clr[2] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "l4: user read, supervisor PTE", T_L4, .clr[1] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "l4: user write, read-only PML4E", T_L4, .clr[4] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l4: user write, read-only PDPTE", T_L4, .clr[3] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l4: user write, read-only PDE", T_L4, .clr[2] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l4: user write, read-only PTE", T_L4, .clr[1] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l4: user write, read-only, WP=0", T_L4, .ctl = C_NOWP, .clr[1] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l4: user read, read-only page", T_L4, .clr[3] = RW, .access = A_U },
	{ "l4: supervisor write, read-only PDPTE, WP=1", T_L4, .clr[3] = RW,
	  .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: supervisor write, read-only 2M, WP=1", T_L4, .leaf = 2,
	  .clr[2] = RW, .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: supervisor write, read-only PTE, WP=0", T_L4, .ctl = C_NOWP,
	  .clr[1] = RW, .access = A_W },
	{ "l4: supervisor write, supervisor page", T_L4, .clr[2] = US,
	  .access = A_W },
	{ "l4: CPL 3 without KHV_ACC_USER is user", T_L4, .cpl = 3,
	  .clr[1] = US, .ret = FAULT, .ec = EC_P | EC_U },

	/* 4-level paging: NX, SMEP. */
	{ "l4: XD in PML4E, fetch", T_L4, .set[4] = XD, .access = A_X,
	  .ret = FAULT, .ec = EC_P | EC_I },
	{ "l4: XD in PDPTE (1G), user fetch", T_L4, .leaf = 3, .set[3] = XD,
	  .access = A_U | A_X, .ret = FAULT, .ec = EC_P | EC_U | EC_I },
	{ "l4: XD in PDE, read", T_L4, .set[2] = XD },
	{ "l4: XD in PTE, write", T_L4, .set[1] = XD, .access = A_W },
	{ "l4: user fetch, supervisor page", T_L4, .clr[2] = US,
	  .access = A_U | A_X, .ret = FAULT, .ec = EC_P | EC_U | EC_I },
	{ "l4: supervisor fetch, user page, no SMEP", T_L4, .access = A_X },
	{ "l4: SMEP: supervisor fetch, user page", T_L4, .ctl = C_SMEP,
	  .access = A_X, .ret = FAULT, .ec = EC_P | EC_I },
	{ "l4: SMEP: AC does not matter", T_L4, .ctl = C_SMEP | C_AC,
	  .access = A_X, .ret = FAULT, .ec = EC_P | EC_I },
	{ "l4: SMEP: supervisor fetch, supervisor PML4E", T_L4, .ctl = C_SMEP,
	  .clr[4] = US, .access = A_X },
	{ "l4: SMEP: user fetch, user page", T_L4, .ctl = C_SMEP,
	  .access = A_U | A_X },
	{ "l4: SMEP: supervisor read, user page", T_L4, .ctl = C_SMEP },

	/* 4-level paging: SMAP, AC, implicit accesses. */
	{ "l4: SMAP: supervisor read, user page", T_L4, .ctl = C_SMAP,
	  .ret = FAULT, .ec = EC_P },
	{ "l4: SMAP: supervisor write, user page", T_L4, .ctl = C_SMAP,
	  .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: SMAP: AC=1 read", T_L4, .ctl = C_SMAP | C_AC },
	{ "l4: SMAP: AC=1 write", T_L4, .ctl = C_SMAP | C_AC, .access = A_W },
	{ "l4: SMAP: AC=1 implicit read", T_L4, .ctl = C_SMAP | C_AC,
	  .access = A_I, .ret = FAULT, .ec = EC_P },
	{ "l4: SMAP: AC=1 write, read-only, WP=1", T_L4, .ctl = C_SMAP | C_AC,
	  .clr[1] = RW, .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: SMAP: AC=1 write, read-only, WP=0", T_L4,
	  .ctl = C_SMAP | C_AC | C_NOWP, .clr[1] = RW, .access = A_W },
	{ "l4: SMAP: AC=0 write, read-only, WP=0", T_L4, .ctl = C_SMAP | C_NOWP,
	  .clr[1] = RW, .access = A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: SMAP: supervisor PDE", T_L4, .ctl = C_SMAP, .clr[2] = US },
	{ "l4: SMAP: fetches are not data", T_L4, .ctl = C_SMAP, .access = A_X },
	{ "l4: SMAP: user accesses unaffected", T_L4, .ctl = C_SMAP,
	  .access = A_U | A_W },
	{ "l4: implicit at CPL 3 is supervisor", T_L4, .cpl = 3, .clr[1] = US,
	  .access = A_I },
	{ "l4: implicit write at CPL 3, read-only, WP=1", T_L4, .cpl = 3,
	  .clr[1] = RW, .access = A_I | A_W, .ret = FAULT, .ec = EC_P | EC_W },
	{ "l4: implicit at CPL 3, SMAP, AC=1", T_L4, .cpl = 3,
	  .ctl = C_SMAP | C_AC, .access = A_I, .ret = FAULT, .ec = EC_P },
	{ "l4: implicit wins over KHV_ACC_USER", T_L4, .clr[1] = US,
	  .access = A_I | A_U },

	/* 4-level paging: canonical addresses. */
	{ "l4: canonical, top of the low half", T_L4, .gva = 0x00007fffffffffffULL },
	{ "l4: canonical, bottom of the high half", T_L4,
	  .gva = 0xffff800000001234ULL },
	{ "l4: non-canonical, bit 47 alone", T_L4, .gva = 0x0000800000000000ULL,
	  .ret = NONCANON },
	{ "l4: non-canonical, high half without bit 47", T_L4,
	  .gva = 0xffff7ffffffff000ULL, .ret = NONCANON },
	{ "l4: non-canonical, bit 63 alone", T_L4, .gva = B(63), .ret = NONCANON },
	{ "l4: a 57-bit address", T_L4, .gva = 0x00abcdef12345678ULL,
	  .ret = NONCANON },

	/* 5-level paging. */
	{ "l5: 4K read", T_L5 },
	{ "l5: 4K user write", T_L5, .access = A_U | A_W },
	{ "l5: 1G write", T_L5, .leaf = 3, .access = A_W },
	{ "l5: 2M fetch", T_L5, .leaf = 2, .access = A_X },
	{ "l5: PML5E PS reserved", T_L5, .set[5] = PS, .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "l5: PML5E bit 8 reserved (AMD)", T_L5, .ctl = C_AMD, .set[5] = B(8),
	  .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l5: PML5E bit 44 over MAXPHYADDR 44", T_L5, .maxpa = 44,
	  .set[5] = B(44), .ret = FAULT, .ec = EC_P | EC_RSVD },
	{ "l5: PML4E PS reserved", T_L5, .set[4] = PS, .ret = FAULT,
	  .ec = EC_P | EC_RSVD },
	{ "l5: PML5E not present", T_L5, .clr[5] = P_BIT, .access = A_W,
	  .ret = FAULT, .ec = EC_W },
	{ "l5: user read, supervisor PML5E", T_L5, .clr[5] = US, .access = A_U,
	  .ret = FAULT, .ec = EC_P | EC_U },
	{ "l5: user write, read-only PML5E", T_L5, .clr[5] = RW,
	  .access = A_U | A_W, .ret = FAULT, .ec = EC_P | EC_U | EC_W },
	{ "l5: XD in PML5E, fetch", T_L5, .set[5] = XD, .access = A_X,
	  .ret = FAULT, .ec = EC_P | EC_I },
	{ "l5: canonical high half", T_L5, .gva = 0xff00000000000000ULL },
	{ "l5: non-canonical, bit 56 alone", T_L5, .gva = B(56), .ret = NONCANON },
	{ "l5: non-canonical, bit 63 alone", T_L5, .gva = B(63), .ret = NONCANON },
	{ "l5: PML5 outside memory", T_L5, .oom = 5, .ret = -EFAULT },
	{ "l5: PML4 outside memory", T_L5, .oom = 4, .ret = -EFAULT },
};

static void walk_case_desc(const struct walk_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(walk_cases, walk_cases, walk_case_desc);

/* What the builder made: the controls, the address, the entries. */
struct built {
	struct khv_walk_mode m;
	u64 gva;
	u64 gpa[6], pte[6];	/* entries written, by level */
	unsigned int top, low;	/* levels written: top down to low */
	unsigned int size;
};

static unsigned int build_index(enum tmode mode, unsigned int level, u64 gva)
{
	if (mode == T_32)
		return (gva >> (level == 2 ? 22 : 12)) & 0x3ff;
	if (mode == T_PAE && level == 3)
		return (gva >> 30) & 3;
	return (gva >> (12 + 9 * (level - 1))) & 0x1ff;
}

static void build_mode(const struct walk_case *c, struct khv_walk_mode *m)
{
	*m = (struct khv_walk_mode){};
	m->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
	if (c->mode != T_OFF)
		m->cr0 |= X86_CR0_PG;
	if (!(c->ctl & C_NOWP))
		m->cr0 |= X86_CR0_WP;
	if (c->mode >= T_PAE)
		m->cr4 |= X86_CR4_PAE;
	if (c->mode == T_L5)
		m->cr4 |= X86_CR4_LA57;
	if (c->ctl & C_PSE)
		m->cr4 |= X86_CR4_PSE;
	if (c->ctl & C_SMEP)
		m->cr4 |= X86_CR4_SMEP;
	if (c->ctl & C_SMAP)
		m->cr4 |= X86_CR4_SMAP;
	if (c->mode >= T_L4)
		m->efer |= EFER_LME | EFER_LMA;
	if (!(c->ctl & C_NONXE))
		m->efer |= EFER_NX;
	m->rflags = X86_EFLAGS_FIXED | ((c->ctl & C_AC) ? X86_EFLAGS_AC : 0);
	m->cpl = c->cpl;
	m->maxphyaddr = c->maxpa;
	m->no_gbpages = c->ctl & C_NOGB;
	m->amd = c->ctl & C_AMD;
}

/*
 * Build the path for the case's address: a table per level from the top
 * down, each entry P | R/W | U/S (a PAE PDPTE: P only) pointing to the next,
 * the leaf at c->leaf (PS set above level 1), then c->set / c->clr applied.
 * Building stops at a table placed outside memory (c->oom).
 */
static void build(struct kunit *test, struct fake_mem *f,
		  const struct walk_case *c, struct built *b)
{
	unsigned int levels = tmode_levels[c->mode];
	unsigned int leaf = c->leaf ?: 1, level;
	u64 table;

	*b = (struct built){};
	build_mode(c, &b->m);
	b->gva = c->gva ?: tmode_gva[c->mode];
	b->size = c->mode == T_32 ? 4 : 8;
	f->size = b->size;
	if (c->mode == T_OFF)
		return;

	table = c->oom == levels ? OUTSIDE : fake_table(test, f);
	/* Low CR3 bits: PWT, PCD; a PAE PDPT only needs 32-byte alignment. */
	if (c->mode == T_PAE && table != OUTSIDE)
		table += 0x60;
	b->m.cr3 = table | X86_CR3_PWT | X86_CR3_PCD;

	b->top = levels;
	b->low = levels + 1;
	for (level = levels; level >= leaf && table != OUTSIDE; level--) {
		u64 gpa = table + build_index(c->mode, level, b->gva) * b->size;
		u64 pte;

		if (level == leaf) {
			pte = leaf_frame(c->mode, level) | (level > 1 ? PS : 0);
			table = 0;
		} else {
			table = c->oom == level - 1 ? OUTSIDE : fake_table(test, f);
			pte = table;
		}
		pte |= (c->mode == T_PAE && level == 3) ? P_BIT : P_BIT | RW | US;
		pte = (pte | c->set[level]) & ~c->clr[level];
		mem_put(f, gpa, pte, b->size);
		b->gpa[level] = gpa;
		b->pte[level] = pte;
		b->low = level;
	}
}

static void walk_table(struct kunit *test)
{
	const struct walk_case *c = test->param_value;
	struct fake_mem *f = fake_new(test);
	unsigned int leaf = c->leaf ?: 1, level;
	struct khv_walk_result res;
	struct built b;
	u8 *want;
	int r;

	build(test, f, c, &b);
	want = kunit_kmalloc(test, MEM_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	memcpy(want, f->mem, MEM_SIZE);

	r = khv_walk(&b.m, b.gva, c->access, &fake_ops, f, &res);
	KUNIT_ASSERT_EQ(test, r, c->ret);

	if (r == 0) {
		u64 gpa = c->gpa;

		if (!gpa && c->mode != T_OFF)
			gpa = leaf_frame(c->mode, leaf) +
			      (b.gva & (page_size(c->mode, leaf) - 1));
		KUNIT_EXPECT_EQ_MSG(test, res.gpa, gpa, "gpa %#llx, want %#llx",
				    res.gpa, gpa);
		KUNIT_EXPECT_EQ(test, res.level, c->mode == T_OFF ? 0 : leaf);
		/* A in every entry used (not in PAE PDPTEs), D in a written leaf. */
		for (level = b.top; c->mode != T_OFF && level >= b.low; level--) {
			u64 pte = b.pte[level];

			if (!(c->mode == T_PAE && level == 3))
				pte |= B(5);
			if (level == leaf && (c->access & A_W))
				pte |= B(6);
			memcpy(want + b.gpa[level], &pte, b.size);
		}
	} else if (r == KHV_WALK_FAULT) {
		KUNIT_EXPECT_EQ_MSG(test, res.error_code, c->ec,
				    "error code %#x, want %#x", res.error_code, c->ec);
	}
	if (r)
		KUNIT_EXPECT_EQ(test, f->xchgs, 0U);
	if (r == NONCANON)
		KUNIT_EXPECT_EQ(test, f->reads, 0U);
	KUNIT_EXPECT_TRUE_MSG(test, !memcmp(want, f->mem, MEM_SIZE),
			      "guest memory differs from the expected A/D updates");
}

/* --- hand-built walks -------------------------------------------------------- */

static u64 get64(struct fake_mem *f, u64 gpa)
{
	return mem_get(f, gpa, 8);
}

static u32 get32(struct fake_mem *f, u64 gpa)
{
	return mem_get(f, gpa, 4);
}

static const struct khv_walk_mode mode_32 = {
	.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
	.cr3 = 0x1000,
};

static const struct khv_walk_mode mode_pae = {
	.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
	.cr3 = 0x1020,
	.cr4 = X86_CR4_PAE,
	.efer = EFER_NX,
};

static const struct khv_walk_mode mode_l4 = {
	.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP,
	.cr3 = 0x1000 | 0x123,	/* with a PCID */
	.cr4 = X86_CR4_PAE | X86_CR4_PCIDE,
	.efer = EFER_LME | EFER_LMA | EFER_NX,
};

/* 0x00403123: PDE 1, PTE 3, offset 0x123. */
static void walk_hand_32(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;

	mem_put(f, 0x1004, 0x2007, 4);
	mem_put(f, 0x200c, 0xabcde007, 4);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_32, 0x00403123, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0xabcde123ULL);
	KUNIT_EXPECT_EQ(test, res.level, 1);
	KUNIT_EXPECT_EQ(test, get32(f, 0x1004), 0x2027U);
	KUNIT_EXPECT_EQ(test, get32(f, 0x200c), 0xabcde067U);
	/* The neighbours of the entries were not touched. */
	KUNIT_EXPECT_EQ(test, get32(f, 0x1000), 0U);
	KUNIT_EXPECT_EQ(test, get32(f, 0x1008), 0U);
	KUNIT_EXPECT_EQ(test, get32(f, 0x2010), 0U);
	KUNIT_EXPECT_EQ(test, f->reads, 2U);
}

/* 0x80604567: PDPTE 2 (at CR3 + 16), PDE 3, PTE 4, offset 0x567. */
static void walk_hand_pae(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;
	struct khv_walk_mode m;

	mem_put(f, 0x1030, 0x2001, 8);
	mem_put(f, 0x2018, 0x3003, 8);
	mem_put(f, 0x3020, 0x123456003ULL | XD, 8);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_pae, 0x80604567, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x123456567ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x1030), 0x2001ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x2018), 0x3023ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x3020), 0x123456063ULL | XD);
	/* Outside long mode CR3 holds 32 bits; the upper half is ignored. */
	m = mode_pae;
	m.cr3 |= B(32) | B(40);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&m, 0x80604567, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x123456567ULL);
	/* PDPTEs are read from memory on each walk. */
	mem_put(f, 0x1030, 0, 8);
	KUNIT_ASSERT_EQ(test, KHV_WALK_FAULT,
			khv_walk(&mode_pae, 0x80604567, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.error_code, 0U);
}

/* 0x8080604567: PML4E 1, PDPTE 2, PDE 3, PTE 4, offset 0x567. */
static void walk_hand_l4(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;
	struct khv_walk_mode m;

	mem_put(f, 0x1008, 0x2003, 8);
	mem_put(f, 0x2010, 0x3003, 8);
	mem_put(f, 0x3018, 0x4003, 8);
	mem_put(f, 0x4020, 0x777777003ULL, 8);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_l4, 0x8080604567ULL, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x777777567ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x1008), 0x2023ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x2010), 0x3023ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x3018), 0x4023ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x4020), 0x777777023ULL);
	KUNIT_EXPECT_EQ(test, f->reads, 4U);
	KUNIT_EXPECT_EQ(test, f->xchgs, 4U);

	/* Again: A already set, nothing to write. A write then sets D only. */
	f->xchgs = 0;
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_l4, 0x8080604567ULL, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, f->xchgs, 0U);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_l4, 0x8080604567ULL, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, f->xchgs, 1U);
	KUNIT_EXPECT_EQ(test, get64(f, 0x4020), 0x777777063ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x3018), 0x4023ULL);

	/* CR3 bits above MAXPHYADDR (LAM's 62:61, say) are not address bits. */
	m = mode_l4;
	m.cr3 |= B(62) | B(61);
	m.maxphyaddr = 46;
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&m, 0x8080604567ULL, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x777777567ULL);
}

/*
 * A PML4 entry that points to the PML4 itself (a recursive mapping): the
 * same entry is each level of the walk and the leaf. Setting A in it as the
 * PML4E makes the compare-exchange for the next level fail; the retry finds
 * A set everywhere and the write then sets D.
 */
static void walk_recursive(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;
	const u64 r = 0x1ed;
	u64 gva = r << 39 | r << 30 | r << 21 | r << 12 | 0x10;

	gva |= 0xffffULL << 48;	/* bit 47 is set: sign-extend */
	mem_put(f, 0x1000 + r * 8, 0x1007, 8);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_l4, gva, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x1010ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x1000 + r * 8), 0x1067ULL);
}

/* Another vCPU sets an ignored bit between our read and our update. */
static void walk_race_retry(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;

	mem_put(f, 0x1008, 0x2003, 8);
	mem_put(f, 0x2010, 0x3003, 8);
	mem_put(f, 0x3018, 0x4003, 8);
	mem_put(f, 0x4020, 0x777777003ULL, 8);
	f->races = 1;
	f->race_set = B(9);
	KUNIT_ASSERT_EQ(test, 0, khv_walk(&mode_l4, 0x8080604567ULL, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.gpa, 0x777777567ULL);
	KUNIT_EXPECT_EQ(test, res.level, 1);
	KUNIT_EXPECT_EQ(test, get64(f, 0x1008), 0x2223ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x4020), 0x777777063ULL);
	KUNIT_EXPECT_EQ(test, f->reads, 8U);
	KUNIT_EXPECT_EQ(test, f->xchgs, 5U);
}

/* Another vCPU unmaps the page table meanwhile: the retry faults. */
static void walk_race_unmap(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;

	mem_put(f, 0x1008, 0x2003, 8);
	mem_put(f, 0x2010, 0x3003, 8);
	mem_put(f, 0x3018, 0x4003, 8);
	mem_put(f, 0x4020, 0x777777003ULL, 8);
	f->races = 1;
	f->race_clr = P_BIT;
	KUNIT_ASSERT_EQ(test, KHV_WALK_FAULT,
			khv_walk(&mode_l4, 0x8080604567ULL, A_W, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, res.error_code, EC_W);
	KUNIT_EXPECT_EQ(test, res.gpa, 0ULL);
	KUNIT_EXPECT_EQ(test, get64(f, 0x1008), 0x2002ULL);
}

/* Entries that never stop changing: bounded, then -EAGAIN. */
static void walk_race_forever(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;

	mem_put(f, 0x1004, 0x2007, 4);
	mem_put(f, 0x200c, 0xabcde007, 4);
	f->races = ~0U;
	f->race_flip = B(9);
	KUNIT_EXPECT_EQ(test, -EAGAIN,
			khv_walk(&mode_32, 0x00403123, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, f->xchgs, (unsigned int)KHV_WALK_TRIES);
	KUNIT_EXPECT_EQ(test, f->reads, 2U * KHV_WALK_TRIES);
}

/* Errors of the callbacks are passed up. */
static void walk_callback_errors(struct kunit *test)
{
	struct fake_mem *f = fake_new(test);
	struct khv_walk_result res;

	mem_put(f, 0x1004, 0x2007, 4);
	mem_put(f, 0x200c, 0xabcde007, 4);
	f->xchg_efault = true;
	KUNIT_EXPECT_EQ(test, -EFAULT,
			khv_walk(&mode_32, 0x00403123, A_R, &fake_ops, f, &res));
	f->xchg_efault = false;
	f->read_err = -EIO;
	KUNIT_EXPECT_EQ(test, -EIO,
			khv_walk(&mode_32, 0x00403123, A_R, &fake_ops, f, &res));
	KUNIT_EXPECT_EQ(test, get32(f, 0x1004), 0x2007U);
}

static void walk_canonical_helper(struct kunit *test)
{
	struct khv_walk_mode m = mode_l4;

	KUNIT_EXPECT_EQ(test, khv_walk_la_bits(&mode_32), 32U);
	KUNIT_EXPECT_EQ(test, khv_walk_la_bits(&mode_pae), 32U);
	KUNIT_EXPECT_EQ(test, khv_walk_la_bits(&m), 48U);
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, 0));
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, ~0ULL));
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, 0x00007fffffffffffULL));
	KUNIT_EXPECT_FALSE(test, khv_walk_canonical(&m, 0x0000800000000000ULL));
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&mode_32, 0x0000800000000000ULL));
	m.cr4 |= X86_CR4_LA57;
	KUNIT_EXPECT_EQ(test, khv_walk_la_bits(&m), 57U);
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, 0x0000800000000000ULL));
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, 0x00ffffffffffffffULL));
	KUNIT_EXPECT_FALSE(test, khv_walk_canonical(&m, 0x0100000000000000ULL));
	KUNIT_EXPECT_TRUE(test, khv_walk_canonical(&m, 0xff00000000000000ULL));
	/* Paging off: even with LMA left set, no long-mode check. */
	m.cr0 &= ~X86_CR0_PG;
	KUNIT_EXPECT_EQ(test, khv_walk_la_bits(&m), 32U);
}

static struct kunit_case khv_x86_walk_cases[] = {
	KUNIT_CASE_PARAM(walk_table, walk_cases_gen_params),
	KUNIT_CASE(walk_hand_32),
	KUNIT_CASE(walk_hand_pae),
	KUNIT_CASE(walk_hand_l4),
	KUNIT_CASE(walk_recursive),
	KUNIT_CASE(walk_race_retry),
	KUNIT_CASE(walk_race_unmap),
	KUNIT_CASE(walk_race_forever),
	KUNIT_CASE(walk_callback_errors),
	KUNIT_CASE(walk_canonical_helper),
	{}
};

static struct kunit_suite khv_x86_walk_suite = {
	.name = "khv_x86_walk",
	.test_cases = khv_x86_walk_cases,
};
kunit_test_suite(khv_x86_walk_suite);

MODULE_DESCRIPTION("khv: KUnit tests of the guest page-table walker");
MODULE_LICENSE("GPL");
