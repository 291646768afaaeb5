// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv-vmx: the Intel VT-x backend.
 *
 * Module init probes the hardware and registers with the core only if the
 * CPU can run khv's guests: an Intel CPU with VMX, IA32_FEATURE_CONTROL
 * locked with VMXON outside SMX allowed, every VM-execution, VM-exit and
 * VM-entry control khv needs (khv_vmx_setup_controls), EPT (4-level walk,
 * write-back paging structures, INVEPT), VPID (INVVPID) and unrestricted
 * guest. Anything missing fails the load with -ENODEV and one line saying
 * what is missing.
 *
 * The VMCS of a vCPU follows the vCPU's thread: it is active ("loaded") on
 * at most one CPU, recorded in vmx->cpu and on that CPU's list of loaded
 * VMCSs. When the thread comes to another CPU, vcpu_load VMCLEARs the VMCS
 * on the old CPU (an IPI), then VMPTRLDs it on the new one; the next entry
 * is a VMLAUNCH, later ones VMRESUME. hardware_disable VMCLEARs every VMCS
 * loaded on its CPU before VMXOFF.
 *
 * Host state VM exit does not restore (SDM vol. 3, "Loading Host State"):
 * the DS/ES/FS/GS selectors and LDTR (a VM exit loads them from the VMCS or
 * nulls them), the GDTR and TR limits (set to 0xffff and 0x67), and
 * IA32_KERNEL_GS_BASE (the guest's SWAPGS changes it). They are saved
 * before the first entry after vcpu_load and put back in vcpu_put, before
 * the thread can return to user space or be switched out. The guest's
 * KERNEL_GS_BASE and SYSCALL MSRs (STAR, LSTAR, CSTAR, SFMASK), which VM
 * entry does not load, are in the CPU over the same span.
 *
 * Events are the shared code's (arch/x86/events.c): before each entry it
 * says what to inject and which windows it waits for, and run() programs
 * the VM-entry interruption information, interrupt- and NMI-window exiting
 * and the guest's interruptibility state (virtual NMIs: the guest's
 * blocking by NMI is its own), making consistent what VM entry would
 * refuse. After each exit run() reports the event an exit interrupted
 * (IDT-vectoring information); the backend never re-injects on its own.
 * Exceptions it raises itself go through khv_queue_exception().
 *
 * Control-register exits that may need guest memory (PDPTEs) are finished
 * in process context by ops->handle_exit. MOV DR always exits and is the
 * shared code's; the guest's DR0-3 and DR6 are in the hardware only while
 * its DR7 arms a breakpoint.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <asm/asm.h>
#include <asm/cpu_entry_area.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/reboot.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/vmx.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/version.h>

#include "vmcs.h"

static_assert(KHV_VMCS_HOST_RSP == HOST_RSP);

/* Architectural values at RESET (SDM vol. 3, "Initialization"). */
#define KHV_CR0_RESET		(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET)
#define KHV_DR7_RESET		0x400UL
#define KHV_PAT_RESET		0x0007040600070406ULL

/*
 * What the probe found. Written once at module load, read-only after.
 */
static struct {
	u64 basic;
	u64 ept_vpid;
	/* The controls every VMCS gets (IA-32e mode guest toggled per guest). */
	u32 pin, proc, proc2, exit, entry;
	/* CR0/CR4 bits VMX operation fixes to 1 (fixed0) or allows as 1 (fixed1). */
	unsigned long cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/*
	 * Guest/host masks: bits the host owns. The guest reads them from
	 * the read shadow and a MOV that changes them exits.
	 */
	unsigned long cr0_mask, cr4_mask;
	/* The INVEPT and INVVPID types khv uses. */
	unsigned long invept_type, invvpid_type;
} khv_vmx;

/* The allowed-1 settings of a VMX capability MSR are its high 32 bits. */
static bool khv_vmx_allowed1(u32 msr, u32 bits)
{
	u64 v;

	if (rdmsrl_safe(msr, &v))
		return false;
	return ((v >> 32) & bits) == bits;
}

/*
 * The VM-execution, VM-exit and VM-entry controls, negotiated once against
 * the capability MSRs (SDM vol. 3, appendix A.3-A.5): in each, a control
 * whose bit is 1 in the low half ("allowed-0") must be 1, and one whose bit
 * is 0 in the high half ("allowed-1") must be 0. The TRUE_* MSRs, when
 * IA32_VMX_BASIC bit 55 says they exist, allow more of the "default1"
 * controls to be 0 (CR3-load and CR3-store exiting, for one).
 *
 * For each set: want1 must be 1 for khv, want0 must be 0, dynamic is
 * switched at run time (must be allowed both ways; starts at 0). Controls
 * in none of them keep the value the CPU requires, which is 0 unless the
 * CPU forces them to 1. Returns NULL, or what is missing.
 */
static const char *khv_vmx_setup_controls(void)
{
	bool true_msrs = khv_vmx.basic & VMX_BASIC_TRUE_CTLS;
	const struct {
		const char *name;
		u32 msr, true_msr;
		u32 want1, want0, dynamic;
		u32 *ctls;
	} sets[] = {
		{
			.name = "pin-based controls",
			.msr = MSR_IA32_VMX_PINBASED_CTLS,
			.true_msr = MSR_IA32_VMX_TRUE_PINBASED_CTLS,
			/*
			 * Host interrupts and NMIs make the guest exit. The
			 * guest's own blocking by NMI is then virtual (the
			 * interruptibility state keeps it), which NMI
			 * injection and NMI-window exiting need.
			 */
			.want1 = PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
				 PIN_BASED_VIRTUAL_NMIS,
			.want0 = PIN_BASED_VMX_PREEMPTION_TIMER |
				 PIN_BASED_POSTED_INTR,
			.ctls = &khv_vmx.pin,
		}, {
			.name = "primary processor-based controls",
			.msr = MSR_IA32_VMX_PROCBASED_CTLS,
			.true_msr = MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
			/*
			 * Every port and every MSR exits (MSR bitmap all
			 * ones); the guest's TSC is the host's plus an
			 * offset. CR8 would reach the host's local APIC TPR:
			 * it is emulated. MOV DR exits for the shared code
			 * to emulate; the guest's DR0-3 are in the hardware
			 * only while its DR7 arms a breakpoint.
			 * MONITOR/MWAIT exit to become #UD, as on SVM.
			 */
			.want1 = CPU_BASED_HLT_EXITING |
				 CPU_BASED_UNCOND_IO_EXITING |
				 CPU_BASED_USE_TSC_OFFSETTING |
				 CPU_BASED_USE_MSR_BITMAPS |
				 CPU_BASED_ACTIVATE_SECONDARY_CONTROLS |
				 CPU_BASED_CR8_LOAD_EXITING |
				 CPU_BASED_CR8_STORE_EXITING |
				 CPU_BASED_MOV_DR_EXITING |
				 CPU_BASED_MWAIT_EXITING |
				 CPU_BASED_MONITOR_EXITING,
			/* With EPT the guest owns CR3; no I/O bitmaps. */
			.want0 = CPU_BASED_CR3_LOAD_EXITING |
				 CPU_BASED_CR3_STORE_EXITING |
				 CPU_BASED_USE_IO_BITMAPS |
				 CPU_BASED_TPR_SHADOW |
				 CPU_BASED_MONITOR_TRAP_FLAG |
				 CPU_BASED_ACTIVATE_TERTIARY_CONTROLS,
			/* While the shared code waits for a window. */
			.dynamic = CPU_BASED_INTR_WINDOW_EXITING |
				   CPU_BASED_NMI_WINDOW_EXITING,
			.ctls = &khv_vmx.proc,
		}, {
			.name = "secondary processor-based controls",
			.msr = MSR_IA32_VMX_PROCBASED_CTLS2,
			.want1 = SECONDARY_EXEC_ENABLE_EPT |
				 SECONDARY_EXEC_ENABLE_VPID |
				 SECONDARY_EXEC_UNRESTRICTED_GUEST |
				 SECONDARY_EXEC_WBINVD_EXITING,
			.want0 = SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES |
				 SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE |
				 SECONDARY_EXEC_APIC_REGISTER_VIRT |
				 SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY |
				 SECONDARY_EXEC_SHADOW_VMCS |
				 SECONDARY_EXEC_ENABLE_PML |
				 SECONDARY_EXEC_ENABLE_VMFUNC,
			.ctls = &khv_vmx.proc2,
		}, {
			.name = "VM-exit controls",
			.msr = MSR_IA32_VMX_EXIT_CTLS,
			.true_msr = MSR_IA32_VMX_TRUE_EXIT_CTLS,
			/*
			 * A 64-bit host; EFER switched by the CPU; guest
			 * DR7 and DEBUGCTL saved. Interrupts are not
			 * acknowledged: they are taken when the run loop
			 * enables interrupts again.
			 */
			.want1 = VM_EXIT_HOST_ADDR_SPACE_SIZE |
				 VM_EXIT_SAVE_IA32_EFER |
				 VM_EXIT_LOAD_IA32_EFER |
				 VM_EXIT_SAVE_DEBUG_CONTROLS,
			.want0 = VM_EXIT_ACK_INTR_ON_EXIT |
				 VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL |
				 VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT |
				 VM_EXIT_SAVE_VMX_PREEMPTION_TIMER,
			.ctls = &khv_vmx.exit,
		}, {
			.name = "VM-entry controls",
			.msr = MSR_IA32_VMX_ENTRY_CTLS,
			.true_msr = MSR_IA32_VMX_TRUE_ENTRY_CTLS,
			.want1 = VM_ENTRY_LOAD_IA32_EFER |
				 VM_ENTRY_LOAD_DEBUG_CONTROLS,
			.want0 = VM_ENTRY_SMM | VM_ENTRY_DEACT_DUAL_MONITOR |
				 VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL |
				 VM_ENTRY_LOAD_IA32_PAT,
			/* Follows the guest's EFER.LMA. */
			.dynamic = VM_ENTRY_IA32E_MODE,
			.ctls = &khv_vmx.entry,
		},
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(sets); i++) {
		u32 msr = true_msrs && sets[i].true_msr ? sets[i].true_msr : sets[i].msr;
		u32 must1, may1, bad;
		u64 cap;

		if (rdmsrl_safe(msr, &cap))
			return "a VMX capability MSR cannot be read";
		must1 = cap;
		may1 = cap >> 32;
		bad = ((sets[i].want1 | sets[i].dynamic) & ~may1) |
		      ((sets[i].want0 | sets[i].dynamic) & must1);
		if (bad) {
			pr_info("%s: 0x%08x cannot be set as needed (capability MSR 0x%x = 0x%016llx)\n",
				sets[i].name, bad, msr, cap);
			return sets[i].name;
		}
		*sets[i].ctls = sets[i].want1 | must1;
	}
	return NULL;
}

/*
 * CR4 bits no guest of khv's may set, whatever its CPUID says: VMXE/SMXE (no
 * nested virtualization), LA57 (the shared page walker is 4-level), PKE
 * (PKRU is not switched: the guest's would reach the VMM's user space),
 * CET (its MSRs are not switched). The host owns them, so a MOV that sets
 * one exits and raises #GP.
 */
#define KHV_CR4_REFUSED	(X86_CR4_VMXE | X86_CR4_SMXE | X86_CR4_LA57 | \
			 X86_CR4_PKE | X86_CR4_CET)

/*
 * CR0 and CR4 in VMX operation (SDM vol. 3, appendix A.7, A.8). With
 * unrestricted guest, CR0.PE and CR0.PG may be 0. The host owns the bits
 * the hardware needs at a value the guest may not want (CR0.NE, CR4.VMXE),
 * CR0.CD/NW, which it keeps clear in the hardware register so the guest
 * never runs uncached, and the CR4 bits it refuses: the guest reads its own
 * values from the shadows. Everything else (PE, PG, PAE, PGE...) the guest
 * changes without an exit, and the CPU then does what the change implies,
 * PDPTE loads included (EPT).
 */
static void khv_vmx_setup_crs(void)
{
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, khv_vmx.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, khv_vmx.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, khv_vmx.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, khv_vmx.cr4_fixed1);
	khv_vmx.cr0_fixed0 &= ~(X86_CR0_PE | X86_CR0_PG);
	khv_vmx.cr0_mask = khv_vmx.cr0_fixed0 | ~khv_vmx.cr0_fixed1 |
			   X86_CR0_CD | X86_CR0_NW;
	khv_vmx.cr4_mask = khv_vmx.cr4_fixed0 | ~khv_vmx.cr4_fixed1 |
			   KHV_CR4_REFUSED;
}

static const char *khv_vmx_missing(void)
{
	u64 feat, ept_vpid;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_INTEL)
		return "not an Intel CPU";
	if (!boot_cpu_has(X86_FEATURE_VMX))
		return "CPUID has no VMX (or firmware disabled it)";
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED))
		return "IA32_FEATURE_CONTROL is not locked";
	if (!(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return "IA32_FEATURE_CONTROL does not enable VMXON outside SMX";
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &khv_vmx.basic))
		return "no IA32_VMX_BASIC";
	if (vmx_basic_vmcs_size(khv_vmx.basic) > KHV_VMCS_MAX_SIZE)
		return "VMCS larger than a page";
	if (((khv_vmx.basic & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT) !=
	    VMX_BASIC_MEM_TYPE_WB)
		return "VMCS memory type is not write-back";
	if (khv_vmx.basic & VMX_BASIC_64)
		return "VMX structures limited to 32-bit physical addresses";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS,
			      CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return "no secondary processor-based controls";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_ENABLE_EPT))
		return "no EPT";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_ENABLE_VPID))
		return "no VPID";
	if (!khv_vmx_allowed1(MSR_IA32_VMX_PROCBASED_CTLS2,
			      SECONDARY_EXEC_UNRESTRICTED_GUEST))
		return "no unrestricted guest";
	if (rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &ept_vpid))
		return "no IA32_VMX_EPT_VPID_CAP";
	if (!(ept_vpid & VMX_EPT_PAGE_WALK_4_BIT))
		return "no 4-level EPT";
	if (!(ept_vpid & VMX_EPTP_WB_BIT))
		return "EPT paging structures cannot be write-back";
	if (!(ept_vpid & VMX_EPT_INVEPT_BIT) ||
	    !(ept_vpid & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT)))
		return "no INVEPT";
	if (!((ept_vpid >> 32) & VMX_VPID_INVVPID_BIT) ||
	    !((ept_vpid >> 32) & (VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
				  VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT)))
		return "no INVVPID";
	khv_vmx.ept_vpid = ept_vpid;
	khv_vmx.invept_type = (ept_vpid & VMX_EPT_EXTENT_CONTEXT_BIT) ?
		VMX_EPT_EXTENT_CONTEXT : VMX_EPT_EXTENT_GLOBAL;
	khv_vmx.invvpid_type = ((ept_vpid >> 32) & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT) ?
		VMX_VPID_EXTENT_SINGLE_CONTEXT : VMX_VPID_EXTENT_ALL_CONTEXT;
	return khv_vmx_setup_controls();
}

/* ------------------------------------------------------------------------
 * VMX instructions. VMfail is a khv bug, a fault means VMX is off (reboot):
 * both are reported once, none stops the host.
 */

void khv_vmx_vmread_error(unsigned long field, bool fault)
{
	pr_err_once("VMREAD of field 0x%lx %s\n", field,
		    fault ? "faulted (VMX off?)" : "failed");
}

void khv_vmx_vmwrite_error(unsigned long field, unsigned long value, bool fault)
{
	pr_err_once("VMWRITE of 0x%lx to field 0x%lx %s\n", value, field,
		    fault ? "faulted (VMX off?)" : "failed");
}

static noinline void khv_vmx_insn_error(const char *insn, u64 operand)
{
	pr_err_once("%s 0x%llx failed\n", insn, operand);
}

static int khv_vmxon(u64 pa)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jna %l[vmfail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m" (pa) : "cc", "memory" : vmfail, fault);
	return 0;
vmfail:
	return -EIO;
fault:
	return -EFAULT;
}

static void khv_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	return;
fault:
	/* Not in VMX operation: nothing to leave. */
	return;
}

static void khv_vmclear(u64 pa)
{
	asm goto("1: vmclear %[pa]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [pa] "m" (pa) : "cc", "memory" : fail);
	return;
fail:
	khv_vmx_insn_error("VMCLEAR", pa);
}

static void khv_vmptrld(u64 pa)
{
	asm goto("1: vmptrld %[pa]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [pa] "m" (pa) : "cc", "memory" : fail);
	return;
fail:
	khv_vmx_insn_error("VMPTRLD", pa);
}

static void khv_invept(unsigned long type, u64 eptp)
{
	struct {
		u64 eptp;
		u64 reserved;
	} desc = { eptp, 0 };

	static_assert(sizeof(desc) == 16);
	asm goto("1: invept %[desc], %[type]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory" : fail);
	return;
fail:
	khv_vmx_insn_error("INVEPT", eptp);
}

static void khv_invvpid(unsigned long type, u16 vpid)
{
	struct {
		u64 vpid;	/* bits 15:0; the rest reserved */
		u64 gva;
	} desc = { vpid, 0 };

	static_assert(sizeof(desc) == 16);
	asm goto("1: invvpid %[desc], %[type]\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fail])
		 : : [desc] "m" (desc), [type] "r" (type) : "cc", "memory" : fail);
	return;
fail:
	khv_vmx_insn_error("INVVPID", vpid);
}

/* ------------------------------------------------------------------------
 * vCPUs and the per-CPU state.
 */

struct khv_vmx_vcpu {
	struct khv_vcpu vcpu;

	struct khv_vmcs *vmcs;
	u64 vmcs_pa;
	u16 vpid;
	/*
	 * The CPU the VMCS is active on, or -1 when it is clear. Set by the
	 * vCPU's thread (vcpu_load, interrupts off); set to -1 on that CPU,
	 * interrupts off, by whoever VMCLEARs it (vcpu_load's IPI,
	 * hardware_disable, vcpu_free's IPI), after taking it off the list.
	 */
	int cpu;
	struct list_head loaded_link;	/* on khv_vmx_loaded of cpu */
	bool launched;			/* VMLAUNCHed since the last VMCLEAR */
	bool initialized;		/* the VMCS holds khv's setup */
	bool flush;			/* INVEPT + INVVPID before the next entry */

	/* The rest is the vCPU thread's (vcpu->mutex). */

	/*
	 * Host state, valid while host_saved: from the first entry after
	 * vcpu_load to vcpu_put. Meanwhile the guest's SYSCALL MSRs and
	 * KERNEL_GS_BASE are in the CPU.
	 */
	bool host_saved;
	u16 host_ds, host_es, host_fs, host_gs, host_ldt;
	u64 host_fs_base, host_kernel_gs_base;
	u64 host_star, host_lstar, host_cstar, host_sfmask;
	unsigned long host_cr3, host_cr4;	/* as in the VMCS */

	/* Guest state outside the VMCS (the rest is in vcpu->arch). */
	u64 guest_kernel_gs_base;
	u64 star, lstar, cstar, sfmask;
	u64 pat;
	unsigned long cr2;

	/*
	 * What the VMCS holds, to write a field only when it changes: the
	 * primary processor-based controls (the windows), the guest
	 * interruptibility state, GUEST_DR7.
	 */
	u32 proc;
	u32 intr_state;
	unsigned long dr7;

	/* Exit qualification of an exit handle_exit finishes. */
	unsigned long exit_qual;
};

static inline struct khv_vmx_vcpu *to_vmx(struct khv_vcpu *vcpu)
{
	return container_of(vcpu, struct khv_vmx_vcpu, vcpu);
}

/*
 * Per CPU: the VMXON region (allocated at module load for every possible
 * CPU), whether this CPU is in VMX operation because of khv, the VMCSs
 * active on it and the current one. Touched on its own CPU with interrupts
 * off only.
 */
static DEFINE_PER_CPU(struct page *, khv_vmxon_region);
static DEFINE_PER_CPU(bool, khv_vmx_on);
static DEFINE_PER_CPU(struct list_head, khv_vmx_loaded);
static DEFINE_PER_CPU(struct khv_vmx_vcpu *, khv_vmx_current);

/* The MSR bitmap: every bit set, every RDMSR/WRMSR exits. Read-only. */
static void *khv_vmx_msr_bitmap;

/* VPIDs: 0 is the host's. */
static DECLARE_BITMAP(khv_vmx_vpids, VMX_NR_VPIDS);
static DEFINE_SPINLOCK(khv_vmx_vpid_lock);

static u16 khv_vmx_alloc_vpid(void)
{
	unsigned long vpid;

	spin_lock(&khv_vmx_vpid_lock);
	vpid = find_next_zero_bit(khv_vmx_vpids, VMX_NR_VPIDS, 1);
	if (vpid < VMX_NR_VPIDS)
		__set_bit(vpid, khv_vmx_vpids);
	else
		vpid = 0;
	spin_unlock(&khv_vmx_vpid_lock);
	return vpid;
}

static void khv_vmx_free_vpid(u16 vpid)
{
	spin_lock(&khv_vmx_vpid_lock);
	__clear_bit(vpid, khv_vmx_vpids);
	spin_unlock(&khv_vmx_vpid_lock);
}

/* VMCLEAR a VMCS active on this CPU and forget it. Interrupts off. */
static void khv_vmx_clear_here(struct khv_vmx_vcpu *vmx)
{
	khv_vmclear(vmx->vmcs_pa);
	if (__this_cpu_read(khv_vmx_current) == vmx)
		__this_cpu_write(khv_vmx_current, NULL);
	list_del(&vmx->loaded_link);
	vmx->launched = false;
	/* Off the list before anyone sees -1 and puts it on another. */
	smp_wmb();
	WRITE_ONCE(vmx->cpu, -1);
}

/* IPI: VMCLEAR @info's VMCS if it is still active here. */
static void khv_vmx_clear_ipi(void *info)
{
	struct khv_vmx_vcpu *vmx = info;

	if (READ_ONCE(vmx->cpu) == smp_processor_id())
		khv_vmx_clear_here(vmx);
}

/* Make the VMCS inactive wherever it is. Interrupts on. */
static void khv_vmx_clear_remote(struct khv_vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->cpu);

	/*
	 * If the CPU went offline, hardware_disable cleared the VMCS there
	 * before (CPUHP_AP_ONLINE_DYN is torn down while it still runs).
	 */
	if (cpu >= 0)
		smp_call_function_single(cpu, khv_vmx_clear_ipi, vmx, 1);
	/* Pairs with the barrier in khv_vmx_clear_here(). */
	smp_rmb();
	WARN_ON_ONCE(READ_ONCE(vmx->cpu) >= 0);
}

/* hardware_enable: see struct khv_vendor_ops; interrupts are off. */
static int khv_vmx_hardware_enable(void)
{
	struct page *region = __this_cpu_read(khv_vmxon_region);
	u64 feat;
	int r;

	/* Someone else's VMXON (or a CR4 we did not expect): hands off. */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;
	if (WARN_ON_ONCE(!region))
		return -ENOMEM;
	/* Firmware may lock the MSR differently on each CPU. */
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EIO;

	cr4_set_bits(X86_CR4_VMXE);
	r = khv_vmxon(page_to_phys(region));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		return r;
	}
	__this_cpu_write(khv_vmx_on, true);
	return 0;
}

static void khv_vmx_hardware_disable(void)
{
	struct khv_vmx_vcpu *vmx, *tmp;

	if (!__this_cpu_read(khv_vmx_on))
		return;
	/* A VMCS must be clear (in memory) before VMX is left. */
	list_for_each_entry_safe(vmx, tmp, this_cpu_ptr(&khv_vmx_loaded),
				 loaded_link)
		khv_vmx_clear_here(vmx);
	khv_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	__this_cpu_write(khv_vmx_on, false);
}

/*
 * Crash and emergency reboot: leave VMX operation, which blocks INIT, so the
 * next kernel can start the CPUs. Runs in NMI or shutdown context.
 */
static void khv_vmx_emergency_disable(void)
{
	if (__this_cpu_read(khv_vmx_on)) {
		khv_vmxoff();
		cr4_clear_bits(X86_CR4_VMXE);
		__this_cpu_write(khv_vmx_on, false);
	}
}

/* ------------------------------------------------------------------------
 * VMCS contents.
 */

static u64 khv_vmx_eptp(struct khv_vmx_vcpu *vmx)
{
	return __pa(vmx->vcpu.vm->arch.s2_root) | VMX_EPTP_PWL_4 | VMX_EPTP_MT_WB;
}

/* Host state that is the same on every CPU and for every thread. */
static void khv_vmx_init_host_state(struct khv_vmx_vcpu *vmx)
{
	struct desc_ptr idt;
	u64 v;

	khv_vmcs_writel(HOST_CR0, read_cr0());
	vmx->host_cr3 = __read_cr3();
	khv_vmcs_writel(HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = cr4_read_shadow();
	khv_vmcs_writel(HOST_CR4, vmx->host_cr4);

	khv_vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	khv_vmcs_write16(HOST_SS_SELECTOR, __KERNEL_DS);
	/* Null: vcpu_put reloads whatever the thread had. */
	khv_vmcs_write16(HOST_DS_SELECTOR, 0);
	khv_vmcs_write16(HOST_ES_SELECTOR, 0);
	khv_vmcs_write16(HOST_FS_SELECTOR, 0);
	khv_vmcs_write16(HOST_GS_SELECTOR, 0);
	khv_vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);

	store_idt(&idt);
	khv_vmcs_writel(HOST_IDTR_BASE, idt.address);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	khv_vmcs_write32(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	khv_vmcs_writel(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_EFER, v);
	khv_vmcs_write64(HOST_IA32_EFER, v);
	khv_vmcs_writel(HOST_RIP, (unsigned long)khv_vmx_vmexit);
}

/* Host state of this CPU: its TSS, GDT, per-CPU GS base, entry stack. */
static void khv_vmx_set_host_cpu_state(int cpu)
{
	struct desc_ptr gdt;
	u64 v;

	khv_vmcs_writel(HOST_TR_BASE,
			(unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	native_store_gdt(&gdt);
	khv_vmcs_writel(HOST_GDTR_BASE, gdt.address);
	rdmsrl(MSR_GS_BASE, v);
	khv_vmcs_writel(HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	khv_vmcs_writel(HOST_IA32_SYSENTER_ESP, v);
}

static void khv_vmx_write_seg(enum khv_vmx_seg seg, u16 sel, unsigned long base,
			      u32 limit, u32 ar)
{
	khv_vmcs_write16(GUEST_ES_SELECTOR + 2 * seg, sel);
	khv_vmcs_writel(GUEST_ES_BASE + 2 * seg, base);
	khv_vmcs_write32(GUEST_ES_LIMIT + 2 * seg, limit);
	khv_vmcs_write32(GUEST_ES_AR_BYTES + 2 * seg, ar);
}

/* The hardware CR0/CR4 for what the guest wants: host-owned bits fixed. */
static unsigned long khv_vmx_hw_cr0(unsigned long cr0)
{
	return (cr0 & ~khv_vmx.cr0_mask) | (khv_vmx.cr0_fixed0 & khv_vmx.cr0_mask);
}

static unsigned long khv_vmx_hw_cr4(unsigned long cr4)
{
	return (cr4 & ~khv_vmx.cr4_mask) | (khv_vmx.cr4_fixed0 & khv_vmx.cr4_mask);
}

static void khv_vmx_write_cr0(unsigned long cr0)
{
	khv_vmcs_writel(CR0_READ_SHADOW, cr0);
	khv_vmcs_writel(GUEST_CR0, khv_vmx_hw_cr0(cr0));
}

static void khv_vmx_write_cr4(unsigned long cr4)
{
	khv_vmcs_writel(CR4_READ_SHADOW, cr4);
	khv_vmcs_writel(GUEST_CR4, khv_vmx_hw_cr4(cr4));
}

static unsigned long khv_vmx_read_cr0(void)
{
	return (khv_vmcs_readl(GUEST_CR0) & ~khv_vmx.cr0_mask) |
	       (khv_vmcs_readl(CR0_READ_SHADOW) & khv_vmx.cr0_mask);
}

static unsigned long khv_vmx_read_cr4(void)
{
	return (khv_vmcs_readl(GUEST_CR4) & ~khv_vmx.cr4_mask) |
	       (khv_vmcs_readl(CR4_READ_SHADOW) & khv_vmx.cr4_mask);
}

/* EFER, and the IA-32e mode guest entry control that must match its LMA. */
static void khv_vmx_write_efer(u64 efer)
{
	u32 entry = khv_vmcs_read32(VM_ENTRY_CONTROLS) & ~VM_ENTRY_IA32E_MODE;

	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	khv_vmcs_write32(VM_ENTRY_CONTROLS, entry);
	khv_vmcs_write64(GUEST_IA32_EFER, efer);
}

/* The state of a CPU after RESET (SDM vol. 3, "Initialization"), in real mode. */
static void khv_vmx_reset_guest(struct khv_vmx_vcpu *vmx)
{
	enum khv_vmx_seg seg;

	for (seg = 0; seg < KHV_NR_SEGS; seg++)
		khv_vmx_write_seg(seg, 0, 0, 0xffff, 0x93);
	khv_vmx_write_seg(KHV_SEG_CS, 0xf000, 0xffff0000, 0xffff, 0x9b);
	khv_vmx_write_seg(KHV_SEG_LDTR, 0, 0, 0xffff, 0x82);
	khv_vmx_write_seg(KHV_SEG_TR, 0, 0, 0xffff, 0x8b);
	khv_vmcs_writel(GUEST_GDTR_BASE, 0);
	khv_vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	khv_vmcs_writel(GUEST_IDTR_BASE, 0);
	khv_vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);

	khv_vmx_write_cr0(KHV_CR0_RESET);
	khv_vmcs_writel(GUEST_CR3, 0);
	khv_vmx_write_cr4(0);
	khv_vmx_write_efer(0);
	khv_vmcs_writel(GUEST_DR7, KHV_DR7_RESET);
	khv_vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	khv_vmcs_write32(GUEST_SYSENTER_CS, 0);
	khv_vmcs_writel(GUEST_SYSENTER_ESP, 0);
	khv_vmcs_writel(GUEST_SYSENTER_EIP, 0);
	khv_vmcs_write32(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	khv_vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	khv_vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	khv_vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
	khv_vmcs_write64(GUEST_PDPTR0, 0);
	khv_vmcs_write64(GUEST_PDPTR1, 0);
	khv_vmcs_write64(GUEST_PDPTR2, 0);
	khv_vmcs_write64(GUEST_PDPTR3, 0);

	vmx->pat = KHV_PAT_RESET;
	vmx->cr2 = 0;
	vmx->intr_state = 0;
	vmx->dr7 = KHV_DR7_RESET;
}

/* Everything a fresh VMCS needs; it is current on this CPU. */
static void khv_vmx_init_vmcs(struct khv_vmx_vcpu *vmx)
{
	khv_vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, khv_vmx.pin);
	khv_vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, khv_vmx.proc);
	vmx->proc = khv_vmx.proc;
	khv_vmcs_write32(SECONDARY_VM_EXEC_CONTROL, khv_vmx.proc2);
	khv_vmcs_write32(VM_EXIT_CONTROLS, khv_vmx.exit);
	khv_vmcs_write32(VM_ENTRY_CONTROLS, khv_vmx.entry);
	/* Machine checks are the host's (khv_host_machine_check()). */
	khv_vmcs_write32(EXCEPTION_BITMAP, BIT(MC_VECTOR));
	khv_vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	khv_vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	khv_vmcs_write32(CR3_TARGET_COUNT, 0);
	khv_vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	khv_vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	khv_vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	khv_vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	khv_vmcs_write64(MSR_BITMAP, __pa(khv_vmx_msr_bitmap));
	khv_vmcs_write64(TSC_OFFSET, 0);
	khv_vmcs_write16(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	khv_vmcs_write64(EPT_POINTER, khv_vmx_eptp(vmx));
	khv_vmcs_writel(CR0_GUEST_HOST_MASK, khv_vmx.cr0_mask);
	khv_vmcs_writel(CR4_GUEST_HOST_MASK, khv_vmx.cr4_mask);

	khv_vmx_init_host_state(vmx);
	khv_vmx_reset_guest(vmx);
	vmx->initialized = true;
}

static int khv_vmx_vcpu_create(struct khv_vcpu *vcpu)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);
	struct page *page;

	vmx->vpid = khv_vmx_alloc_vpid();
	if (!vmx->vpid)
		return -ENOSPC;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page) {
		khv_vmx_free_vpid(vmx->vpid);
		return -ENOMEM;
	}
	vmx->vmcs = page_address(page);
	vmx->vmcs_pa = page_to_phys(page);
	vmx->vmcs->revision_id = vmx_basic_vmcs_revision_id(khv_vmx.basic);
	vmx->cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	return 0;
}

static void khv_vmx_vcpu_free(struct khv_vcpu *vcpu)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);

	/* The memory must not be reused while a CPU may still cache it. */
	khv_vmx_clear_remote(vmx);
	free_page((unsigned long)vmx->vmcs);
	khv_vmx_free_vpid(vmx->vpid);
}

static void khv_vmx_vcpu_load(struct khv_vcpu *vcpu, int cpu)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);
	int old = READ_ONCE(vmx->cpu);
	unsigned long flags;
	bool moved;

	if (old != cpu && old >= 0)
		khv_vmx_clear_remote(vmx);

	local_irq_save(flags);
	/* Still here, or clear (-1): by the IPI above or by hardware_disable. */
	moved = vmx->cpu != cpu;
	if (moved) {
		/*
		 * A fresh VMCS needs VMCLEAR before its first VMPTRLD; one
		 * cleared elsewhere is harmlessly cleared again.
		 */
		khv_vmclear(vmx->vmcs_pa);
		list_add(&vmx->loaded_link, this_cpu_ptr(&khv_vmx_loaded));
		WRITE_ONCE(vmx->cpu, cpu);
		vmx->launched = false;
		/*
		 * This CPU may hold translations of the vCPU's VPID and EPTP
		 * from before: another vCPU's with a recycled VPID, this one's
		 * from a previous stay, or a previous VM's with the same root.
		 */
		vmx->flush = true;
	}
	if (__this_cpu_read(khv_vmx_current) != vmx) {
		khv_vmptrld(vmx->vmcs_pa);
		__this_cpu_write(khv_vmx_current, vmx);
	}
	if (!vmx->initialized)
		khv_vmx_init_vmcs(vmx);
	if (moved)
		khv_vmx_set_host_cpu_state(cpu);
	local_irq_restore(flags);
}

/*
 * Before the first entry after vcpu_load: note the host state VM exit does
 * not give back, and load the guest's MSRs VM entry does not. Interrupts
 * off.
 */
static void khv_vmx_save_host(struct khv_vmx_vcpu *vmx)
{
	savesegment(ds, vmx->host_ds);
	savesegment(es, vmx->host_es);
	savesegment(fs, vmx->host_fs);
	savesegment(gs, vmx->host_gs);
	store_ldt(vmx->host_ldt);
	rdmsrl(MSR_FS_BASE, vmx->host_fs_base);
	khv_vmcs_writel(HOST_FS_BASE, vmx->host_fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->host_kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->guest_kernel_gs_base);
	rdmsrl(MSR_STAR, vmx->host_star);
	rdmsrl(MSR_LSTAR, vmx->host_lstar);
	rdmsrl(MSR_CSTAR, vmx->host_cstar);
	rdmsrl(MSR_SYSCALL_MASK, vmx->host_sfmask);
	wrmsrl(MSR_STAR, vmx->star);
	wrmsrl(MSR_LSTAR, vmx->lstar);
	wrmsrl(MSR_CSTAR, vmx->cstar);
	wrmsrl(MSR_SYSCALL_MASK, vmx->sfmask);
	vmx->host_saved = true;
}

/* Give the host back what VM exits took. Preemption off. */
static void khv_vmx_restore_host(struct khv_vmx_vcpu *vmx)
{
	unsigned long flags;

	local_irq_save(flags);
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->guest_kernel_gs_base);
	if (vmx->host_ldt)
		asm volatile("lldt %w0" : : "r" (vmx->host_ldt));
	if (vmx->host_ds)
		loadsegment(ds, vmx->host_ds);
	if (vmx->host_es)
		loadsegment(es, vmx->host_es);
	if (vmx->host_fs) {
		loadsegment(fs, vmx->host_fs);
		wrmsrl(MSR_FS_BASE, vmx->host_fs_base);
	}
	if (vmx->host_gs)
		load_gs_index(vmx->host_gs);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->host_kernel_gs_base);
	/* The guest cannot write these itself (every WRMSR exits). */
	wrmsrl(MSR_STAR, vmx->host_star);
	wrmsrl(MSR_LSTAR, vmx->host_lstar);
	wrmsrl(MSR_CSTAR, vmx->host_cstar);
	wrmsrl(MSR_SYSCALL_MASK, vmx->host_sfmask);
	/* VM exit left the TR limit at 0x67 and the GDTR limit at 0xffff. */
	invalidate_tss_limit();
	load_fixmap_gdt(raw_smp_processor_id());
	vmx->host_saved = false;
	local_irq_restore(flags);
}

static void khv_vmx_vcpu_put(struct khv_vcpu *vcpu)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);

	/* The VMCS stays active here until the thread runs elsewhere. */
	if (vmx->host_saved)
		khv_vmx_restore_host(vmx);
}

/* ------------------------------------------------------------------------
 * Control-register exits, finished in process context (ops->handle_exit):
 * MOV to CR0 or CR4 that changes a bit the host owns, MOV to and from CR8.
 * Each either completes the instruction (RIP advanced) or raises the #GP it
 * takes. One that leaves the guest in PAE paging may load the PDPTEs from
 * guest memory, which can sleep.
 */

static bool khv_vmx_long_mode(void)
{
	return (khv_vmcs_read64(GUEST_IA32_EFER) & EFER_LMA) &&
	       (khv_vmcs_read32(GUEST_CS_AR_BYTES) & KHV_AR_L);
}

/* A GPR as a MOV to CR reads it: 32 bits outside 64-bit mode. */
static u64 khv_vmx_gpr(struct khv_vcpu *vcpu, unsigned int gpr)
{
	u64 v = vcpu->arch.regs[gpr];

	return khv_vmx_long_mode() ? v : (u32)v;
}

/* PAE paging (not IA-32e): VM entry takes the PDPTEs from the VMCS (EPT). */
static bool khv_vmx_pae_paging(unsigned long cr0, unsigned long cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * The CR0 and CR4 bits whose change makes a MOV load the PDPTEs when PAE
 * paging is on afterwards (SDM vol. 3, "PDPTE Registers").
 */
#define KHV_PDPTE_CR0	(X86_CR0_PG | X86_CR0_CD | X86_CR0_NW)
#define KHV_PDPTE_CR4	(X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE | X86_CR4_SMEP)

/*
 * Load the four PDPTEs from the table CR3 points to into GUEST_PDPTR0-3.
 * With EPT the CPU loads them itself on the guest's MOV to CR3 (which does
 * not exit), saves them on VM exit and reloads them from the VMCS on VM
 * entry; the backend loads them where the hardware would have and did not:
 * MOVs it emulates, KVM_SET_SREGS. Process context (may sleep).
 *
 * Returns 0; 1 if the table is not in guest RAM or a present entry has a
 * reserved bit set (the MOV raises #GP and changes nothing; VM entry would
 * refuse such an entry); or -errno.
 */
static int khv_vmx_load_pdptrs(struct khv_vcpu *vcpu, unsigned long cr3)
{
	u64 rsvd = GENMASK_ULL(63, boot_cpu_data.x86_phys_bits) | KHV_PDPTE_RSVD;
	u64 pdpte[4];
	int i, r;

	r = khv_gpa_rw(vcpu, cr3 & KHV_PAE_CR3_MASK, pdpte, sizeof(pdpte), false);
	if (r)
		return r > 0 ? 1 : r;
	for (i = 0; i < ARRAY_SIZE(pdpte); i++)
		if ((pdpte[i] & KHV_PDPTE_P) && (pdpte[i] & rsvd))
			return 1;
	khv_vmcs_write64(GUEST_PDPTR0, pdpte[0]);
	khv_vmcs_write64(GUEST_PDPTR1, pdpte[1]);
	khv_vmcs_write64(GUEST_PDPTR2, pdpte[2]);
	khv_vmcs_write64(GUEST_PDPTR3, pdpte[3]);
	return 0;
}

/* MOV to CR0 (SDM vol. 2, MOV to CR). 0: done; 1: #GP; -errno. */
static int khv_vmx_mov_cr0(struct khv_vmx_vcpu *vmx, u64 val)
{
	unsigned long old = khv_vmx_read_cr0(), cr4 = khv_vmx_read_cr4();
	u64 efer = khv_vmcs_read64(GUEST_IA32_EFER), new_efer = efer;
	int r;

	if (val >> 32)
		return 1;
	if ((val & X86_CR0_PG) && !(val & X86_CR0_PE))
		return 1;
	if ((val & X86_CR0_NW) && !(val & X86_CR0_CD))
		return 1;
	if (!(old & X86_CR0_PG) && (val & X86_CR0_PG) && (efer & EFER_LME)) {
		/* Activating IA-32e mode: needs PAE, and CS.L clear. */
		if (!(cr4 & X86_CR4_PAE) ||
		    (khv_vmcs_read32(GUEST_CS_AR_BYTES) & KHV_AR_L))
			return 1;
		new_efer |= EFER_LMA;
	} else if ((old & X86_CR0_PG) && !(val & X86_CR0_PG)) {
		/* Paging goes off only outside 64-bit mode, PCIDE clear. */
		if (khv_vmx_long_mode() || (cr4 & X86_CR4_PCIDE))
			return 1;
		new_efer &= ~EFER_LMA;
	}
	if (khv_vmx_pae_paging(val, cr4, new_efer) && ((old ^ val) & KHV_PDPTE_CR0)) {
		r = khv_vmx_load_pdptrs(&vmx->vcpu, khv_vmcs_readl(GUEST_CR3));
		if (r)
			return r;
	}
	if (new_efer != efer)
		khv_vmx_write_efer(new_efer);
	khv_vmx_write_cr0(val);
	/* Paging on or off: the guest's TLB goes, as the CPU's would. */
	if ((old ^ val) & X86_CR0_PG)
		vmx->flush = true;
	return 0;
}

/*
 * MOV to CR4. It exits only when it changes a bit the host owns, all of
 * which the guest may not set: in practice #GP every time, but the checks
 * are the whole instruction's.
 */
static int khv_vmx_mov_cr4(struct khv_vmx_vcpu *vmx, u64 val)
{
	unsigned long old = khv_vmx_read_cr4(), cr0 = khv_vmx_read_cr0();
	u64 efer = khv_vmcs_read64(GUEST_IA32_EFER);
	int r;

	if (val & (~khv_vmx.cr4_fixed1 | KHV_CR4_REFUSED))
		return 1;
	if ((efer & EFER_LMA) && !(val & X86_CR4_PAE))
		return 1;
	if (khv_vmx_pae_paging(cr0, val, efer) && ((old ^ val) & KHV_PDPTE_CR4)) {
		r = khv_vmx_load_pdptrs(&vmx->vcpu, khv_vmcs_readl(GUEST_CR3));
		if (r)
			return r;
	}
	khv_vmx_write_cr4(val);
	if ((old ^ val) & (KHV_PDPTE_CR4 | X86_CR4_PCIDE | X86_CR4_SMAP))
		vmx->flush = true;
	return 0;
}

/*
 * Which control-register exits handle_exit finishes: MOV to CR0/CR4/CR8,
 * MOV from CR8. Nothing else exits (CR3 belongs to the guest with EPT;
 * CLTS and LMSW touch no bit the host owns).
 */
static bool khv_vmx_cr_exit_known(unsigned long q)
{
	switch (KHV_CRQ_TYPE(q)) {
	case KHV_CRQ_MOV_TO:
		return KHV_CRQ_NUM(q) == 0 || KHV_CRQ_NUM(q) == 4 ||
		       KHV_CRQ_NUM(q) == 8;
	case KHV_CRQ_MOV_FROM:
		return KHV_CRQ_NUM(q) == 8;
	default:
		return false;
	}
}

static int khv_vmx_exit_cr(struct khv_vmx_vcpu *vmx)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	unsigned long q = vmx->exit_qual;
	unsigned int gpr = KHV_CRQ_GPR(q);
	bool tpr_lowered = false;
	int r = 0;
	u64 val;

	if (KHV_CRQ_TYPE(q) == KHV_CRQ_MOV_FROM) {
		vcpu->arch.regs[gpr] = vcpu->arch.cr8;
	} else {
		val = khv_vmx_gpr(vcpu, gpr);
		switch (KHV_CRQ_NUM(q)) {
		case 0:
			r = khv_vmx_mov_cr0(vmx, val);
			break;
		case 4:
			r = khv_vmx_mov_cr4(vmx, val);
			break;
		default:
			/* CR8 is the TPR: bits 3:0. */
			if (val & ~0xfULL) {
				r = 1;
				break;
			}
			tpr_lowered = val < vcpu->arch.cr8;
			vcpu->arch.cr8 = val;
			break;
		}
	}
	if (r < 0)
		return r;
	if (r) {
		khv_queue_exception(vcpu, GP_VECTOR, true, 0);
		return 1;
	}
	vcpu->arch.rip = vcpu->arch.exit.next_rip;
	/* The instruction retired: the STI/MOV SS shadow it ran in is over. */
	vcpu->arch.int_shadow = 0;
	/*
	 * A lower TPR may let an interrupt in that user space holds (there
	 * is no in-kernel APIC): it hears of it at once, as from KVM.
	 */
	if (tpr_lowered) {
		vcpu->run->exit_reason = KVM_EXIT_SET_TPR;
		return 0;
	}
	return 1;
}

/* ops->handle_exit: the exits khv_vmx_decode_exit() left KHV_EXIT_VENDOR. */
static int khv_vmx_handle_exit(struct khv_vcpu *vcpu)
{
	if (WARN_ON_ONCE(KHV_EXIT_BASIC(vcpu->arch.exit.hw_reason) !=
			 EXIT_REASON_CR_ACCESS))
		return -EIO;
	return khv_vmx_exit_cr(to_vmx(vcpu));
}

/* ------------------------------------------------------------------------
 * Entering the guest and decoding the exit.
 */

static void khv_vmx_decode_io(struct khv_exit *x, u64 q)
{
	x->reason = KHV_EXIT_IO;
	x->io.port = q >> KHV_IOQ_PORT_SHIFT;
	x->io.size = (q & KHV_IOQ_SIZE) + 1;
	x->io.in = q & KHV_IOQ_IN;
	x->io.string = q & KHV_IOQ_STRING;
	x->io.rep = q & KHV_IOQ_REP;
	if (x->io.string && (khv_vmx.basic & VMX_BASIC_INOUT)) {
		u32 info = khv_vmcs_read32(VMX_INSTRUCTION_INFO);

		x->io.addr_size = 2 << ((info >> KHV_IOI_ADDR_SHIFT) & 7);
		x->io.seg = (info >> KHV_IOI_SEG_SHIFT) & 7;
	}
}

/*
 * An exit from an IRET that had unblocked (virtual) NMIs and will run
 * again: NMIs are blocked until it does (SDM vol. 3, "Exit Qualification
 * for EPT Violations", "VM-Exit Interruption Information"). Bit 12 means
 * nothing for an exit during event delivery.
 */
static void khv_vmx_nmi_iret(struct khv_vcpu *vcpu, u32 bits)
{
	if ((bits & KHV_NMI_UNBLOCKED_BY_IRET) &&
	    vcpu->arch.exit.idt.type == KHV_EV_NONE)
		vcpu->arch.nmi_masked = true;
}

static void khv_vmx_decode_ept(struct khv_vcpu *vcpu, u64 q)
{
	struct khv_exit *x = &vcpu->arch.exit;

	x->reason = KHV_EXIT_STAGE2_FAULT;
	x->s2.gpa = khv_vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	x->s2.write = q & EPT_VIOLATION_ACC_WRITE;
	x->s2.fetch = q & EPT_VIOLATION_ACC_INSTR;
	x->s2.present = q & EPT_VIOLATION_RWX_MASK;
	khv_vmx_nmi_iret(vcpu, q);
}

/* VMX interruption types (bits 10:8) as the shared code names them. */
static const u8 khv_vmx_ev_type[8] = {
	[INTR_TYPE_EXT_INTR >> 8]		= KHV_EV_EXTINT,
	[INTR_TYPE_NMI_INTR >> 8]		= KHV_EV_NMI,
	[INTR_TYPE_HARD_EXCEPTION >> 8]		= KHV_EV_EXCEPTION,
	[INTR_TYPE_SOFT_INTR >> 8]		= KHV_EV_SOFT_INT,
	[INTR_TYPE_PRIV_SW_EXCEPTION >> 8]	= KHV_EV_PRIV_SOFT_EXCEPTION,
	[INTR_TYPE_SOFT_EXCEPTION >> 8]		= KHV_EV_SOFT_EXCEPTION,
};

static bool khv_vmx_ev_soft(u8 type)
{
	return type == KHV_EV_SOFT_INT || type == KHV_EV_SOFT_EXCEPTION ||
	       type == KHV_EV_PRIV_SOFT_EXCEPTION;
}

/*
 * The event whose delivery the exit interrupted (IDT-vectoring
 * information), for the shared code to deliver again: with its error code
 * and, for a software event, the length of the instruction that raised it
 * (SDM vol. 3, "Information for VM Exits During Event Delivery").
 */
static void khv_vmx_store_idt(struct khv_event *e, u32 idt, u32 insn_len)
{
	if (!(idt & VECTORING_INFO_VALID_MASK))
		return;
	e->type = khv_vmx_ev_type[(idt & VECTORING_INFO_TYPE_MASK) >> 8];
	e->vector = idt & VECTORING_INFO_VECTOR_MASK;
	if (idt & VECTORING_INFO_DELIVER_CODE_MASK) {
		e->has_err = true;
		e->err = khv_vmcs_read32(IDT_VECTORING_ERROR_CODE);
	}
	if (khv_vmx_ev_soft(e->type))
		e->insn_len = insn_len;
}

static void khv_vmx_decode_exit(struct khv_vmx_vcpu *vmx, u32 reason)
{
	struct khv_vcpu *vcpu = &vmx->vcpu;
	struct khv_exit *x = &vcpu->arch.exit;
	u64 q = khv_vmcs_readl(EXIT_QUALIFICATION);
	u32 insn_len = khv_vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	u32 intr;

	memset(x, 0, sizeof(*x));
	x->hw_reason = reason;
	x->next_rip = vcpu->arch.rip + insn_len;
	khv_vmx_store_idt(&x->idt, khv_vmcs_read32(IDT_VECTORING_INFO_FIELD),
			  insn_len);
	switch (KHV_EXIT_BASIC(reason)) {
	case EXIT_REASON_EXCEPTION_NMI:
		intr = khv_vmcs_read32(VM_EXIT_INTR_INFO);
		x->next_rip = vcpu->arch.rip;
		if ((intr & INTR_INFO_VALID_MASK) &&
		    (intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
			/*
			 * The NMI was the host's: have its handler run now,
			 * interrupts still off, NMIs blocked until its IRET.
			 */
			asm volatile("int $2");
			x->reason = KHV_EXIT_NONE;
		} else if ((intr & INTR_INFO_VALID_MASK) &&
			   (intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION &&
			   (intr & INTR_INFO_VECTOR_MASK) == MC_VECTOR) {
			khv_host_machine_check();
			khv_vmx_nmi_iret(vcpu, intr);
			x->reason = KHV_EXIT_NONE;
		} else {
			x->reason = KHV_EXIT_UNKNOWN;
		}
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_INIT_SIGNAL:
	case EXIT_REASON_SIPI_SIGNAL:
		/* Interrupts are taken when the run loop enables them. */
		x->reason = KHV_EXIT_NONE;
		x->next_rip = vcpu->arch.rip;
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		x->reason = KHV_EXIT_SHUTDOWN;
		break;
	case EXIT_REASON_INTERRUPT_WINDOW:
		x->reason = KHV_EXIT_IRQ_WINDOW;
		x->next_rip = vcpu->arch.rip;
		break;
	case EXIT_REASON_NMI_WINDOW:
		x->reason = KHV_EXIT_NMI_WINDOW;
		x->next_rip = vcpu->arch.rip;
		break;
	case EXIT_REASON_CPUID:
		x->reason = KHV_EXIT_CPUID;
		break;
	case EXIT_REASON_HLT:
		x->reason = KHV_EXIT_HLT;
		break;
	case EXIT_REASON_INVD:
	case EXIT_REASON_WBINVD:
		/* Guest RAM is write-back and coherent: nothing to write back. */
		vcpu->arch.rip = x->next_rip;
		vcpu->arch.int_shadow = 0;
		x->reason = KHV_EXIT_NONE;
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		khv_vmx_decode_io(x, q);
		break;
	case EXIT_REASON_MSR_READ:
		x->reason = KHV_EXIT_RDMSR;
		break;
	case EXIT_REASON_MSR_WRITE:
		x->reason = KHV_EXIT_WRMSR;
		break;
	case EXIT_REASON_CR_ACCESS:
		/* Some need guest memory: finished by handle_exit. */
		vmx->exit_qual = q;
		x->reason = khv_vmx_cr_exit_known(q) ? KHV_EXIT_VENDOR :
						       KHV_EXIT_UNKNOWN;
		break;
	case EXIT_REASON_DR_ACCESS:
		x->reason = KHV_EXIT_DR;
		x->dr.dr = KHV_DRQ_NUM(q);
		x->dr.gpr = KHV_DRQ_GPR(q);
		x->dr.write = !(q & KHV_DRQ_FROM);
		break;
	case EXIT_REASON_EPT_VIOLATION:
		khv_vmx_decode_ept(vcpu, q);
		break;
	case KHV_EXIT_REASON_GETSEC:
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMPTRST:
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMWRITE:
	case EXIT_REASON_VMOFF:
	case EXIT_REASON_VMON:
	case EXIT_REASON_INVEPT:
	case EXIT_REASON_INVVPID:
	case EXIT_REASON_VMFUNC:
	case EXIT_REASON_MWAIT_INSTRUCTION:
	case EXIT_REASON_MONITOR_INSTRUCTION:
		x->reason = KHV_EXIT_UD;
		break;
	case EXIT_REASON_XSETBV:
		x->reason = KHV_EXIT_XSETBV;
		break;
	default:
		/* Including EPT misconfigurations: khv's tables are wrong. */
		x->reason = KHV_EXIT_UNKNOWN;
		break;
	}
}

/*
 * Whether VM entry delivers an error code with an injected hardware
 * exception (SDM vol. 3, "Checks on VM-Entry Control Fields"): never in
 * real mode (unrestricted guest with CR0.PE = 0, where exceptions push
 * none); otherwise exactly for the vectors that have one, unless the CPU
 * takes any combination (IA32_VMX_BASIC bit 56).
 */
static bool khv_vmx_deliver_err(const struct khv_event *e)
{
	if (!(khv_vmcs_readl(GUEST_CR0) & X86_CR0_PE))
		return false;
	if (khv_vmx.basic & KHV_VMX_BASIC_ANY_ERRCODE)
		return e->has_err;
	switch (e->vector) {
	case DF_VECTOR: case TS_VECTOR: case NP_VECTOR: case SS_VECTOR:
	case GP_VECTOR: case PF_VECTOR: case AC_VECTOR:
		return true;
	default:
		return false;
	}
}

/*
 * Under STI or MOV SS blocking, VM entry wants a single-step trap pending
 * (BS) exactly when RFLAGS.TF = 1 and DEBUGCTL.BTF = 0 (SDM vol. 3, "Checks
 * on Guest Non-Register State"). The CPU leaves it so at an exit; it may
 * not be so once user space or the shared code changed RFLAGS or the
 * shadow.
 */
static void khv_vmx_fix_pending_bs(u64 rflags)
{
	unsigned long pend = khv_vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS);
	bool bs = (rflags & X86_EFLAGS_TF) &&
		  !(khv_vmcs_read64(GUEST_IA32_DEBUGCTL) & DEBUGCTLMSR_BTF);

	if (!!(pend & KHV_PENDING_DBG_BS) != bs)
		khv_vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
				pend ^ KHV_PENDING_DBG_BS);
}

/*
 * Before entry: the event the shared code chose (VM-entry interruption
 * information), the guest's interruptibility state, the windows it waits
 * for. A state VM entry would refuse (SDM vol. 3, "Checks on Guest
 * Non-Register State") is made into the one the hardware would have been
 * in, as stock kvm-intel does: MOV SS blocking wins over STI blocking, STI
 * blocking needs RFLAGS.IF = 1, an external interrupt or NMI is injected
 * outside any shadow, and an injected NMI is not blocked by NMI (its
 * delivery blocks NMIs again).
 */
static void khv_vmx_load_events(struct khv_vmx_vcpu *vmx)
{
	struct khv_vcpu_arch *a = &vmx->vcpu.arch;
	const struct khv_event *e = &a->inject;
	u32 info = 0, intr = 0, proc = khv_vmx.proc;
	bool soft = false;

	if (a->int_shadow & KVM_X86_SHADOW_INT_MOV_SS)
		intr = GUEST_INTR_STATE_MOV_SS;
	else if ((a->int_shadow & KVM_X86_SHADOW_INT_STI) &&
		 (a->rflags & X86_EFLAGS_IF))
		intr = GUEST_INTR_STATE_STI;
	if (a->nmi_masked)
		intr |= GUEST_INTR_STATE_NMI;

	switch (e->type) {
	case KHV_EV_NONE:
		break;
	case KHV_EV_EXTINT:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | e->vector;
		intr &= ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
		break;
	case KHV_EV_NMI:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_NMI_INTR | NMI_VECTOR;
		intr &= ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS |
			  GUEST_INTR_STATE_NMI);
		break;
	case KHV_EV_EXCEPTION:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | e->vector;
		if (khv_vmx_deliver_err(e))
			info |= INTR_INFO_DELIVER_CODE_MASK;
		break;
	case KHV_EV_SOFT_INT:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_SOFT_INTR | e->vector;
		soft = true;
		break;
	case KHV_EV_SOFT_EXCEPTION:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_SOFT_EXCEPTION | e->vector;
		soft = true;
		break;
	case KHV_EV_PRIV_SOFT_EXCEPTION:
		info = INTR_INFO_VALID_MASK | INTR_TYPE_PRIV_SW_EXCEPTION | e->vector;
		soft = true;
		break;
	default:
		WARN_ON_ONCE(1);
		break;
	}
	/* VM exits clear the field's valid bit: written only to inject. */
	if (info) {
		khv_vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
		if (info & INTR_INFO_DELIVER_CODE_MASK)
			khv_vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE,
					 e->has_err ? e->err : 0);
		if (soft)
			khv_vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, e->insn_len);
	}

	if (intr != vmx->intr_state) {
		khv_vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr);
		vmx->intr_state = intr;
	}
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		khv_vmx_fix_pending_bs(a->rflags);

	if (a->irq_window)
		proc |= CPU_BASED_INTR_WINDOW_EXITING;
	if (a->nmi_window)
		proc |= CPU_BASED_NMI_WINDOW_EXITING;
	if (proc != vmx->proc) {
		khv_vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, proc);
		vmx->proc = proc;
	}
}

/* After an exit: the guest's interruptibility state, as the CPU saved it. */
static void khv_vmx_store_events(struct khv_vmx_vcpu *vmx)
{
	struct khv_vcpu_arch *a = &vmx->vcpu.arch;
	u32 intr = khv_vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	vmx->intr_state = intr;
	a->int_shadow = (intr & GUEST_INTR_STATE_STI ? KVM_X86_SHADOW_INT_STI : 0) |
			(intr & GUEST_INTR_STATE_MOV_SS ? KVM_X86_SHADOW_INT_MOV_SS : 0);
	a->nmi_masked = intr & GUEST_INTR_STATE_NMI;
}

/*
 * The guest's breakpoints, while its DR7 arms one (bits 7:0): its DR0-3 and
 * DR6 go into the hardware (VM entry loads DR7 from GUEST_DR7; a hit sets
 * DR6's status bits). Interrupts are off until khv_vmx_put_guest_dr(). The
 * host's DR7 goes off first, so that none of its breakpoints fires on a
 * guest address meanwhile.
 */
static void khv_vmx_load_guest_dr(const struct khv_vcpu_arch *a)
{
	if (hw_breakpoint_active())
		set_debugreg(0UL, 7);
	set_debugreg(a->db[0], 0);
	set_debugreg(a->db[1], 1);
	set_debugreg(a->db[2], 2);
	set_debugreg(a->db[3], 3);
	/* Bits 63:32 are reserved: a MOV with one set would #GP. */
	set_debugreg((u32)a->dr6, 6);
}

/* After the exit (DR7 is 0x400): the guest's DR6 back, the host's state. */
static void khv_vmx_put_guest_dr(struct khv_vcpu_arch *a)
{
	unsigned long dr6;

	get_debugreg(dr6, 6);
	a->dr6 = dr6;
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else
		set_debugreg(DR6_RESERVED, 6);
}

static void khv_vmx_flush_tlb(struct khv_vmx_vcpu *vmx)
{
	khv_invept(khv_vmx.invept_type, khv_vmx_eptp(vmx));
	khv_invvpid(khv_vmx.invvpid_type, vmx->vpid);
}

/* Host state that may have changed since the last entry. Interrupts off. */
static void khv_vmx_prepare_host(struct khv_vmx_vcpu *vmx)
{
	unsigned long cr3 = __read_cr3(), cr4 = cr4_read_shadow();

	if (!vmx->host_saved)
		khv_vmx_save_host(vmx);
	/* CR3 is per process (and PCID), CR4 per CPU and task (TSD, PCE...). */
	if (unlikely(cr3 != vmx->host_cr3)) {
		khv_vmcs_writel(HOST_CR3, cr3);
		vmx->host_cr3 = cr3;
	}
	if (unlikely(cr4 != vmx->host_cr4)) {
		khv_vmcs_writel(HOST_CR4, cr4);
		vmx->host_cr4 = cr4;
	}
}

/*
 * The guest did not run: the event meant for it was not delivered (the
 * shared code keeps it, as if interrupted), and the VM-entry interruption
 * information must not inject it behind the shared code's back later.
 */
static void khv_vmx_entry_failed(struct khv_vmx_vcpu *vmx, u64 hw_reason,
				 bool vmfail)
{
	struct khv_exit *x = &vmx->vcpu.arch.exit;

	memset(x, 0, sizeof(*x));
	x->reason = KHV_EXIT_FAIL_ENTRY;
	x->hw_reason = hw_reason;
	x->idt = vmx->vcpu.arch.inject;
	if (vmfail) {
		pr_err_once("VMLAUNCH/VMRESUME failed: VM-instruction error %llu\n",
			    hw_reason);
	} else {
		pr_info_ratelimited("vCPU %u: VM entry failed: exit reason %llu, qualification 0x%lx\n",
				    vmx->vcpu.vcpu_id, hw_reason,
				    khv_vmcs_readl(EXIT_QUALIFICATION));
		/*
		 * Whether the failed entry changed the launch state or not, a
		 * VMCLEAR makes it known: the next entry is a VMLAUNCH.
		 */
		khv_vmclear(vmx->vmcs_pa);
		khv_vmptrld(vmx->vmcs_pa);
		vmx->launched = false;
	}
	khv_vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
}

static void khv_vmx_run(struct khv_vcpu *vcpu)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);
	struct khv_vcpu_arch *a = &vcpu->arch;
	bool guest_dr = a->dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK);
	unsigned long debugctl;
	u32 reason;
	int fail;

	khv_vmx_prepare_host(vmx);
	if (test_and_clear_bit(KHV_REQ_TLB_FLUSH, &vcpu->requests))
		vmx->flush = true;
	if (vmx->flush) {
		khv_vmx_flush_tlb(vmx);
		vmx->flush = false;
	}

	khv_vmcs_writel(GUEST_RIP, a->rip);
	khv_vmcs_writel(GUEST_RSP, a->regs[KHV_RSP]);
	khv_vmcs_writel(GUEST_RFLAGS, a->rflags);
	khv_vmx_load_events(vmx);
	if (a->dr7 != vmx->dr7) {
		khv_vmcs_writel(GUEST_DR7, a->dr7);
		vmx->dr7 = a->dr7;
	}
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	/* VM exit clears IA32_DEBUGCTL and sets DR7 to 0x400. */
	debugctl = get_debugctlmsr();
	if (unlikely(guest_dr))
		khv_vmx_load_guest_dr(a);
	fail = khv_vmx_vmenter(a->regs, vmx->launched);
	if (unlikely(guest_dr))
		khv_vmx_put_guest_dr(a);
	else if (hw_breakpoint_active())
		set_debugreg(__this_cpu_read(cpu_dr7), 7);
	if (debugctl)
		update_debugctlmsr(debugctl);

	if (unlikely(fail)) {
		khv_vmx_entry_failed(vmx, khv_vmcs_read32(VM_INSTRUCTION_ERROR), true);
		return;
	}
	vmx->launched = true;
	vmx->cr2 = native_read_cr2();
	reason = khv_vmcs_read32(VM_EXIT_REASON);
	if (unlikely(reason & KHV_EXIT_FAILED_ENTRY)) {
		if (KHV_EXIT_BASIC(reason) == EXIT_REASON_MCE_DURING_VMENTRY)
			khv_host_machine_check();
		khv_vmx_entry_failed(vmx, KHV_EXIT_BASIC(reason), false);
		return;
	}

	a->rip = khv_vmcs_readl(GUEST_RIP);
	a->regs[KHV_RSP] = khv_vmcs_readl(GUEST_RSP);
	a->rflags = khv_vmcs_readl(GUEST_RFLAGS);
	/* The guest cannot MOV to DR7, but #DB delivery clears its GD bit. */
	a->dr7 = vmx->dr7 = khv_vmcs_readl(GUEST_DR7);
	khv_vmx_store_events(vmx);
	khv_vmx_decode_exit(vmx, reason);
}

/* ------------------------------------------------------------------------
 * KVM_GET_SREGS / KVM_SET_SREGS.
 */

static void khv_vmx_get_seg(enum khv_vmx_seg seg, struct kvm_segment *k)
{
	u32 ar = khv_vmcs_read32(GUEST_ES_AR_BYTES + 2 * seg);

	*k = (struct kvm_segment) {
		.base = khv_vmcs_readl(GUEST_ES_BASE + 2 * seg),
		.limit = khv_vmcs_read32(GUEST_ES_LIMIT + 2 * seg),
		.selector = khv_vmcs_read16(GUEST_ES_SELECTOR + 2 * seg),
		.type = ar & KHV_AR_TYPE,
		.s = !!(ar & KHV_AR_S),
		.dpl = (ar >> KHV_AR_DPL_SHIFT) & 3,
		.avl = !!(ar & KHV_AR_AVL),
		.l = !!(ar & KHV_AR_L),
		.db = !!(ar & KHV_AR_DB),
		.g = !!(ar & KHV_AR_G),
		.unusable = !!(ar & KHV_AR_UNUSABLE),
	};
	/* A usable segment is present in VMX; an unusable one reads as absent. */
	k->present = !k->unusable;
}

static void khv_vmx_set_seg(enum khv_vmx_seg seg, const struct kvm_segment *k)
{
	u32 ar;

	/* SS.DPL is the CPL even when SS is unusable (a null SS in 64-bit mode). */
	if (k->unusable || !k->present)
		ar = KHV_AR_UNUSABLE | (k->dpl & 3) << KHV_AR_DPL_SHIFT;
	else
		ar = (k->type & KHV_AR_TYPE) | (k->s ? KHV_AR_S : 0) |
		     (k->dpl & 3) << KHV_AR_DPL_SHIFT | KHV_AR_P |
		     (k->avl ? KHV_AR_AVL : 0) | (k->l ? KHV_AR_L : 0) |
		     (k->db ? KHV_AR_DB : 0) | (k->g ? KHV_AR_G : 0);
	khv_vmx_write_seg(seg, k->selector, k->base, k->limit, ar);
}

static void khv_vmx_get_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);

	khv_vmx_get_seg(KHV_SEG_CS, &s->cs);
	khv_vmx_get_seg(KHV_SEG_DS, &s->ds);
	khv_vmx_get_seg(KHV_SEG_ES, &s->es);
	khv_vmx_get_seg(KHV_SEG_FS, &s->fs);
	khv_vmx_get_seg(KHV_SEG_GS, &s->gs);
	khv_vmx_get_seg(KHV_SEG_SS, &s->ss);
	khv_vmx_get_seg(KHV_SEG_TR, &s->tr);
	khv_vmx_get_seg(KHV_SEG_LDTR, &s->ldt);
	s->gdt.base = khv_vmcs_readl(GUEST_GDTR_BASE);
	s->gdt.limit = khv_vmcs_read32(GUEST_GDTR_LIMIT);
	s->idt.base = khv_vmcs_readl(GUEST_IDTR_BASE);
	s->idt.limit = khv_vmcs_read32(GUEST_IDTR_LIMIT);
	s->cr0 = khv_vmx_read_cr0();
	s->cr2 = vmx->cr2;
	s->cr3 = khv_vmcs_readl(GUEST_CR3);
	s->cr4 = khv_vmx_read_cr4();
	s->cr8 = vcpu->arch.cr8;
	s->efer = khv_vmcs_read64(GUEST_IA32_EFER);
	s->apic_base = vcpu->arch.msr.apic_base;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

/*
 * CR8, the APIC base and the interrupt bitmap are the shared code's. With
 * PAE paging, the PDPTEs are loaded from guest memory where a MOV to a
 * control register would have loaded them: when CR3 or a bit that decides
 * paging changed (not when the shared code only writes CR2 back, say).
 */
static void khv_vmx_set_sregs(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long cr0 = khv_vmx_read_cr0(), cr3 = khv_vmcs_readl(GUEST_CR3);
	unsigned long cr4 = khv_vmx_read_cr4();
	u64 efer = khv_vmcs_read64(GUEST_IA32_EFER);
	bool translation_changed, load_pdptes;

	translation_changed = cr0 != s->cr0 || cr3 != s->cr3 ||
			      cr4 != s->cr4 || efer != s->efer;
	load_pdptes = khv_vmx_pae_paging(s->cr0, s->cr4, s->efer) &&
		      (cr3 != s->cr3 || ((cr0 ^ s->cr0) & KHV_PDPTE_CR0) ||
		       ((cr4 ^ s->cr4) & KHV_PDPTE_CR4) ||
		       !khv_vmx_pae_paging(cr0, cr4, efer));
	khv_vmx_set_seg(KHV_SEG_CS, &s->cs);
	khv_vmx_set_seg(KHV_SEG_DS, &s->ds);
	khv_vmx_set_seg(KHV_SEG_ES, &s->es);
	khv_vmx_set_seg(KHV_SEG_FS, &s->fs);
	khv_vmx_set_seg(KHV_SEG_GS, &s->gs);
	khv_vmx_set_seg(KHV_SEG_SS, &s->ss);
	khv_vmx_set_seg(KHV_SEG_TR, &s->tr);
	khv_vmx_set_seg(KHV_SEG_LDTR, &s->ldt);
	khv_vmcs_writel(GUEST_GDTR_BASE, s->gdt.base);
	khv_vmcs_write32(GUEST_GDTR_LIMIT, s->gdt.limit);
	khv_vmcs_writel(GUEST_IDTR_BASE, s->idt.base);
	khv_vmcs_write32(GUEST_IDTR_LIMIT, s->idt.limit);
	khv_vmx_write_cr0(s->cr0);
	vmx->cr2 = s->cr2;
	khv_vmcs_writel(GUEST_CR3, s->cr3);
	khv_vmx_write_cr4(s->cr4);
	khv_vmx_write_efer(s->efer);
	/* The guest's TLB may belong to another translation now. */
	if (translation_changed)
		vmx->flush = true;
	/*
	 * A table outside RAM or with a reserved bit set in a present entry
	 * keeps the PDPTEs there were, as KVM does: VM entry would refuse
	 * the entry outright, the guest would only #GP on its own MOV.
	 */
	if (load_pdptes)
		khv_vmx_load_pdptrs(vcpu, s->cr3);
}

/* ------------------------------------------------------------------------
 * MSRs the VMCS or the backend holds (the rest is arch/x86/msr.c's).
 */

/*
 * KERNEL_GS_BASE is in the CPU between the first entry and vcpu_put (the
 * guest's SWAPGS changes it there); preemption off so that vcpu_put cannot
 * move it meanwhile.
 */
static u64 khv_vmx_get_kernel_gs_base(struct khv_vmx_vcpu *vmx)
{
	preempt_disable();
	if (vmx->host_saved)
		rdmsrl(MSR_KERNEL_GS_BASE, vmx->guest_kernel_gs_base);
	preempt_enable();
	return vmx->guest_kernel_gs_base;
}

/* Set a guest MSR kept in the vCPU, and in the CPU if it is loaded there. */
static void khv_vmx_set_loaded_msr(struct khv_vmx_vcpu *vmx, u32 index,
				   u64 *slot, u64 data)
{
	preempt_disable();
	*slot = data;
	if (vmx->host_saved)
		wrmsrl(index, data);
	preempt_enable();
}

static int khv_vmx_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);

	switch (index) {
	case MSR_EFER:
		*data = khv_vmcs_read64(GUEST_IA32_EFER);
		return 0;
	case MSR_STAR:
		*data = vmx->star;
		return 0;
	case MSR_LSTAR:
		*data = vmx->lstar;
		return 0;
	case MSR_CSTAR:
		*data = vmx->cstar;
		return 0;
	case MSR_SYSCALL_MASK:
		*data = vmx->sfmask;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*data = khv_vmx_get_kernel_gs_base(vmx);
		return 0;
	case MSR_FS_BASE:
		*data = khv_vmcs_readl(GUEST_FS_BASE);
		return 0;
	case MSR_GS_BASE:
		*data = khv_vmcs_readl(GUEST_GS_BASE);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = khv_vmcs_read32(GUEST_SYSENTER_CS);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = khv_vmcs_readl(GUEST_SYSENTER_ESP);
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = khv_vmcs_readl(GUEST_SYSENTER_EIP);
		return 0;
	case MSR_IA32_CR_PAT:
		*data = vmx->pat;
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + khv_vmcs_read64(TSC_OFFSET);
		return 0;
	default:
		return 1;
	}
}

/* Canonical for the CPU's linear addresses (48 bits, or 57 with LA57). */
static bool khv_vmx_canonical(u64 v)
{
	unsigned int bits = boot_cpu_has(X86_FEATURE_LA57) ? 57 : 48;

	return (u64)((s64)(v << (64 - bits)) >> (64 - bits)) == v;
}

static int khv_vmx_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data)
{
	struct khv_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 efer;

	switch (index) {
	case MSR_EFER:
		efer = khv_vmcs_read64(GUEST_IA32_EFER);
		if (data & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return -EINVAL;
		/* LME cannot change while paging is on. */
		if ((khv_vmx_read_cr0() & X86_CR0_PG) && ((data ^ efer) & EFER_LME))
			return -EINVAL;
		/* LMA follows CR0.PG and LME, not WRMSR. */
		khv_vmx_write_efer((data & ~EFER_LMA) | (efer & EFER_LMA));
		return 0;
	case MSR_STAR:
		khv_vmx_set_loaded_msr(vmx, index, &vmx->star, data);
		return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Canonical: checked by the shared code (arch/x86/msr.c). */
		if (index == MSR_LSTAR)
			khv_vmx_set_loaded_msr(vmx, index, &vmx->lstar, data);
		else if (index == MSR_CSTAR)
			khv_vmx_set_loaded_msr(vmx, index, &vmx->cstar, data);
		else if (index == MSR_KERNEL_GS_BASE)
			khv_vmx_set_loaded_msr(vmx, index,
					       &vmx->guest_kernel_gs_base, data);
		else if (index == MSR_IA32_SYSENTER_ESP)
			khv_vmcs_writel(GUEST_SYSENTER_ESP, data);
		else
			khv_vmcs_writel(GUEST_SYSENTER_EIP, data);
		return 0;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		/* VM entry refuses a non-canonical base. */
		if (!khv_vmx_canonical(data))
			return -EINVAL;
		if (index == MSR_FS_BASE)
			khv_vmcs_writel(GUEST_FS_BASE, data);
		else
			khv_vmcs_writel(GUEST_GS_BASE, data);
		return 0;
	case MSR_SYSCALL_MASK:
		/* Bits 63:32 are reserved. */
		if (data >> 32)
			return -EINVAL;
		khv_vmx_set_loaded_msr(vmx, index, &vmx->sfmask, data);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		khv_vmcs_write32(GUEST_SYSENTER_CS, data);
		return 0;
	case MSR_IA32_CR_PAT:
		/* EPT leaves ignore the guest's PAT (write-back, IPAT). */
		vmx->pat = data;
		return 0;
	case MSR_IA32_TSC:
		khv_vmcs_write64(TSC_OFFSET, data - rdtsc());
		return 0;
	default:
		return 1;
	}
}

/*
 * EPT entries (SDM vol. 3, "EPT Translation Mechanism"): tables allow
 * everything, leaves are readable and executable, write-back whatever the
 * guest's PAT says, writable if the slot is.
 */
static const struct khv_s2_format khv_vmx_ept_format = {
	.levels		= 4,
	.table		= VMX_EPT_RWX_MASK,
	.leaf_r		= VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
			  VMX_EPTP_MT_WB << VMX_EPT_MT_EPTE_SHIFT | VMX_EPT_IPAT_BIT,
	.leaf_w		= VMX_EPT_WRITABLE_MASK,
	.present	= VMX_EPT_RWX_MASK,
};

static void khv_vmx_free_percpu(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(khv_vmxon_region, cpu))
			__free_page(per_cpu(khv_vmxon_region, cpu));
		per_cpu(khv_vmxon_region, cpu) = NULL;
	}
	free_page((unsigned long)khv_vmx_msr_bitmap);
	khv_vmx_msr_bitmap = NULL;
}

static int khv_vmx_alloc_percpu(void)
{
	struct page *page;
	int cpu;

	for_each_possible_cpu(cpu) {
		INIT_LIST_HEAD(&per_cpu(khv_vmx_loaded, cpu));
		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page)
			goto err;
		/* The region starts with the VMCS revision identifier. */
		((struct khv_vmcs *)page_address(page))->revision_id =
			vmx_basic_vmcs_revision_id(khv_vmx.basic);
		per_cpu(khv_vmxon_region, cpu) = page;
	}
	khv_vmx_msr_bitmap = (void *)__get_free_page(GFP_KERNEL);
	if (!khv_vmx_msr_bitmap)
		goto err;
	memset(khv_vmx_msr_bitmap, 0xff, PAGE_SIZE);
	return 0;
err:
	khv_vmx_free_percpu();
	return -ENOMEM;
}

static const struct khv_vendor_ops khv_vmx_ops = {
	.name			= "vmx",
	.owner			= THIS_MODULE,
	.hardware_enable	= khv_vmx_hardware_enable,
	.hardware_disable	= khv_vmx_hardware_disable,
	.vcpu_size		= sizeof(struct khv_vmx_vcpu),
	.vcpu_create		= khv_vmx_vcpu_create,
	.vcpu_free		= khv_vmx_vcpu_free,
	.vcpu_load		= khv_vmx_vcpu_load,
	.vcpu_put		= khv_vmx_vcpu_put,
	.run			= khv_vmx_run,
	.get_sregs		= khv_vmx_get_sregs,
	.set_sregs		= khv_vmx_set_sregs,
	.handle_exit		= khv_vmx_handle_exit,
	.get_msr		= khv_vmx_get_msr,
	.set_msr		= khv_vmx_set_msr,
	.s2_format		= &khv_vmx_ept_format,
};

static int __init khv_vmx_init(void)
{
	const char *missing = khv_vmx_missing();
	int r;

	if (missing) {
		pr_info("VT-x unavailable: %s\n", missing);
		return -ENODEV;
	}
	khv_vmx_setup_crs();
	pr_info("controls: pin 0x%x, primary 0x%x, secondary 0x%x, exit 0x%x, entry 0x%x%s\n",
		khv_vmx.pin, khv_vmx.proc, khv_vmx.proc2, khv_vmx.exit,
		khv_vmx.entry,
		khv_vmx.basic & VMX_BASIC_TRUE_CTLS ? " (TRUE capability MSRs)" : "");
	r = khv_vmx_alloc_percpu();
	if (r)
		return r;
	cpu_emergency_register_virt_callback(khv_vmx_emergency_disable);
	r = khv_register_vendor(&khv_vmx_ops);
	if (r) {
		cpu_emergency_unregister_virt_callback(khv_vmx_emergency_disable);
		khv_vmx_free_percpu();
	}
	return r;
}

static void __exit khv_vmx_exit(void)
{
	khv_unregister_vendor(&khv_vmx_ops);
	cpu_emergency_unregister_virt_callback(khv_vmx_emergency_disable);
	khv_vmx_free_percpu();
}

module_init(khv_vmx_init);
module_exit(khv_vmx_exit);

MODULE_DESCRIPTION("khv: Intel VT-x (VMX + EPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(KHV_VERSION);
