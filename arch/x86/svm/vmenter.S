/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv-svm: one trip into the guest.
 *
 * void khv_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_save_pa)
 *
 * Called with interrupts off and GIF clear (CLGI); returns the same way.
 * Saves the host state that VMRUN does not (FS/GS/TR/LDTR, KERNEL_GS_BASE,
 * STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*) with VMSAVE to host_save_pa, loads
 * the guest's with VMLOAD, runs the guest with its GPRs from regs[] (RAX,
 * RSP, RIP and RFLAGS live in the VMCB), then stores the guest GPRs back
 * into regs[] and restores the host state. Callee-saved host registers
 * are preserved.
 *
 * Speculation hygiene, as the host kernel configured it (alternatives):
 * - before VMRUN, VERW clears CPU buffers where the host asks for it on VM
 *   entry (X86_FEATURE_CLEAR_CPU_BUF_VM: MDS/TAA/TSA);
 * - after #VMEXIT, before any RET: the RSB is stuffed (RSB_VMEXIT), return
 *   predictions are untrained (UNTRAIN_RET: retbleed, SRSO), and an IBPB
 *   is issued where the host wants one on VM exit (IBPB_ON_VMEXIT); guest
 *   values are cleared from every GPR.
 * - IA32_SPEC_CTRL needs nothing here: every MSR is intercepted (the MSR
 *   permission map is all ones), so the guest never writes it and the
 *   host's value stays in it across VMRUN; with V_SPEC_CTRL the CPU
 *   itself switches between the VMCB's value and the host's.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

/* Offsets into regs[], in khv_reg order. */
#define R_RCX	(1 * 8)
#define R_RDX	(2 * 8)
#define R_RBX	(3 * 8)
#define R_RBP	(5 * 8)
#define R_RSI	(6 * 8)
#define R_RDI	(7 * 8)
#define R_R8	(8 * 8)
#define R_R9	(9 * 8)
#define R_R10	(10 * 8)
#define R_R11	(11 * 8)
#define R_R12	(12 * 8)
#define R_R13	(13 * 8)
#define R_R14	(14 * 8)
#define R_R15	(15 * 8)

	.section .noinstr.text, "ax"

SYM_FUNC_START(khv_svm_vmrun)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* Keep what is needed after VMRUN: host save pa, regs, vmcb pa. */
	push	%rdx
	push	%rsi
	push	%rdi

	/*
	 * VMRUN records the host's RFLAGS.IF, and with V_INTR_MASKING a host
	 * interrupt arriving while the guest runs makes it exit only if IF
	 * was set. GIF is clear, so no interrupt comes in here; after #VMEXIT
	 * they wait for STGI (and the caller's IF). STI is well ahead of
	 * VMRUN: AMD CPUs carry an STI shadow over VMRUN into the guest's
	 * interrupt state when an injected event makes the entry exit.
	 */
	sti

	/* Host state VMRUN does not switch. */
	mov	%rdx, %rax
	vmsave	%rax

	/* Guest GPRs; RAX is the VMCB address for VMLOAD/VMRUN/VMSAVE. */
	mov	%rsi, %rax
	mov	R_RCX(%rax), %rcx
	mov	R_RDX(%rax), %rdx
	mov	R_RBX(%rax), %rbx
	mov	R_RBP(%rax), %rbp
	mov	R_RSI(%rax), %rsi
	mov	R_RDI(%rax), %rdi
	mov	R_R8(%rax), %r8
	mov	R_R9(%rax), %r9
	mov	R_R10(%rax), %r10
	mov	R_R11(%rax), %r11
	mov	R_R12(%rax), %r12
	mov	R_R13(%rax), %r13
	mov	R_R14(%rax), %r14
	mov	R_R15(%rax), %r15
	mov	(%rsp), %rax

	vmload	%rax
	/* Clobbers EFLAGS.ZF only. */
	VM_CLEAR_CPU_BUFFERS
	vmrun	%rax
	cli
	vmsave	%rax

	/* RAX is the VMCB address again (VMRUN restored it); RSP the host's. */
	mov	8(%rsp), %rax
	mov	%rcx, R_RCX(%rax)
	mov	%rdx, R_RDX(%rax)
	mov	%rbx, R_RBX(%rax)
	mov	%rbp, R_RBP(%rax)
	mov	%rsi, R_RSI(%rax)
	mov	%rdi, R_RDI(%rax)
	mov	%r8, R_R8(%rax)
	mov	%r9, R_R9(%rax)
	mov	%r10, R_R10(%rax)
	mov	%r11, R_R11(%rax)
	mov	%r12, R_R12(%rax)
	mov	%r13, R_R13(%rax)
	mov	%r14, R_R14(%rax)
	mov	%r15, R_R15(%rax)
	/* No guest frame pointer for the calls below (0 ends an unwind). */
	xor	%ebp, %ebp

	/* The guest could have trained the RSB: stuff it before any RET. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	/* Host FS/GS/TR... back: GS-based per-CPU data works from here. */
	mov	16(%rsp), %rax
	vmload	%rax

	/* Retbleed/SRSO: untrain return predictions (may CALL and RET). */
	UNTRAIN_RET
	/* IBPB on VM exit where the host mitigates so; clobbers RAX, RCX, RDX. */
	ALTERNATIVE "", "call entry_ibpb", X86_FEATURE_IBPB_ON_VMEXIT

	/*
	 * No guest value may linger in a register, not even in those restored
	 * from the stack below (speculation could use them before the load).
	 */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebx, %ebx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	add	$24, %rsp
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(khv_svm_vmrun)
