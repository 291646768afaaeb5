/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv-vmx: the VMCS, its field encodings and typed accessors.
 *
 * The field encodings and control bits are the kernel's <asm/vmx.h> (SDM
 * vol. 3, appendix B). An encoding says the field's width in bits 14:13;
 * each accessor below takes one width and refuses, at compile time, a
 * constant field of another: a 16-bit field cannot be written with
 * khv_vmcs_write32(), a 64-bit one cannot be read half-way.
 *
 * VMREAD and VMWRITE fail (VMfail) only on a bug of khv's (no current
 * VMCS, a field the CPU does not have, a read-only field) and fault (#UD)
 * only when VMX was switched off under a vCPU (reboot). Both are reported
 * once in the kernel log; a failed read returns 0. Nothing here can take
 * the host down.
 */
#ifndef KHV_VMX_VMCS_H
#define KHV_VMX_VMCS_H

/* HOST_RSP, for vmenter.S (checked against <asm/vmx.h> in vmx.c). */
#define KHV_VMCS_HOST_RSP	0x00006c14

#ifndef __ASSEMBLY__

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include <asm/asm.h>
#include <asm/vmx.h>

/* Field encoding, bits 14:13: the width. Bit 0: the high half of a 64-bit field. */
#define KHV_VMCS_WIDTH(field)	(((field) >> 13) & 3)
#define KHV_VMCS_W16		0
#define KHV_VMCS_W64		1
#define KHV_VMCS_W32		2
#define KHV_VMCS_WNAT		3
#define KHV_VMCS_HIGH		1

/* IA32_VMX_BASIC: the VMCS region is at most 4 KiB (bits 44:32). */
#define KHV_VMCS_MAX_SIZE	PAGE_SIZE

/* The VMCS region: a revision identifier, the abort indicator, then data. */
struct khv_vmcs {
	u32 revision_id;	/* bits 30:0; bit 31 set for a shadow VMCS */
	u32 abort;
	u8 data[KHV_VMCS_MAX_SIZE - 8];
};

static_assert(sizeof(struct khv_vmcs) == PAGE_SIZE);

/*
 * vmenter.S: one entry with the guest GPRs of regs[] (khv_reg order),
 * VMLAUNCH if !launched. 0 after a VM exit, 1 if the guest did not run.
 * khv_vmx_vmexit is HOST_RIP.
 */
int khv_vmx_vmenter(u64 *regs, bool launched);
extern const char khv_vmx_vmexit[];

void khv_vmx_vmread_error(unsigned long field, bool fault);
void khv_vmx_vmwrite_error(unsigned long field, unsigned long value, bool fault);

static __always_inline void khv_vmcs_check(unsigned long field, unsigned int width)
{
	BUILD_BUG_ON_MSG(__builtin_constant_p(field) &&
			 (KHV_VMCS_WIDTH(field) != width || (field & KHV_VMCS_HIGH)),
			 "VMCS field accessed with the wrong width");
}

static __always_inline unsigned long __khv_vmread(unsigned long field)
{
	unsigned long value;

	asm_goto_output("1: vmread %[field], %[value]\n\t"
			"jna %l[vmfail]\n\t"
			_ASM_EXTABLE(1b, %l[fault])
			: [value] "=r" (value)
			: [field] "r" (field)
			: "cc" : vmfail, fault);
	return value;
vmfail:
	khv_vmx_vmread_error(field, false);
	return 0;
fault:
	khv_vmx_vmread_error(field, true);
	return 0;
}

static __always_inline void __khv_vmwrite(unsigned long field, unsigned long value)
{
	asm goto("1: vmwrite %[value], %[field]\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [field] "r" (field), [value] "rm" (value)
		 : "cc" : vmfail, fault);
	return;
vmfail:
	khv_vmx_vmwrite_error(field, value, false);
	return;
fault:
	khv_vmx_vmwrite_error(field, value, true);
}

static __always_inline u16 khv_vmcs_read16(unsigned long field)
{
	khv_vmcs_check(field, KHV_VMCS_W16);
	return __khv_vmread(field);
}

static __always_inline u32 khv_vmcs_read32(unsigned long field)
{
	khv_vmcs_check(field, KHV_VMCS_W32);
	return __khv_vmread(field);
}

static __always_inline u64 khv_vmcs_read64(unsigned long field)
{
	khv_vmcs_check(field, KHV_VMCS_W64);
	return __khv_vmread(field);
}

static __always_inline unsigned long khv_vmcs_readl(unsigned long field)
{
	khv_vmcs_check(field, KHV_VMCS_WNAT);
	return __khv_vmread(field);
}

static __always_inline void khv_vmcs_write16(unsigned long field, u16 value)
{
	khv_vmcs_check(field, KHV_VMCS_W16);
	__khv_vmwrite(field, value);
}

static __always_inline void khv_vmcs_write32(unsigned long field, u32 value)
{
	khv_vmcs_check(field, KHV_VMCS_W32);
	__khv_vmwrite(field, value);
}

static __always_inline void khv_vmcs_write64(unsigned long field, u64 value)
{
	khv_vmcs_check(field, KHV_VMCS_W64);
	__khv_vmwrite(field, value);
}

static __always_inline void khv_vmcs_writel(unsigned long field, unsigned long value)
{
	khv_vmcs_check(field, KHV_VMCS_WNAT);
	__khv_vmwrite(field, value);
}

/*
 * The guest segment registers' four fields, in encoding order: each
 * register's selector, limit, access rights and base are at the same
 * distance (2) from the previous register's.
 */
enum khv_vmx_seg {
	KHV_SEG_ES, KHV_SEG_CS, KHV_SEG_SS, KHV_SEG_DS, KHV_SEG_FS, KHV_SEG_GS,
	KHV_SEG_LDTR, KHV_SEG_TR, KHV_NR_SEGS
};

static_assert(GUEST_ES_SELECTOR + 2 * KHV_SEG_TR == GUEST_TR_SELECTOR);
static_assert(GUEST_ES_LIMIT + 2 * KHV_SEG_TR == GUEST_TR_LIMIT);
static_assert(GUEST_ES_AR_BYTES + 2 * KHV_SEG_TR == GUEST_TR_AR_BYTES);
static_assert(GUEST_ES_BASE + 2 * KHV_SEG_TR == GUEST_TR_BASE);

/* Access-rights format (SDM vol. 3, "Guest Register State"). */
#define KHV_AR_TYPE		0xfU
#define KHV_AR_S		BIT(4)
#define KHV_AR_DPL_SHIFT	5
#define KHV_AR_P		BIT(7)
#define KHV_AR_AVL		BIT(12)
#define KHV_AR_L		BIT(13)
#define KHV_AR_DB		BIT(14)
#define KHV_AR_G		BIT(15)
#define KHV_AR_UNUSABLE		BIT(16)

/* Basic exit reason (bits 15:0); bit 31: VM entry failed. */
#define KHV_EXIT_BASIC(reason)	((reason) & 0xffff)
#define KHV_EXIT_FAILED_ENTRY	BIT(31)
/* Not in <asm/vmx.h>. */
#define KHV_EXIT_REASON_GETSEC	11

/* Exit qualification of I/O instructions (SDM vol. 3, table 28-5). */
#define KHV_IOQ_SIZE		0x7		/* size - 1 */
#define KHV_IOQ_IN		BIT(3)
#define KHV_IOQ_STRING		BIT(4)
#define KHV_IOQ_REP		BIT(5)
#define KHV_IOQ_PORT_SHIFT	16

/* VM-exit instruction information of INS/OUTS: address size, segment. */
#define KHV_IOI_ADDR_SHIFT	7
#define KHV_IOI_SEG_SHIFT	15

/* Exit qualification of control-register accesses (table 28-3). */
#define KHV_CRQ_NUM(q)		((q) & 0xf)
#define KHV_CRQ_TYPE(q)		(((q) >> 4) & 3)
#define KHV_CRQ_MOV_TO		0
#define KHV_CRQ_MOV_FROM	1
#define KHV_CRQ_GPR(q)		(((q) >> 8) & 0xf)

/* Exit qualification of debug-register accesses (table 28-4). */
#define KHV_DRQ_NUM(q)		((q) & 7)
#define KHV_DRQ_FROM		BIT(4)
#define KHV_DRQ_GPR(q)		(((q) >> 8) & 0xf)

/*
 * Bit 12 of the exit qualification of an EPT violation, and of the VM-exit
 * interruption information of an exception: the exit came from an IRET
 * that had unblocked (virtual) NMIs and that will run again.
 */
#define KHV_NMI_UNBLOCKED_BY_IRET	BIT(12)

/*
 * IA32_VMX_BASIC bit 56: VM entry may deliver any hardware exception with
 * or without an error code. When 0, only #DF, #TS, #NP, #SS, #GP, #PF and
 * #AC may have one, and they must (SDM vol. 3, "Checks on VM-Entry Control
 * Fields").
 */
#define KHV_VMX_BASIC_ANY_ERRCODE	BIT_ULL(56)

/* Pending debug exceptions, bit 14: a single-step trap is pending (BS). */
#define KHV_PENDING_DBG_BS		BIT(14)

/* PAE paging: bits a present PDPTE must have 0 besides 63:MAXPHYADDR. */
#define KHV_PDPTE_RSVD		(GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1))
#define KHV_PDPTE_P		BIT_ULL(0)
/* CR3 in PAE paging: bits 31:5 address the page-directory-pointer table. */
#define KHV_PAE_CR3_MASK	0xffffffe0UL

#endif /* __ASSEMBLY__ */
#endif /* KHV_VMX_VMCS_H */
