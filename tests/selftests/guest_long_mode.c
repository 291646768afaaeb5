// SPDX-License-Identifier: GPL-2.0-only
/*
 * 64-bit long mode with 4-level paging, entered by the host with
 * KVM_SET_SREGS. The guest does
 *   - port I/O of each size; IN of 1/2 bytes keeps the rest of RAX, of 4
 *     bytes zero-extends it;
 *   - MMIO through a high canonical virtual address mapped to a
 *     guest-physical address no memslot backs: mov of 1/2/4/8 bytes both
 *     ways, movzx, movsxd, a 32-bit load zero-extending, rep stosq, and
 *     movabs with a 64-bit moffs;
 *   - wrmsr of KERNEL_GS_BASE and STAR seen by KVM_GET_MSRS, KVM_SET_MSRS
 *     values seen by rdmsr, swapgs exchanging GS.base and KERNEL_GS_BASE
 *     (KVM_GET_SREGS and KVM_GET_MSRS agree), rdmsr of EFER;
 *   - #GP delivered to its IDT: wrmsr of an MSR that does not exist (error
 *     code 0), loading a selector beyond the GDT limit (error code = the
 *     selector), a non-canonical access; #PF on an unmapped high address;
 *   - code running at a high canonical alias (0xffffffff80000000 + x): RIP
 *     is 64 bits wide through PIO exits, CPUID and an MMIO emulation, the
 *     stack works there too;
 *   - CPUID, HLT; KVM_GET_SREGS shows LME|LMA, CS.L, CR2 of the #PF.
 */
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_modes.h"

#define RES		0x40800		/* results the guest stores */
#define MMIO_GPA	0xc0000000ULL
#define MMIO_VA		0xffffc90000000000ULL
#define PF_VA		0xffffc90000201008ULL	/* unmapped */
#define HI_BASE		0xffffffff80000000ULL	/* alias of the first 4 MiB */
#define NONCANON	0x0000800000000000ULL

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102

#define R(off)	KHV_STR(RES) "+" #off

KHV_GUEST_DECLARE(lm_guest);
extern const uint8_t lm_gp1[], lm_gp2[], lm_gp3[], lm_pf[], lm_hi[];

asm(KHV_GUEST_BEGIN(lm_guest, 64)
    /* Port I/O of each size. */
    "	mov $0x11, %al\n"
    "	out %al, $0x10\n"
    "	mov $0x2233, %ax\n"
    "	out %ax, $0x10\n"
    "	mov $0x44556677, %eax\n"
    "	out %eax, $0x10\n"
    "	movabs $0x1122334455667788, %rax\n"
    "	in $0x11, %al\n"
    "	mov %rax, " R(0x00) "\n"
    "	in $0x11, %ax\n"
    "	mov %rax, " R(0x08) "\n"
    "	mov $0x1234, %dx\n"
    "	in (%dx), %eax\n"
    "	mov %rax, " R(0x10) "\n"
    "	out %al, $0x12\n"
    /* MMIO. */
    "	movabs $" KHV_STR(MMIO_VA) ", %rbx\n"
    "	movl $0xcafef00d, (%rbx)\n"
    "	movabs $0x1122334455667788, %rax\n"
    "	mov %rax, 8(%rbx)\n"
    "	movw $0xbeef, 0x10(%rbx)\n"
    "	movb $0x5a, 0x12(%rbx)\n"
    "	mov $-1, %rdx\n"
    "	mov $-1, %r8\n"
    "	mov 0x18(%rbx), %rcx\n"
    "	movzbl 0x20(%rbx), %edx\n"
    "	movzwq 0x22(%rbx), %rsi\n"
    "	movslq 0x24(%rbx), %rdi\n"
    "	mov 0x28(%rbx), %r8d\n"
    "	mov %rcx, " R(0x20) "\n"
    "	mov %rdx, " R(0x28) "\n"
    "	mov %rsi, " R(0x30) "\n"
    "	mov %rdi, " R(0x38) "\n"
    "	mov %r8, " R(0x40) "\n"
    "	lea 0x30(%rbx), %rdi\n"
    "	movabs $0xa5a5a5a5a5a5a5a5, %rax\n"
    "	mov $2, %ecx\n"
    "	cld\n"
    "	rep stosq\n"
    "	mov %rdi, " R(0x48) "\n"
    "	movabs %eax, " KHV_STR(MMIO_VA) "+0x40\n"
    "	movabs " KHV_STR(MMIO_VA) "+0x48, %rax\n"
    "	mov %rax, " R(0x50) "\n"
    "	out %al, $0x20\n"
    /* MSRs. */
    "	mov $" KHV_STR(MSR_KERNEL_GS_BASE) ", %ecx\n"
    "	mov $0x12345678, %eax\n"
    "	mov $0xffff8880, %edx\n"
    "	wrmsr\n"
    "	mov $" KHV_STR(MSR_STAR) ", %ecx\n"
    "	xor %eax, %eax\n"
    "	mov $0x00230010, %edx\n"
    "	wrmsr\n"
    "	out %al, $0x50\n"
    "	mov $" KHV_STR(MSR_KERNEL_GS_BASE) ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " R(0x58) "\n"
    "	mov %edx, " R(0x5c) "\n"
    "	mov $" KHV_STR(MSR_LSTAR) ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " R(0x60) "\n"
    "	mov %edx, " R(0x64) "\n"
    "	swapgs\n"
    "	mov $" KHV_STR(MSR_GS_BASE) ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " R(0x68) "\n"
    "	mov %edx, " R(0x6c) "\n"
    "	mov $" KHV_STR(MSR_EFER) ", %ecx\n"
    "	rdmsr\n"
    "	mov %eax, " R(0x70) "\n"
    "	mov %edx, " R(0x74) "\n"
    "	out %al, $0x51\n"
    /* Exceptions: each handler reports, then resumes at the next label. */
    "	movq $" KHV_GVA(lm_guest, 1f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    "	mov $0x4b564d99, %ecx\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    ".globl lm_gp1\n"
    "lm_gp1:\n"
    "	wrmsr\n"
    "1:	movq $" KHV_GVA(lm_guest, 2f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    "	mov $0x40, %eax\n"
    ".globl lm_gp2\n"
    "lm_gp2:\n"
    "	mov %ax, %ds\n"
    "2:	movq $" KHV_GVA(lm_guest, 3f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    "	movabs $" KHV_STR(NONCANON) ", %rax\n"
    ".globl lm_gp3\n"
    "lm_gp3:\n"
    "	mov (%rax), %rcx\n"
    "3:	movq $" KHV_GVA(lm_guest, 4f) ", " KHV_STR(KHV_EXC_RESUME) "\n"
    "	movabs $" KHV_STR(PF_VA) ", %rax\n"
    ".globl lm_pf\n"
    "lm_pf:\n"
    "	movq $1, (%rax)\n"
    /* To the high alias and back. */
    "4:	movabs $(" KHV_STR(HI_BASE) " + " KHV_GVA(lm_guest, 5f) "), %rax\n"
    "	jmp *%rax\n"
    "5:	lea 0(%rip), %rax\n"
    ".globl lm_hi\n"
    "lm_hi:\n"
    "	mov %rax, " R(0x78) "\n"
    "	shr $32, %rax\n"
    "	out %eax, $0x60\n"
    "	movabs $" KHV_STR(HI_BASE) ", %rcx\n"
    "	mov %rsp, %rbp\n"
    "	add %rcx, %rsp\n"
    "	pushq $0x77\n"
    "	mov %rsp, " R(0x80) "\n"
    "	pop %rdx\n"
    "	mov %rbp, %rsp\n"
    "	mov %rdx, " R(0x88) "\n"
    "	movabs $" KHV_STR(MMIO_VA) ", %rbx\n"
    "	movl $0x600d, 0x50(%rbx)\n"
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
    "	movabs $" KHV_GVA(lm_guest, 6f) ", %rax\n"
    "	jmp *%rax\n"
    "6:	hlt\n"
    KHV_GUEST_END(lm_guest));

#define GVA(label)	(KHV_MODES_CODE + (uint64_t)((label) - lm_guest))

struct access { uint64_t off; uint32_t len; bool write; uint64_t data; };

static const struct access mmio[] = {
	{ 0x00, 4, true, 0xcafef00d },
	{ 0x08, 8, true, 0x1122334455667788ULL },
	{ 0x10, 2, true, 0xbeef },
	{ 0x12, 1, true, 0x5a },
	{ 0x18, 8, false, 0x0102030405060708ULL },
	{ 0x20, 1, false, 0x80 },
	{ 0x22, 2, false, 0x8001 },
	{ 0x24, 4, false, 0x80000000 },
	{ 0x28, 4, false, 0x12345678 },
	{ 0x30, 8, true, 0xa5a5a5a5a5a5a5a5ULL },
	{ 0x38, 8, true, 0xa5a5a5a5a5a5a5a5ULL },
	{ 0x40, 4, true, 0xa5a5a5a5 },
	{ 0x48, 8, false, 0xfedcba9876543210ULL },
};
#define NR_MMIO (sizeof(mmio) / sizeof(mmio[0]))

static bool alive = true;

static bool step(bool ok)
{
	alive = alive && ok;
	return ok;
}

#define POINT(cond, ...) tap_ok(alive && step(cond), __VA_ARGS__)
#define U(x) ((unsigned long long)(x))

int main(void)
{
	struct khv_vcpu *c;
	struct khv_vm m;
	struct khv_exc *e;
	struct kvm_sregs sregs = { 0 };
	struct kvm_regs regs;
	uint64_t v[4] = { 0 }, *res, msr1 = 0, msr2 = 0, data;
	unsigned int n, bad;
	bool ok;

	tap_plan(20);
	khv_vm_create(&m, KHV_MODE_LONG, lm_guest, KHV_GUEST_SIZE(lm_guest));
	e = khv_exc(&m);
	res = khv_gpa(&m, RES);
	khv_map(&m, MMIO_VA, MMIO_GPA, 0x1000, KHV_PAGE_4K, KHV_PTE_W);
	khv_map(&m, HI_BASE, 0, KHV_MODES_MEM, KHV_PAGE_2M, KHV_PTE_W);
	c = khv_vm_add_vcpu(&m);

	/* Port I/O. */
	ok = khv_expect_out(c, 0x10, 1, &v[0]) && khv_expect_out(c, 0x10, 2, &v[1]) &&
	     khv_expect_out(c, 0x10, 4, &v[2]);
	POINT(ok && v[0] == 0x11 && v[1] == 0x2233 && v[2] == 0x44556677,
	      "out of 1, 2, 4 bytes (0x%llx 0x%llx 0x%llx)", U(v[0]), U(v[1]), U(v[2]));
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
		ok = khv_expect_out(c, 0x12, 1, &v[0]);
	}
	POINT(ok && res[0] == 0x112233445566775aULL && res[1] == 0x1122334455661357ULL &&
	      res[2] == 0x89abcdef,
	      "in al/ax keep the rest of rax, in eax zero-extends (0x%llx 0x%llx 0x%llx)",
	      U(res[0]), U(res[1]), U(res[2]));

	/* MMIO. */
	bad = 0;
	for (n = 0; alive && n < NR_MMIO; n++) {
		data = mmio[n].data;
		if (!khv_expect_mmio(c, MMIO_GPA + mmio[n].off, mmio[n].len, mmio[n].write, &data)) {
			bad++;
			break;
		}
		if (mmio[n].write && data != mmio[n].data) {
			tap_diag("MMIO write %u: data 0x%llx", n, U(data));
			bad++;
		}
	}
	POINT(n == NR_MMIO && !bad,
	      "%zu MMIO accesses at 0x%llx through 0x%llx: size, direction, data",
	      NR_MMIO, MMIO_GPA, MMIO_VA);
	ok = alive && khv_expect_out(c, 0x20, 1, &v[0]);
	POINT(ok && res[4] == 0x0102030405060708ULL && res[5] == 0x80 && res[6] == 0x8001 &&
	      res[7] == 0xffffffff80000000ULL && res[8] == 0x12345678 &&
	      res[10] == 0xfedcba9876543210ULL,
	      "MMIO reads landed: mov 0x%llx movzbl 0x%llx movzwq 0x%llx movslq 0x%llx "
	      "mov32 0x%llx movabs 0x%llx", U(res[4]), U(res[5]), U(res[6]), U(res[7]),
	      U(res[8]), U(res[10]));
	tap_ok(alive && res[9] == MMIO_VA + 0x40, "rep stosq left rdi at 0x%llx", U(res[9]));

	/* MSRs. */
	ok = alive && khv_expect_out(c, 0x50, 1, &v[0]);
	if (ok) {
		khv_get_msr(c, MSR_KERNEL_GS_BASE, &msr1);
		khv_get_msr(c, MSR_STAR, &msr2);
	}
	POINT(ok && msr1 == 0xffff888012345678ULL && msr2 == 0x0023001000000000ULL,
	      "guest wrmsr seen by KVM_GET_MSRS: KERNEL_GS_BASE 0x%llx STAR 0x%llx",
	      U(msr1), U(msr2));
	ok = alive && khv_set_msr(c, MSR_KERNEL_GS_BASE, 0xffff888087654321ULL) == 1 &&
	     khv_set_msr(c, MSR_LSTAR, 0xffffffff81234560ULL) == 1 &&
	     khv_expect_out(c, 0x51, 1, &v[0]);
	POINT(ok && res[11] == 0xffff888087654321ULL && res[12] == 0xffffffff81234560ULL,
	      "KVM_SET_MSRS seen by guest rdmsr: KERNEL_GS_BASE 0x%llx LSTAR 0x%llx",
	      U(res[11]), U(res[12]));
	msr1 = 1;
	if (alive) {
		khv_get_sregs(c, &sregs);
		khv_get_msr(c, MSR_KERNEL_GS_BASE, &msr1);
	}
	POINT(res[13] == 0xffff888087654321ULL && sregs.gs.base == 0xffff888087654321ULL &&
	      msr1 == 0,
	      "swapgs: rdmsr GS_BASE 0x%llx, sregs gs.base 0x%llx, KERNEL_GS_BASE 0x%llx",
	      U(res[13]), U(sregs.gs.base), U(msr1));
	POINT(res[14] == (KHV_EFER_LME | KHV_EFER_LMA | KHV_EFER_SCE),
	      "guest rdmsr EFER: 0x%llx", U(res[14]));

	/* Exceptions. */
	ok = alive && khv_expect_exc(c, 13);
	POINT(ok && e->error == 0 && e->rip == GVA(lm_gp1),
	      "wrmsr of an MSR that does not exist: #GP(0x%llx) at 0x%llx",
	      U(e->error), U(e->rip));
	ok = alive && khv_expect_exc(c, 13);
	POINT(ok && e->error == 0x40 && e->rip == GVA(lm_gp2),
	      "mov to ds of a selector beyond the GDT limit: #GP(0x%llx) at 0x%llx",
	      U(e->error), U(e->rip));
	ok = alive && khv_expect_exc(c, 13);
	POINT(ok && e->error == 0 && e->rip == GVA(lm_gp3),
	      "non-canonical load: #GP(0x%llx) at 0x%llx", U(e->error), U(e->rip));
	ok = alive && khv_expect_exc(c, 14);
	POINT(ok && e->error == 2 && e->cr2 == PF_VA && e->rip == GVA(lm_pf) && e->count == 4,
	      "write to an unmapped high address: #PF(0x%llx) cr2 0x%llx at 0x%llx",
	      U(e->error), U(e->cr2), U(e->rip));

	/* The high alias. */
	ok = alive && khv_expect_out(c, 0x60, 4, &v[0]);
	khv_get_regs(c, &regs);
	POINT(ok && v[0] == 0xffffffff && (regs.rip & HI_BASE) == HI_BASE &&
	      res[15] == HI_BASE + GVA(lm_hi),
	      "code at a high canonical address: rip-relative lea 0x%llx, rip at the exit 0x%llx",
	      U(res[15]), regs.rip);
	data = 0;
	ok = alive && khv_expect_mmio(c, MMIO_GPA + 0x50, 4, true, &data);
	POINT(ok && data == 0x600d && res[16] == HI_BASE + KHV_MODES_STACK - 8 &&
	      res[17] == 0x77 && *(uint64_t *)khv_gpa(&m, KHV_MODES_STACK - 8) == 0x77,
	      "there: MMIO write 0x%llx, push/pop through the alias (rsp 0x%llx, 0x%llx)",
	      U(data), U(res[16]), U(res[17]));

	/* CPUID from there. */
	{
		const struct kvm_cpuid_entry2 *l0 = khv_cpuid_entry(&m, 0, 0);
		const struct kvm_cpuid_entry2 *l8 = khv_cpuid_entry(&m, 0x80000001, 0);

		ok = alive && khv_expect_out(c, 0x30, 4, &v[0]) && khv_expect_out(c, 0x30, 4, &v[1]) &&
		     khv_expect_out(c, 0x30, 4, &v[2]) && khv_expect_out(c, 0x30, 4, &v[3]);
		POINT(ok && l0 && v[0] == l0->eax && v[1] == l0->ebx && v[2] == l0->ecx &&
		      v[3] == l0->edx,
		      "CPUID 0 as set: 0x%llx %.4s%.4s%.4s", U(v[0]), (char *)&v[1],
		      (char *)&v[3], (char *)&v[2]);
		ok = alive && khv_expect_out(c, 0x31, 4, &v[0]);
		POINT(ok && l8 && v[0] == l8->edx && (v[0] & (1u << 29)),
		      "CPUID 0x80000001 edx as set, LM set (0x%llx)", U(v[0]));
	}

	ok = alive && khv_expect_exit(c, KVM_EXIT_HLT);
	khv_get_regs(c, &regs);
	POINT(ok && regs.rip == KHV_MODES_CODE + KHV_GUEST_SIZE(lm_guest),
	      "HLT back at the low address, rip past it (0x%llx)", regs.rip);

	khv_get_sregs(c, &sregs);
	tap_ok((sregs.efer & (KHV_EFER_LME | KHV_EFER_LMA)) == (KHV_EFER_LME | KHV_EFER_LMA) &&
	       (sregs.cr0 & (KHV_CR0_PE | KHV_CR0_PG)) == (KHV_CR0_PE | KHV_CR0_PG) &&
	       (sregs.cr4 & KHV_CR4_PAE) && sregs.cs.l && !sregs.cs.db && sregs.cr3 == m.cr3 &&
	       sregs.cr2 == PF_VA && sregs.ds.selector == KHV_SEL_DATA,
	       "KVM_GET_SREGS: efer 0x%llx cr0 0x%llx cr4 0x%llx cs.l %d cr2 0x%llx ds 0x%x",
	       sregs.efer, sregs.cr0, sregs.cr4, sregs.cs.l, sregs.cr2, sregs.ds.selector);
	{
		uint64_t r = khv_pt_leaf(&m, KHV_PG_4L, m.cr3, RES);
		uint64_t h = khv_pt_leaf(&m, KHV_PG_4L, m.cr3, HI_BASE);
		uint64_t p = khv_pt_leaf(&m, KHV_PG_4L, m.cr3, PF_VA);
		uint64_t ad = KHV_PTE_A | KHV_PTE_D;

		tap_ok((r & ad) == ad && (h & ad) == ad && (h & KHV_PTE_PS) && p == 0,
		       "accessed/dirty bits set: data page 0x%llx, 2 MiB alias 0x%llx",
		       U(r), U(h));
	}
	if (!alive && e->count && e->vector == 14)
		khv_pt_dump(&m, KHV_PG_4L, m.cr3, e->cr2);
	khv_vm_destroy(&m);
	return tap_finish();
}
