/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv-vmx: one trip into the guest.
 *
 * int khv_vmx_vmenter(u64 *regs, bool launched)
 *
 * Called with interrupts off and the vCPU's VMCS current. Writes HOST_RSP,
 * loads the guest GPRs from regs[] (in khv_reg order; RSP, RIP and RFLAGS
 * live in the VMCS), and enters the guest with VMLAUNCH (launched false:
 * first entry since VMCLEAR) or VMRESUME. A VM exit resumes at
 * khv_vmx_vmexit (HOST_RIP) with RSP = HOST_RSP; the guest GPRs are then
 * stored back into regs[] and cleared.
 *
 * Returns 0 after a VM exit (which may still be a failed VM entry: see
 * the exit reason), 1 if VMLAUNCH/VMRESUME or the VMWRITE before them did
 * not enter the guest (VMfail: CF or ZF set; or a fault because VMX is off).
 * Callee-saved host registers are preserved; VM exit itself restores RSP
 * and leaves RFLAGS = 2 (interrupts still off).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "vmcs.h"

/* Offsets into regs[], in khv_reg order. */
#define R_RAX	(0 * 8)
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

SYM_FUNC_START(khv_vmx_vmenter)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* regs, found at 0(%rsp) = HOST_RSP after the exit. */
	push	%rdi

	mov	$KHV_VMCS_HOST_RSP, %eax
.Lhost_rsp:
	vmwrite	%rsp, %rax
	jna	.Lfail_host

	/* Clear CPU buffers of host data where the CPU needs it (MDS, TSA). */
	VM_CLEAR_CPU_BUFFERS

	/* ZF: VMLAUNCH if launched is false. MOVs below keep the flags. */
	test	%sil, %sil

	mov	%rdi, %rax
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
	mov	R_RAX(%rax), %rax

	jz	.Lvmlaunch

	/*
	 * A VM exit continues at khv_vmx_vmexit, not after the instruction:
	 * objtool is told to take the unwind state from here there.
	 */
	UNWIND_HINT_SAVE
.Lvmresume:
	vmresume
	jmp	.Lfail_guest

.Lvmlaunch:
	vmlaunch
	jmp	.Lfail_guest

SYM_INNER_LABEL(khv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE

	/* RSP is HOST_RSP: 0(%rsp) is regs. */
	push	%rax
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
	popq	R_RAX(%rax)
	xor	%ebx, %ebx
	jmp	.Lclear

	/* Entry refused: the guest's values are in the registers all the same. */
.Lfail_guest:
	mov	$1, %ebx

.Lclear:
	/*
	 * Guest values must not linger in registers the host uses next (the
	 * callee-saved ones are popped below). EBX holds the return value.
	 */
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

.Lout:
	mov	%ebx, %eax
	add	$8, %rsp

	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

	/* HOST_RSP could not be written: nothing of the guest's is loaded. */
.Lfail_host:
	mov	$1, %ebx
	jmp	.Lout

	/* VMX instructions fault (#UD) only when VMX is off (reboot). */
	_ASM_EXTABLE(.Lhost_rsp, .Lfail_host)
	_ASM_EXTABLE(.Lvmresume, .Lfail_guest)
	_ASM_EXTABLE(.Lvmlaunch, .Lfail_guest)
SYM_FUNC_END(khv_vmx_vmenter)
