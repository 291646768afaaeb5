/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv-svm: one trip into the guest.
 *
 * void khv_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_save_pa)
 *
 * Called with interrupts off and GIF clear (CLGI); returns the same way. Saves the host state that
 * VMRUN does not (FS/GS/TR/LDTR, KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK,
 * SYSENTER_*) with VMSAVE to host_save_pa, loads the guest's with VMLOAD,
 * runs the guest with its GPRs from regs[] (RAX, RSP, RIP and RFLAGS live
 * in the VMCB), then stores the guest GPRs back into regs[] and restores
 * the host state. Callee-saved host registers are preserved.
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
	/*
	 * With GIF clear, STI does not let interrupts in here, but VMRUN
	 * records the host's IF as set: a host interrupt arriving while the
	 * guest runs then makes it exit. After #VMEXIT they wait for STGI.
	 */
	sti
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

	/* Guest values must not linger in registers the host uses next. */
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	/* The guest could have trained the return stack buffer. */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT

	mov	16(%rsp), %rax
	vmload	%rax
	add	$24, %rsp

	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(khv_svm_vmrun)
