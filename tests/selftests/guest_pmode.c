// SPDX-License-Identifier: GPL-2.0-only
/*
 * 32-bit protected mode, entered by the host with KVM_SET_SREGS: without
 * paging, with 2-level paging (4 KiB pages), with 4 MiB pages (CR4.PSE) and
 * with PAE paging. In each mode the same guest does
 *   - port I/O of each size, IN data landing in AL/AX/EAX only;
 *   - rep outsb / rep insb through a virtual alias of a buffer (another
 *     guest-physical address than the virtual one when paging is on);
 *   - MMIO writes and reads (mov of each size, movzx, movsx, rep stosl)
 *     through a virtual address mapped to a guest-physical address no memslot
 *     backs: KVM_EXIT_MMIO carries the translated address;
 *   - CPUID leaves 0 and 0x80000001 from the table set with KVM_SET_CPUID2;
 *   - with paging: a write to an unmapped page and one to a read-only page,
 *     each a #PF delivered to the guest's IDT (vector, error code, CR2,
 *     faulting EIP checked), the accessed/dirty bits the walks set, CR2 in
 *     KVM_GET_SREGS;
 *   - HLT, with EIP past it.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_modes.h"

/* Parameters the host writes for the guest (guest-physical = virtual). */
#define P_MMIO		0x40000		/* virtual address of the MMIO window */
#define P_ALIAS		0x40004		/* virtual alias of BUF */
#define P_ALIAS2	0x40008		/* virtual alias of BUF2 */
#define P_UNMAP		0x4000c		/* an unmapped address (0: no paging) */
#define P_RO		0x40010		/* a read-only address */
#define BUF		0x41000		/* rep outsb reads here */
#define BUF2		0x42000		/* rep insb writes here */
#define RO_PAGE		0x43000

#define MMIO_GPA	0xc0000000ULL	/* no memslot there */
#define MMIO_VA		0x40000000ULL	/* with paging */
#define ALIAS_VA(gpa)	(0x400000 + (gpa))
#define RO_VA		(0xc00000 + RO_PAGE + 0x18)
#define UNMAP_VA	0x812344ULL

KHV_GUEST_DECLARE(pm_guest);
extern const uint8_t pm_pf1[], pm_pf2[];

asm(KHV_GUEST_BEGIN(pm_guest, 32)
    /* Port I/O of each size. */
    "	mov $0x11, %al\n"
    "	out %al, $0x10\n"
    "	mov $0x2233, %ax\n"
    "	out %ax, $0x10\n"
    "	mov $0x44556677, %eax\n"
    "	out %eax, $0x10\n"
    "	mov $0xaabbccdd, %eax\n"
    "	in $0x11, %al\n"
    "	mov %eax, %ebx\n"
    "	in $0x11, %ax\n"
    "	mov %eax, %ecx\n"
    "	mov $0x1234, %dx\n"
    "	in (%dx), %eax\n"
    "	mov %eax, %esi\n"
    "	mov %ebx, %eax\n"
    "	out %eax, $0x12\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x12\n"
    "	mov %esi, %eax\n"
    "	out %eax, $0x12\n"
    /* String I/O through the alias. */
    "	cld\n"
    "	mov " KHV_STR(P_ALIAS) ", %esi\n"
    "	mov $6, %ecx\n"
    "	mov $0x80, %dx\n"
    "	rep outsb\n"
    "	mov " KHV_STR(P_ALIAS2) ", %edi\n"
    "	mov $5, %ecx\n"
    "	mov $0x81, %dx\n"
    "	rep insb\n"
    "	mov %esi, %eax\n"
    "	out %eax, $0x82\n"
    "	mov %edi, %eax\n"
    "	out %eax, $0x82\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x82\n"
    /* MMIO. */
    "	mov " KHV_STR(P_MMIO) ", %ebx\n"
    "	movl $0xcafef00d, (%ebx)\n"
    "	movw $0xbeef, 4(%ebx)\n"
    "	movb $0x5a, 6(%ebx)\n"
    "	mov 8(%ebx), %ecx\n"
    "	movzbl 12(%ebx), %edx\n"
    "	movswl 14(%ebx), %esi\n"
    "	lea 0x20(%ebx), %edi\n"
    "	mov $0x11223344, %eax\n"
    "	push %ecx\n"
    "	mov $2, %ecx\n"
    "	rep stosl\n"
    "	pop %ecx\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x90\n"
    "	mov %edx, %eax\n"
    "	out %eax, $0x90\n"
    "	mov %esi, %eax\n"
    "	out %eax, $0x90\n"
    "	mov %edi, %eax\n"
    "	out %eax, $0x90\n"
    /* CPUID. */
    "	xor %eax, %eax\n"
    "	xor %ecx, %ecx\n"
    "	cpuid\n"
    "	out %eax, $0x30\n"
    "	mov %ebx, %eax\n"
    "	out %eax, $0x30\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x30\n"
    "	mov %edx, %eax\n"
    "	out %eax, $0x30\n"
    "	mov $0x80000001, %eax\n"
    "	xor %ecx, %ecx\n"
    "	cpuid\n"
    "	mov %edx, %eax\n"
    "	out %eax, $0x31\n"
    /* Page faults, with paging only. */
    "	mov " KHV_STR(P_UNMAP) ", %eax\n"
    "	test %eax, %eax\n"
    "	jz 5f\n"
    "	movl $" KHV_GVA(pm_guest, 1f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    ".globl pm_pf1\n"
    "pm_pf1:\n"
    "	movl $0x12345678, (%eax)\n"
    "1:	mov " KHV_STR(P_RO) ", %ebx\n"
    "	mov (%ebx), %ecx\n"
    "	movl $" KHV_GVA(pm_guest, 2f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    ".globl pm_pf2\n"
    "pm_pf2:\n"
    "	movl $0x9abcdef0, (%ebx)\n"
    "2:	mov %ecx, %eax\n"
    "	out %eax, $0x40\n"
    "5:	hlt\n"
    KHV_GUEST_END(pm_guest));

#define GVA(label)	(KHV_MODES_CODE + (uint64_t)((label) - pm_guest))

struct access { uint64_t off; uint32_t len; bool write; uint64_t data; };

static const struct access mmio[] = {
	{ 0x00, 4, true, 0xcafef00d },
	{ 0x04, 2, true, 0xbeef },
	{ 0x06, 1, true, 0x5a },
	{ 0x08, 4, false, 0x01020304 },
	{ 0x0c, 1, false, 0x80 },
	{ 0x0e, 2, false, 0x8001 },
	{ 0x20, 4, true, 0x11223344 },
	{ 0x24, 4, true, 0x11223344 },
};
#define NR_MMIO (sizeof(mmio) / sizeof(mmio[0]))

/* Once a step goes wrong the guest is somewhere unknown: later points fail
 * without running it. */
static bool alive;

static bool step(bool ok)
{
	alive = alive && ok;
	return ok;
}

#define POINT(cond, ...) tap_ok(alive && step(cond), __VA_ARGS__)

static void one_mode(enum khv_mode mode)
{
	bool paging = mode != KHV_MODE_PROT32;
	uint64_t mmio_va = paging ? MMIO_VA : MMIO_GPA;
	const char *mn = khv_mode_name(mode);
	uint64_t v[6] = { 0 };
	uint8_t got[8] = { 0 };
	unsigned int n, bad;
	struct khv_vcpu *c;
	struct khv_vm m;
	struct khv_exc *e;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint8_t *pio;
	bool ok;

	khv_vm_create(&m, mode, pm_guest, KHV_GUEST_SIZE(pm_guest));
	e = khv_exc(&m);
	memcpy(khv_gpa(&m, BUF), "hello!", 6);
	*(uint32_t *)khv_gpa(&m, RO_PAGE + 0x18) = 0x600df00d;
	*(uint32_t *)khv_gpa(&m, P_MMIO) = (uint32_t)mmio_va;
	*(uint32_t *)khv_gpa(&m, P_ALIAS) = paging ? ALIAS_VA(BUF) : BUF;
	*(uint32_t *)khv_gpa(&m, P_ALIAS2) = paging ? ALIAS_VA(BUF2) : BUF2;
	*(uint32_t *)khv_gpa(&m, P_UNMAP) = paging ? UNMAP_VA : 0;
	*(uint32_t *)khv_gpa(&m, P_RO) = paging ? RO_VA : 0;
	switch (mode) {
	case KHV_MODE_PROT32_PG:
		khv_map(&m, ALIAS_VA(BUF), BUF, 0x2000, KHV_PAGE_4K, KHV_PTE_W);
		khv_map(&m, MMIO_VA, MMIO_GPA, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
		khv_map(&m, 0xc00000 + RO_PAGE, RO_PAGE, 0x1000, KHV_PAGE_4K, 0);
		break;
	case KHV_MODE_PROT32_PSE:
		khv_map(&m, 0x400000, 0, KHV_PAGE_4M, KHV_PAGE_4M, KHV_PTE_W);
		khv_map(&m, MMIO_VA, MMIO_GPA, KHV_PAGE_4M, KHV_PAGE_4M, KHV_PTE_W);
		khv_map(&m, 0xc00000, 0, KHV_PAGE_4M, KHV_PAGE_4M, 0);
		break;
	case KHV_MODE_PROT32_PAE:
		khv_map(&m, ALIAS_VA(BUF), BUF, 0x2000, KHV_PAGE_4K, KHV_PTE_W);
		khv_map(&m, MMIO_VA, MMIO_GPA, KHV_PAGE_2M, KHV_PAGE_2M, KHV_PTE_W);
		khv_map(&m, 0xc00000 + RO_PAGE, RO_PAGE, 0x1000, KHV_PAGE_4K, 0);
		break;
	default:
		break;
	}
	c = khv_vm_add_vcpu(&m);
	alive = true;

	/* Port I/O of each size. */
	ok = khv_expect_out(c, 0x10, 1, &v[0]) && khv_expect_out(c, 0x10, 2, &v[1]) &&
	     khv_expect_out(c, 0x10, 4, &v[2]);
	POINT(ok && v[0] == 0x11 && v[1] == 0x2233 && v[2] == 0x44556677,
	      "%s: out of 1, 2, 4 bytes (0x%llx 0x%llx 0x%llx)", mn,
	      (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2]);
	ok = alive && khv_expect_io(c, KVM_EXIT_IO_IN, 1, 0x11);
	if (ok) {
		khv_io_set(c, 0x5a);
		ok = khv_expect_io(c, KVM_EXIT_IO_IN, 2, 0x11);
	}
	if (ok) {
		khv_io_set(c, 0x1357);
		ok = khv_expect_io(c, KVM_EXIT_IO_IN, 4, 0x1234);
	}
	if (ok) {
		khv_io_set(c, 0x89abcdef);
		ok = khv_expect_out(c, 0x12, 4, &v[0]) && khv_expect_out(c, 0x12, 4, &v[1]) &&
		     khv_expect_out(c, 0x12, 4, &v[2]);
	}
	POINT(ok && v[0] == 0xaabbcc5a && v[1] == 0xaabb1357 && v[2] == 0x89abcdef,
	      "%s: in of 1, 2, 4 bytes lands in al/ax/eax (0x%llx 0x%llx 0x%llx)", mn,
	      (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2]);

	/* rep outsb, rep insb. */
	n = 0;
	ok = alive;
	while (ok && n < 6) {
		long r = khv_vcpu_run(c);

		ok = r == 0 && c->run->exit_reason == KVM_EXIT_IO &&
		     c->run->io.direction == KVM_EXIT_IO_OUT && c->run->io.port == 0x80 &&
		     c->run->io.size == 1 && c->run->io.count >= 1 &&
		     c->run->io.count <= 6 - n;
		if (!ok) {
			khv_diag_exit(c, r);
			break;
		}
		pio = (uint8_t *)c->run + c->run->io.data_offset;
		memcpy(got + n, pio, c->run->io.count);
		n += c->run->io.count;
	}
	POINT(ok && n == 6 && !memcmp(got, "hello!", 6),
	      "%s: rep outsb through a virtual alias sent \"hello!\" (%u bytes)", mn, n);
	n = 0;
	ok = alive;
	while (ok && n < 5) {
		long r = khv_vcpu_run(c);

		ok = r == 0 && c->run->exit_reason == KVM_EXIT_IO &&
		     c->run->io.direction == KVM_EXIT_IO_IN && c->run->io.port == 0x81 &&
		     c->run->io.size == 1 && c->run->io.count >= 1 &&
		     c->run->io.count <= 5 - n;
		if (!ok) {
			khv_diag_exit(c, r);
			break;
		}
		pio = (uint8_t *)c->run + c->run->io.data_offset;
		for (unsigned int i = 0; i < c->run->io.count; i++)
			pio[i] = "WORLD"[n++];
	}
	ok = ok && khv_expect_out(c, 0x82, 4, &v[0]) && khv_expect_out(c, 0x82, 4, &v[1]) &&
	     khv_expect_out(c, 0x82, 4, &v[2]);
	{
		uint64_t esi = paging ? ALIAS_VA(BUF) + 6 : BUF + 6;
		uint64_t edi = paging ? ALIAS_VA(BUF2) + 5 : BUF2 + 5;

		POINT(ok && !memcmp(khv_gpa(&m, BUF2), "WORLD", 5) && v[0] == esi &&
		      v[1] == edi && v[2] == 0,
		      "%s: rep insb stored \"%.5s\"; esi 0x%llx edi 0x%llx ecx %llu", mn,
		      (char *)khv_gpa(&m, BUF2), (unsigned long long)v[0],
		      (unsigned long long)v[1], (unsigned long long)v[2]);
	}

	/* MMIO through the translated window. */
	bad = 0;
	for (n = 0; alive && n < NR_MMIO; n++) {
		uint64_t data = mmio[n].data;

		if (!khv_expect_mmio(c, MMIO_GPA + mmio[n].off, mmio[n].len, mmio[n].write, &data)) {
			bad++;
			break;
		}
		if (mmio[n].write && data != mmio[n].data) {
			tap_diag("MMIO write %u: data 0x%llx", n, (unsigned long long)data);
			bad++;
		}
	}
	POINT(n == NR_MMIO && !bad,
	      "%s: %zu MMIO accesses at 0x%llx (virtual 0x%llx) with the right size, "
	      "direction and data", mn, NR_MMIO, MMIO_GPA, (unsigned long long)mmio_va);
	ok = alive && khv_expect_out(c, 0x90, 4, &v[0]) && khv_expect_out(c, 0x90, 4, &v[1]) &&
	     khv_expect_out(c, 0x90, 4, &v[2]) && khv_expect_out(c, 0x90, 4, &v[3]);
	POINT(ok && v[0] == 0x01020304 && v[1] == 0x80 && v[2] == 0xffff8001 &&
	      v[3] == mmio_va + 0x28,
	      "%s: MMIO reads landed: mov 0x%llx, movzx 0x%llx, movsx 0x%llx; edi 0x%llx", mn,
	      (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2],
	      (unsigned long long)v[3]);

	/* CPUID. */
	{
		const struct kvm_cpuid_entry2 *l0 = khv_cpuid_entry(&m, 0, 0);
		const struct kvm_cpuid_entry2 *l8 = khv_cpuid_entry(&m, 0x80000001, 0);

		ok = alive && khv_expect_out(c, 0x30, 4, &v[0]) && khv_expect_out(c, 0x30, 4, &v[1]) &&
		     khv_expect_out(c, 0x30, 4, &v[2]) && khv_expect_out(c, 0x30, 4, &v[3]);
		POINT(ok && l0 && v[0] == l0->eax && v[1] == l0->ebx && v[2] == l0->ecx &&
		      v[3] == l0->edx,
		      "%s: CPUID 0 as set: 0x%llx %.4s%.4s%.4s", mn, (unsigned long long)v[0],
		      (char *)&v[1], (char *)&v[3], (char *)&v[2]);
		ok = alive && khv_expect_out(c, 0x31, 4, &v[4]);
		POINT(ok && l8 && v[4] == l8->edx && (v[4] & (1u << 29)),
		      "%s: CPUID 0x80000001 edx as set, LM set (0x%llx)", mn,
		      (unsigned long long)v[4]);
	}

	/* Page faults. */
	if (paging) {
		ok = alive && khv_expect_exc(c, 14);
		POINT(ok && e->error == 2 && e->cr2 == UNMAP_VA && e->rip == GVA(pm_pf1),
		      "%s: write to an unmapped page: #PF error 0x%llx cr2 0x%llx eip 0x%llx",
		      mn, (unsigned long long)e->error, (unsigned long long)e->cr2,
		      (unsigned long long)e->rip);
		ok = alive && khv_expect_exc(c, 14);
		POINT(ok && e->error == 3 && e->cr2 == RO_VA && e->rip == GVA(pm_pf2) &&
		      e->count == 2,
		      "%s: write to a read-only page (CR0.WP): #PF error 0x%llx cr2 0x%llx eip 0x%llx",
		      mn, (unsigned long long)e->error, (unsigned long long)e->cr2,
		      (unsigned long long)e->rip);
		ok = alive && khv_expect_out(c, 0x40, 4, &v[0]);
		POINT(ok && v[0] == 0x600df00d && *(uint32_t *)khv_gpa(&m, RO_PAGE + 0x18) == 0x600df00d,
		      "%s: the read-only page reads 0x%llx and was not written", mn,
		      (unsigned long long)v[0]);
	} else {
		tap_skip("no paging", "%s: #PF on an unmapped page", mn);
		tap_skip("no paging", "%s: #PF on a read-only page", mn);
		tap_skip("no paging", "%s: read-only page", mn);
	}

	ok = alive && khv_expect_exit(c, KVM_EXIT_HLT);
	khv_get_regs(c, &regs);
	POINT(ok && regs.rip == KHV_MODES_CODE + KHV_GUEST_SIZE(pm_guest),
	      "%s: HLT, eip past it (0x%llx)", mn, regs.rip);

	if (paging) {
		uint64_t rd = khv_pt_leaf(&m, m.paging, m.cr3, ALIAS_VA(BUF));
		uint64_t wr = khv_pt_leaf(&m, m.paging, m.cr3, ALIAS_VA(BUF2));
		uint64_t ro = khv_pt_leaf(&m, m.paging, m.cr3, RO_VA);
		uint64_t un = khv_pt_leaf(&m, m.paging, m.cr3, UNMAP_VA);

		tap_ok((rd & KHV_PTE_A) && (wr & (KHV_PTE_A | KHV_PTE_D)) == (KHV_PTE_A | KHV_PTE_D) &&
		       (ro & (KHV_PTE_A | KHV_PTE_D)) == KHV_PTE_A && un == 0,
		       "%s: accessed/dirty bits: read 0x%llx, written 0x%llx, read-only 0x%llx",
		       mn, (unsigned long long)rd, (unsigned long long)wr,
		       (unsigned long long)ro);
	} else {
		tap_skip("no paging", "%s: accessed/dirty bits", mn);
	}

	khv_get_sregs(c, &sregs);
	{
		uint64_t cr0 = KHV_CR0_PE | (paging ? KHV_CR0_PG : 0);
		uint64_t cr4 = mode == KHV_MODE_PROT32_PSE ? KHV_CR4_PSE :
			       mode == KHV_MODE_PROT32_PAE ? KHV_CR4_PAE : 0;

		tap_ok((sregs.cr0 & (KHV_CR0_PE | KHV_CR0_PG)) == cr0 &&
		       (sregs.cr4 & (KHV_CR4_PSE | KHV_CR4_PAE)) == cr4 &&
		       !(sregs.efer & (KHV_EFER_LME | KHV_EFER_LMA)) && sregs.cs.db && !sregs.cs.l &&
		       sregs.cr3 == m.cr3 && (!paging || sregs.cr2 == RO_VA),
		       "%s: KVM_GET_SREGS: cr0 0x%llx cr4 0x%llx efer 0x%llx cr3 0x%llx cr2 0x%llx",
		       mn, sregs.cr0, sregs.cr4, sregs.efer, sregs.cr3, sregs.cr2);
	}
	if (!alive && paging && e->count && e->vector == 14)
		khv_pt_dump(&m, m.paging, m.cr3, e->cr2);
	khv_vm_destroy(&m);
}

#define POINTS_PER_MODE 14

int main(void)
{
	static const enum khv_mode modes[] = {
		KHV_MODE_PROT32, KHV_MODE_PROT32_PG, KHV_MODE_PROT32_PSE, KHV_MODE_PROT32_PAE,
	};

	tap_plan(POINTS_PER_MODE * 4);
	for (unsigned int i = 0; i < 4; i++)
		one_mode(modes[i]);
	return tap_finish();
}
