/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest page-table walker: translates a guest linear address to a guest
 * physical one the way the guest's MMU would (Intel SDM vol. 3A ch. 4,
 * AMD APM vol. 2 ch. 5), for the instruction emulator.
 *
 * Pure logic: no VM structure is touched. The caller describes the guest's
 * paging controls (struct khv_walk_mode) and gives two callbacks to read and
 * update paging-structure entries in guest-physical memory.
 *
 * Paging modes, chosen as the hardware does:
 *   CR0.PG = 0           none: the linear address (bits 31:0) is the
 *                        physical one; segmentation is the caller's job;
 *   EFER.LMA = 1         4-level, or 5-level when CR4.LA57 = 1;
 *   CR4.PAE = 1          PAE (3-level, 64-bit entries);
 *   otherwise            32-bit (2-level, 32-bit entries; CR4.PSE enables
 *                        4-MiB pages, with PSE-36 address bits 39:32).
 * Outside long mode only bits 31:0 of the linear address are used. The
 * caller passes a consistent state (LMA implies PG and PAE).
 *
 * Not modelled: protection keys (CR4.PKE/PKS: the key bits 62:59 of an
 * IA-32e entry are not reserved and not checked, the PK error bit is never
 * set), shadow stacks (CET), HLAT, SGX, and the paging-structure caches
 * (every walk reads memory: a PAE walk reads the four PDPTEs from CR3 each
 * time rather than the values the guest's last CR3 load latched; see
 * arch/x86/walk.c).
 *
 * Locking: none here; the callbacks run in the caller's context (they
 * typically read guest memory under the VM's SRCU), so the walk may sleep
 * only if they do.
 */
#ifndef KHV_X86_WALK_H
#define KHV_X86_WALK_H

#include <linux/bits.h>
#include <linux/types.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>

/* The guest's paging controls. A zeroed field means the default noted. */
struct khv_walk_mode {
	u64 cr0, cr3, cr4, efer;
	u64 rflags;		/* EFLAGS.AC, for SMAP */
	u8 cpl;			/* 3: accesses are user-mode (see KHV_ACC_*) */
	u8 maxphyaddr;		/* guest CPUID.80000008H:EAX[7:0]; 0 means 52 */
	bool no_gbpages;	/* guest lacks 1-GiB pages: PS in a PDPTE is reserved */
	bool amd;		/* AMD reserved bits: bit 8 of a PML5E/PML4E is MBZ */
};

/*
 * The access being translated. An access is user-mode when KHV_ACC_USER is
 * set or cpl is 3, unless KHV_ACC_IMPLICIT is set: implicit accesses to
 * system structures (GDT, LDT, IDT, TSS) are supervisor-mode at any CPL, and
 * SMAP applies to them whatever EFLAGS.AC says.
 */
#define KHV_ACC_WRITE		BIT(0)
#define KHV_ACC_USER		BIT(1)
#define KHV_ACC_FETCH		BIT(2)
#define KHV_ACC_IMPLICIT	BIT(3)

/* #PF error code (SDM vol. 3A 4.7). */
#define KHV_PFERR_PRESENT	BIT(0)	/* 0: a non-present entry; 1: rights or RSVD */
#define KHV_PFERR_WRITE		BIT(1)
#define KHV_PFERR_USER		BIT(2)
#define KHV_PFERR_RSVD		BIT(3)	/* a reserved bit set in a present entry */
#define KHV_PFERR_FETCH		BIT(4)	/* a fetch, when SMEP or (PAE/IA-32e and NXE) */
#define KHV_PFERR_PK		BIT(5)	/* never set: protection keys are not modelled */

struct khv_walk_ops {
	/*
	 * Read a 4- or 8-byte paging-structure entry at a guest-physical
	 * address (naturally aligned): 0, or -EFAULT when the address is not
	 * guest RAM. Any other negative value is passed up unchanged.
	 */
	int (*read_pte)(void *ctx, u64 gpa, u64 *val, unsigned int size);
	/*
	 * Set accessed/dirty bits: replace the entry at gpa by new if it still
	 * holds old, atomically. 0, -EAGAIN if it changed, -EFAULT.
	 */
	int (*cmpxchg_pte)(void *ctx, u64 gpa, u64 old, u64 new, unsigned int size);
};

struct khv_walk_result {
	u64 gpa;		/* the translation, when khv_walk() returns 0 */
	u32 error_code;		/* KHV_PFERR_*, when it returns KHV_WALK_FAULT */
	u8 level;		/* leaf: 1 = 4 KiB, 2 = 2/4 MiB, 3 = 1 GiB; 0 = no paging */
};

/*
 * khv_walk() returns:
 *   0                      translated: res->gpa, res->level; the accessed
 *                          bits of every entry used, and for a write the
 *                          dirty bit of the leaf, are set in guest memory;
 *   KHV_WALK_FAULT         the guest gets #PF with res->error_code (setting
 *                          CR2 = gva is the caller's job); this walk wrote
 *                          nothing (an earlier attempt of the same call that
 *                          was retried may have set accessed bits);
 *   KHV_WALK_NONCANONICAL  long mode and gva is not canonical (48 bits, or
 *                          57 with CR4.LA57): nothing was read; the caller
 *                          raises #GP(0), or #SS(0) for a stack reference;
 *   -EFAULT                a paging structure is outside guest RAM (or an
 *                          update of one failed): emulation failure;
 *   -EAGAIN                entries kept changing under the accessed/dirty
 *                          updates (KHV_WALK_TRIES whole walks): the caller
 *                          may re-enter the guest and let it retry;
 *   other negative         as returned by read_pte.
 */
#define KHV_WALK_FAULT		1
#define KHV_WALK_NONCANONICAL	2
#define KHV_WALK_TRIES		8

int khv_walk(const struct khv_walk_mode *m, u64 gva, u32 access,
	     const struct khv_walk_ops *ops, void *ctx,
	     struct khv_walk_result *res);

/* Width of a linear address in the current mode: 32, 48 or 57. */
static inline unsigned int khv_walk_la_bits(const struct khv_walk_mode *m)
{
	if (!(m->cr0 & X86_CR0_PG) || !(m->efer & EFER_LMA))
		return 32;
	return (m->cr4 & X86_CR4_LA57) ? 57 : 48;
}

/*
 * Whether gva is canonical in long mode (bits 63:N-1 all equal). Outside
 * long mode every value is accepted: only bits 31:0 are used there.
 */
static inline bool khv_walk_canonical(const struct khv_walk_mode *m, u64 gva)
{
	unsigned int bits = khv_walk_la_bits(m);

	if (bits == 32)
		return true;
	return (u64)((s64)(gva << (64 - bits)) >> (64 - bits)) == gva;
}

#endif /* KHV_X86_WALK_H */
