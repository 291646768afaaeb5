// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest that starts in real mode and climbs to long mode by itself, the
 * way a boot loader does (the host only wrote a GDT, IDTs and page tables
 * into its memory):
 *   1. real mode;
 *   2. lgdt/lidt, CR0.PE, far jump: 32-bit protected mode; ltr;
 *   3. CR3 + CR0.PG|WP: 2-level paging;
 *   4. PG off, CR4.PAE, CR3, PG on: PAE paging, its four PDPTEs loaded by
 *      the MOV to CR0 (each one maps something the guest reads; the last
 *      maps an MMIO window);
 *   5. MOV to CR3 of other PAE tables: PDPTEs reloaded;
 *   6. PG off, EFER.LME by wrmsr, CR3 of 4-level tables, PG on:
 *      compatibility mode (EFER.LMA, CS.L clear);
 *   7. far jump to a 64-bit code segment.
 * At each stage it reports by OUT; the host checks KVM_GET_SREGS (CR0, CR3,
 * CR4, EFER, segments) there. The same virtual address maps to a different
 * page in each set of tables, so what the guest reads through it tells
 * which tables were in use.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_modes.h"

/* Parameters the host writes (guest-physical, read in 32-bit mode). */
#define P_CR3_32	0x40000
#define P_CR3_PAE	0x40004
#define P_CR3_PAE2	0x40008
#define P_CR3_4L	0x4000c
/* Pages holding a value each, reached through the aliases below. */
#define PG_2L		0x41000
#define PG_PAE0		0x42000
#define PG_PAE1		0x43000
#define PG_PAE2		0x44000
#define PG_PAEB		0x45000
#define PG_4L		0x46000
#define PG_4L_HI	0x47000
#define V_2L		0x2222aaaaU
#define V_PAE0		0xaeaeae00U
#define V_PAE1		0xaeaeae01U
#define V_PAE2		0xaeaeae02U
#define V_PAEB		0xbbbb0001U
#define V_4L		0x44440001U
#define V_4L_HI		0x44440002U

#define ALIAS		0x400000	/* a different page in each set of tables */
#define MMIO_GPA	0xc0000000ULL
#define MMIO_VA_2L	0x40000000	/* 2-level: -> MMIO_GPA */
#define MMIO_VA_PAE	0xc0400000	/* PAE, 4th PDPTE: -> MMIO_GPA */
#define HI_VA		0xffff800000400000ULL

KHV_GUEST_DECLARE(ms_guest);

asm(KHV_GUEST_BEGIN(ms_guest, 16)
    /* 1: real mode, CS = 0x1000. */
    "	mov $1, %al\n"
    "	out %al, $0x70\n"
    "	cli\n"
    "	xor %ax, %ax\n"
    "	mov %ax, %ds\n"
    "	lgdtl " KHV_STR(KHV_MODES_GDTR) "\n"
    "	lidtl " KHV_STR(KHV_MODES_IDTR32) "\n"
    "	mov %cr0, %eax\n"
    "	or $1, %eax\n"
    "	mov %eax, %cr0\n"
    "	ljmpl $" KHV_STR(KHV_SEL_CODE32) ", $" KHV_GVA(ms_guest, 1f) "\n"
    ".code32\n"
    /* 2: protected mode. */
    "1:	mov $" KHV_STR(KHV_SEL_DATA) ", %ax\n"
    "	mov %ax, %ds\n"
    "	mov %ax, %es\n"
    "	mov %ax, %fs\n"
    "	mov %ax, %gs\n"
    "	mov %ax, %ss\n"
    "	mov $" KHV_STR(KHV_MODES_STACK) ", %esp\n"
    "	mov $" KHV_STR(KHV_SEL_TSS) ", %ax\n"
    "	ltr %ax\n"
    "	mov $2, %al\n"
    "	out %al, $0x70\n"
    /* 3: 2-level paging. */
    "	mov " KHV_STR(P_CR3_32) ", %eax\n"
    "	mov %eax, %cr3\n"
    "	mov %cr0, %eax\n"
    "	or $0x80010000, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $3, %al\n"
    "	out %al, $0x70\n"
    "	mov " KHV_STR(ALIAS) ", %eax\n"
    "	out %eax, $0x71\n"
    "	mov " KHV_STR(MMIO_VA_2L) "+0x10, %eax\n"
    "	out %eax, $0x71\n"
    /* 4: PAE paging, entered with paging off. */
    "	mov %cr0, %eax\n"
    "	and $0x7fffffff, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov %cr4, %eax\n"
    "	or $0x20, %eax\n"
    "	mov %eax, %cr4\n"
    "	mov " KHV_STR(P_CR3_PAE) ", %eax\n"
    "	mov %eax, %cr3\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $4, %al\n"
    "	out %al, $0x70\n"
    "	mov " KHV_STR(ALIAS) ", %eax\n"
    "	out %eax, $0x71\n"
    "	mov 0x40000000, %eax\n"
    "	out %eax, $0x71\n"
    "	mov 0x80000000, %eax\n"
    "	out %eax, $0x71\n"
    "	mov " KHV_STR(MMIO_VA_PAE) "+0x20, %eax\n"
    "	out %eax, $0x71\n"
    /* 5: other PAE tables by MOV to CR3. */
    "	mov " KHV_STR(P_CR3_PAE2) ", %eax\n"
    "	mov %eax, %cr3\n"
    "	mov $5, %al\n"
    "	out %al, $0x70\n"
    "	mov " KHV_STR(ALIAS) ", %eax\n"
    "	out %eax, $0x71\n"
    /* 6: long mode (compatibility mode first). */
    "	mov %cr0, %eax\n"
    "	and $0x7fffffff, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $0xc0000080, %ecx\n"
    "	rdmsr\n"
    "	or $0x100, %eax\n"
    "	wrmsr\n"
    "	mov " KHV_STR(P_CR3_4L) ", %eax\n"
    "	mov %eax, %cr3\n"
    "	lidt " KHV_STR(KHV_MODES_IDTR64) "\n"
    "	mov %cr0, %eax\n"
    "	or $0x80000000, %eax\n"
    "	mov %eax, %cr0\n"
    "	mov $6, %al\n"
    "	out %al, $0x70\n"
    "	mov " KHV_STR(ALIAS) ", %eax\n"
    "	out %eax, $0x71\n"
    "	ljmp $" KHV_STR(KHV_SEL_CODE64) ", $" KHV_GVA(ms_guest, 2f) "\n"
    ".code64\n"
    /* 7: 64-bit mode. */
    "2:	movabs $0x123456789abcdef0, %rbx\n"
    "	mov $7, %al\n"
    "	out %al, $0x70\n"
    "	movabs $" KHV_STR(HI_VA) ", %rax\n"
    "	mov (%rax), %eax\n"
    "	out %eax, $0x71\n"
    "	hlt\n"
    KHV_GUEST_END(ms_guest));

static bool alive = true;

static bool step(bool ok)
{
	alive = alive && ok;
	return ok;
}

#define POINT(cond, ...) tap_ok(alive && step(cond), __VA_ARGS__)
#define U(x) ((unsigned long long)(x))

static bool stage(struct khv_vcpu *c, int n, struct kvm_sregs *sregs)
{
	uint64_t v;

	memset(sregs, 0, sizeof(*sregs));
	if (!alive || !khv_expect_out(c, 0x70, 1, &v))
		return false;
	khv_get_sregs(c, sregs);
	if (v != (uint64_t)n) {
		tap_diag("stage %llu reported, expected %d", U(v), n);
		return false;
	}
	return true;
}

static void put32(struct khv_vm *m, uint64_t gpa, uint32_t v)
{
	*(uint32_t *)khv_gpa(m, gpa) = v;
}

int main(void)
{
	uint64_t root32, rootpae, rootpae2, root4l, v[4] = { 0 }, data;
	struct kvm_sregs s;
	struct kvm_regs regs;
	struct khv_vcpu *c;
	struct khv_vm m;
	bool ok;

	tap_plan(11);
	khv_vm_create(&m, KHV_MODE_REAL, ms_guest, KHV_GUEST_SIZE(ms_guest));
	c = khv_vm_add_vcpu(&m);

	put32(&m, PG_2L, V_2L);
	put32(&m, PG_PAE0, V_PAE0);
	put32(&m, PG_PAE1, V_PAE1);
	put32(&m, PG_PAE2, V_PAE2);
	put32(&m, PG_PAEB, V_PAEB);
	put32(&m, PG_4L, V_4L);
	put32(&m, PG_4L_HI, V_4L_HI);

	root32 = khv_pt_new(&m, KHV_PG_32);
	khv_pt_identity(&m, KHV_PG_32, root32, KHV_PAGE_4K);
	khv_pt_map(&m, KHV_PG_32, root32, ALIAS, PG_2L, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_32, root32, MMIO_VA_2L, MMIO_GPA, 0x1000, KHV_PAGE_4K, KHV_PTE_W);

	rootpae = khv_pt_new(&m, KHV_PG_PAE);
	khv_pt_identity(&m, KHV_PG_PAE, rootpae, KHV_PAGE_4K);
	khv_pt_map(&m, KHV_PG_PAE, rootpae, ALIAS, PG_PAE0, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_PAE, rootpae, 0x40000000, PG_PAE1, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_PAE, rootpae, 0x80000000, PG_PAE2, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_PAE, rootpae, MMIO_VA_PAE, MMIO_GPA, KHV_PAGE_2M, KHV_PAGE_2M,
		   KHV_PTE_W);

	rootpae2 = khv_pt_new(&m, KHV_PG_PAE);
	khv_pt_map(&m, KHV_PG_PAE, rootpae2, 0, 0, 0x200000, KHV_PAGE_2M, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_PAE, rootpae2, ALIAS, PG_PAEB, 0x1000, KHV_PAGE_4K, KHV_PTE_W);

	root4l = khv_pt_new(&m, KHV_PG_4L);
	khv_pt_map(&m, KHV_PG_4L, root4l, 0, 0, 0x200000, KHV_PAGE_2M, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_4L, root4l, ALIAS, PG_4L, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_pt_map(&m, KHV_PG_4L, root4l, HI_VA, PG_4L_HI, 0x1000, KHV_PAGE_4K, KHV_PTE_W);

	put32(&m, P_CR3_32, root32);
	put32(&m, P_CR3_PAE, rootpae);
	put32(&m, P_CR3_PAE2, rootpae2);
	put32(&m, P_CR3_4L, root4l);

	ok = stage(c, 1, &s);
	POINT(ok && !(s.cr0 & KHV_CR0_PE) && s.cs.selector == KHV_MODES_CODE >> 4 &&
	      s.cs.base == KHV_MODES_CODE && !(s.efer & (KHV_EFER_LME | KHV_EFER_LMA)),
	      "1 real mode: cr0 0x%llx cs 0x%x base 0x%llx efer 0x%llx",
	      s.cr0, s.cs.selector, s.cs.base, s.efer);

	ok = stage(c, 2, &s);
	POINT(ok && (s.cr0 & (KHV_CR0_PE | KHV_CR0_PG)) == KHV_CR0_PE &&
	      s.cs.selector == KHV_SEL_CODE32 && s.cs.db && !s.cs.l && s.cs.base == 0 &&
	      s.cs.limit == 0xffffffff && s.ds.selector == KHV_SEL_DATA && s.ss.db &&
	      s.tr.selector == KHV_SEL_TSS && s.tr.base == KHV_MODES_TSS && s.tr.type == 11 &&
	      s.gdt.base == KHV_MODES_GDT && s.idt.base == KHV_MODES_IDT32 &&
	      s.idt.limit == 256 * 8 - 1,
	      "2 protected mode: cr0 0x%llx cs 0x%x (db %d, limit 0x%x) ds 0x%x tr 0x%x "
	      "(type %d) gdt 0x%llx idt 0x%llx", s.cr0, s.cs.selector, s.cs.db, s.cs.limit,
	      s.ds.selector, s.tr.selector, s.tr.type, s.gdt.base, s.idt.base);

	ok = stage(c, 3, &s);
	POINT(ok && (s.cr0 & (KHV_CR0_PE | KHV_CR0_PG | KHV_CR0_WP)) ==
		    (KHV_CR0_PE | KHV_CR0_PG | KHV_CR0_WP) &&
	      !(s.cr4 & KHV_CR4_PAE) && s.cr3 == root32 && !(s.efer & KHV_EFER_LMA),
	      "3 2-level paging: cr0 0x%llx cr4 0x%llx cr3 0x%llx efer 0x%llx",
	      s.cr0, s.cr4, s.cr3, s.efer);
	data = 0x600dcafe;
	ok = alive && khv_expect_out(c, 0x71, 4, &v[0]) &&
	     khv_expect_mmio(c, MMIO_GPA + 0x10, 4, false, &data) &&
	     khv_expect_out(c, 0x71, 4, &v[1]);
	POINT(ok && v[0] == V_2L && v[1] == 0x600dcafe,
	      "  read through its tables 0x%llx, MMIO read at the translated address 0x%llx",
	      U(v[0]), U(v[1]));

	ok = stage(c, 4, &s);
	POINT(ok && (s.cr0 & (KHV_CR0_PE | KHV_CR0_PG)) == (KHV_CR0_PE | KHV_CR0_PG) &&
	      (s.cr4 & KHV_CR4_PAE) && s.cr3 == rootpae && !(s.efer & (KHV_EFER_LME | KHV_EFER_LMA)),
	      "4 PAE paging, turned on by the guest: cr0 0x%llx cr4 0x%llx cr3 0x%llx efer 0x%llx",
	      s.cr0, s.cr4, s.cr3, s.efer);
	ok = alive && khv_expect_out(c, 0x71, 4, &v[0]) && khv_expect_out(c, 0x71, 4, &v[1]) &&
	     khv_expect_out(c, 0x71, 4, &v[2]);
	POINT(ok && v[0] == V_PAE0 && v[1] == V_PAE1 && v[2] == V_PAE2,
	      "  reads through PDPTEs 0, 1, 2: 0x%llx 0x%llx 0x%llx", U(v[0]), U(v[1]), U(v[2]));
	data = 0x5eed5eed;
	ok = alive && khv_expect_mmio(c, MMIO_GPA + 0x20, 4, false, &data) &&
	     khv_expect_out(c, 0x71, 4, &v[0]);
	POINT(ok && v[0] == 0x5eed5eed,
	      "  MMIO through PDPTE 3 (0x%x) at 0x%llx, read 0x%llx", MMIO_VA_PAE + 0x20,
	      MMIO_GPA + 0x20, U(v[0]));

	ok = stage(c, 5, &s);
	ok = ok && khv_expect_out(c, 0x71, 4, &v[0]);
	POINT(ok && s.cr3 == rootpae2 && (s.cr4 & KHV_CR4_PAE) && v[0] == V_PAEB,
	      "5 MOV to CR3 of other PAE tables: cr3 0x%llx, read through them 0x%llx",
	      s.cr3, U(v[0]));

	ok = stage(c, 6, &s);
	ok = ok && khv_expect_out(c, 0x71, 4, &v[0]);
	POINT(ok && (s.efer & (KHV_EFER_LME | KHV_EFER_LMA)) == (KHV_EFER_LME | KHV_EFER_LMA) &&
	      (s.cr0 & KHV_CR0_PG) && (s.cr4 & KHV_CR4_PAE) && s.cr3 == root4l && !s.cs.l &&
	      s.cs.db && s.idt.base == KHV_MODES_IDT64 && v[0] == V_4L,
	      "6 compatibility mode: efer 0x%llx cr3 0x%llx cs.l %d cs.db %d idt 0x%llx, "
	      "read 0x%llx", s.efer, s.cr3, s.cs.l, s.cs.db, s.idt.base, U(v[0]));

	ok = stage(c, 7, &s);
	memset(&regs, 0, sizeof(regs));
	if (ok)
		khv_get_regs(c, &regs);
	POINT(ok && s.cs.l && !s.cs.db && s.cs.selector == KHV_SEL_CODE64 &&
	      (s.efer & KHV_EFER_LMA) && regs.rbx == 0x123456789abcdef0ULL,
	      "7 64-bit mode: cs 0x%x l %d db %d, rbx 0x%llx", s.cs.selector, s.cs.l, s.cs.db,
	      regs.rbx);
	ok = alive && khv_expect_out(c, 0x71, 4, &v[0]) && khv_expect_exit(c, KVM_EXIT_HLT);
	khv_get_regs(c, &regs);
	POINT(ok && v[0] == V_4L_HI && regs.rip == KHV_MODES_CODE + KHV_GUEST_SIZE(ms_guest),
	      "  read through a high canonical address 0x%llx, HLT (rip 0x%llx)", U(v[0]),
	      regs.rip);
	khv_vm_destroy(&m);
	return tap_finish();
}
