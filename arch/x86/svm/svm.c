// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv-svm: the AMD-V backend.
 *
 * Module init probes the hardware and registers with the core only if the
 * CPU can run khv's guests: an AMD (or Hygon) CPU with SVM, SVM not disabled
 * by firmware (VM_CR.SVMDIS), and nested paging. Anything missing fails the
 * load with -ENODEV and one line saying what is missing.
 *
 * Optional features, used when CPUID Fn8000_000A_EDX says so: NRIPS (the
 * VMCB's NextRIP on instruction intercepts, and the return address of an
 * injected software interrupt) and decode assists (the GPR of an
 * intercepted MOV DR in EXITINFO1). Without them the shared code decodes
 * the instruction, and software events are injected with RIP moved past
 * the instruction (khv_svm_inject()).
 *
 * Events (APM vol. 2, "Event Injection", "Intercepts During IDT Interrupt
 * Delivery"): the shared code picks what to inject (vcpu->arch.inject) and
 * takes back what an exit interrupted (exit.idt); this file only translates
 * to and from EVENTINJ / EXITINTINFO. SVM has no NMI-window exit and no
 * architectural "blocked by NMI" state: khv_svm_nmi_before_entry() keeps
 * it in software.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/irq_vectors.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include <asm/apicdef.h>
#include <asm/svm.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/version.h>

/*
 * The VMCB is the hardware's layout (APM vol. 2, appendix B), as the
 * kernel's <asm/svm.h> describes it.
 */
static_assert(offsetof(struct vmcb, save) == 0x400);
static_assert(sizeof(struct vmcb) <= PAGE_SIZE);

/*
 * VMCB clean bits (APM vol. 2, "VMCB Clean Bits"): state khv left alone
 * since the last VMRUN on this CPU. Whatever writes a field of a group
 * clears its bit. Bits of groups khv does not know stay 0 (reserved).
 */
enum {
	KHV_VMCB_INTERCEPTS,	/* intercept vectors, TSC offset, pause filter */
	KHV_VMCB_PERM_MAP,	/* IOPM and MSRPM base */
	KHV_VMCB_ASID,
	KHV_VMCB_INTR,		/* int_ctl: V_TPR, V_IRQ, V_INTR_PRIO... */
	KHV_VMCB_NP,		/* nested paging: nCR3, G_PAT */
	KHV_VMCB_CR,		/* CR0, CR3, CR4, EFER */
	KHV_VMCB_DR,		/* DR6, DR7 */
	KHV_VMCB_DT,		/* GDTR, IDTR */
	KHV_VMCB_SEG,		/* CS, DS, SS, ES, CPL */
	KHV_VMCB_CR2,
	KHV_VMCB_NR_CLEAN
};

#define KHV_VMCB_ALL_CLEAN	(BIT(KHV_VMCB_NR_CLEAN) - 1)

/* DR6 status bits a #DB sets (positive polarity), and DR7's enables. */
#define KHV_DR6_BD		BIT(13)
#define KHV_DR6_STATUS		(DR_TRAP_BITS | KHV_DR6_BD | DR_STEP | DR_SWITCH)
#define KHV_DR7_ENABLES		0xffULL
/* EXITINFO1 of a MOV CR/DR intercept with decode assists: GPR valid. */
#define KHV_SVM_EXITINFO_MOV	BIT_ULL(63)

/*
 * Blocking by NMI, as software state (see khv_svm_nmi_before_entry()):
 * OPEN - not blocked;
 * WAIT_IRET - blocked, IRET intercepted: the next IRET ends it;
 * IRET_SEEN - blocked, the IRET at iret_rip was intercepted and has not
 *	retired yet: it is single-stepped at the next entry.
 */
enum khv_svm_nmi {
	KHV_SVM_NMI_OPEN,
	KHV_SVM_NMI_WAIT_IRET,
	KHV_SVM_NMI_IRET_SEEN,
};

/* Why this entry runs the guest with RFLAGS.TF forced on. */
enum khv_svm_step {
	KHV_SVM_STEP_NONE,
	KHV_SVM_STEP_IRET,	/* over the NMI handler's IRET */
	KHV_SVM_STEP_SHADOW,	/* over the instruction in a MOV SS shadow */
};

struct khv_svm_vcpu {
	struct khv_vcpu vcpu;
	struct vmcb *vmcb;
	u64 vmcb_pa;
	/* ASID on asid_cpu, valid while asid_gen is that CPU's generation. */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;
	/* A VMCB last run on another CPU must be loaded whole (clean = 0). */
	int last_cpu;

	/*
	 * The event this entry injected, the RIP of its instruction (software
	 * events) and where RIP was moved to (soft_next, when soft_moved).
	 */
	struct khv_event injected;
	u64 inject_rip;
	u64 soft_next;
	bool soft_moved;

	enum khv_svm_nmi nmi;
	u64 iret_rip;
	/*
	 * This entry's single step: the RIP it started at, the guest's TF and
	 * interrupt shadow then.
	 */
	enum khv_svm_step step;
	u64 step_rip;
	bool step_tf;
	u8 step_shadow;

	/* handle_exit: make the guest take a #DB (see khv_svm_db_exit()). */
	bool queue_db;
};

static inline struct khv_svm_vcpu *to_svm(struct khv_vcpu *vcpu)
{
	return container_of(vcpu, struct khv_svm_vcpu, vcpu);
}

void khv_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_save_pa);

/*
 * Per CPU ASIDs: handed out in order; when they run out, a new generation
 * starts and the next VMRUN flushes every ASID's TLB entries.
 */
struct khv_svm_cpu {
	u32 next_asid;
	u64 gen;
	bool flush_all;
	struct page *host_save;	/* VMSAVE area for the host's state */
};
static DEFINE_PER_CPU(struct khv_svm_cpu, khv_svm_cpu);
static u32 khv_svm_max_asid;
/* The CPU saves the next RIP on instruction intercepts (NRIPS). */
static bool khv_svm_nrips;
/* EXITINFO1 names the GPR of an intercepted MOV CR/DR (decode assists). */
static bool khv_svm_decode_assists;
static bool khv_svm_flush_by_asid;

/* I/O and MSR permission maps: everything intercepted, shared, read-only. */
static void *khv_svm_iopm, *khv_svm_msrpm;
#define KHV_SVM_IOPM_PAGES	3
#define KHV_SVM_MSRPM_PAGES	2

static int khv_svm_probe(void)
{
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_info("AMD-V unavailable: not an AMD CPU\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_SVM)) {
		pr_info("AMD-V unavailable: CPUID has no SVM\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) ||
	    (vm_cr & (1ULL << SVM_VM_CR_SVM_DISABLE))) {
		pr_info("AMD-V unavailable: disabled by firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_info("AMD-V unavailable: no nested paging (NPT)\n");
		return -ENODEV;
	}
	khv_svm_nrips = boot_cpu_has(X86_FEATURE_NRIPS);
	khv_svm_decode_assists = boot_cpu_has(X86_FEATURE_DECODEASSISTS);
	khv_svm_max_asid = cpuid_ebx(SVM_CPUID_FUNC) - 1;
	if (khv_svm_max_asid < 1) {
		pr_info("AMD-V unavailable: no ASIDs\n");
		return -ENODEV;
	}
	khv_svm_flush_by_asid = boot_cpu_has(X86_FEATURE_FLUSHBYASID);
	return 0;
}

/*
 * Per CPU: the host save area VMRUN uses, allocated at module load for every
 * possible CPU, and the VM_HSAVE_PA value found when SVM was switched on.
 */
static DEFINE_PER_CPU(struct page *, khv_svm_hsave);
static DEFINE_PER_CPU(u64, khv_svm_prev_hsave_pa);

/* hardware_enable: see struct khv_vendor_ops; interrupts are off. */
static int khv_svm_hardware_enable(void)
{
	struct page *hsave = __this_cpu_read(khv_svm_hsave);
	u64 efer, prev;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	if (WARN_ON_ONCE(!hsave))
		return -ENOMEM;
	rdmsrl(MSR_VM_HSAVE_PA, prev);
	__this_cpu_write(khv_svm_prev_hsave_pa, prev);
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(hsave));
	return 0;
}

static void khv_svm_hardware_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, __this_cpu_read(khv_svm_prev_hsave_pa));
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static void khv_svm_free_percpu(void)
{
	struct khv_svm_cpu *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(&khv_svm_cpu, cpu);
		if (per_cpu(khv_svm_hsave, cpu))
			__free_page(per_cpu(khv_svm_hsave, cpu));
		per_cpu(khv_svm_hsave, cpu) = NULL;
		if (c->host_save)
			__free_page(c->host_save);
		c->host_save = NULL;
	}
	free_pages((unsigned long)khv_svm_iopm, get_order(KHV_SVM_IOPM_PAGES * PAGE_SIZE));
	free_pages((unsigned long)khv_svm_msrpm, get_order(KHV_SVM_MSRPM_PAGES * PAGE_SIZE));
	khv_svm_iopm = khv_svm_msrpm = NULL;
}

static int khv_svm_alloc_percpu(void)
{
	struct khv_svm_cpu *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(&khv_svm_cpu, cpu);
		per_cpu(khv_svm_hsave, cpu) =
			alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		c->host_save =
			alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		c->next_asid = 1;
		c->gen = 1;
		c->flush_all = true;
		if (!per_cpu(khv_svm_hsave, cpu) || !c->host_save)
			goto err;
	}
	khv_svm_iopm = (void *)__get_free_pages(GFP_KERNEL,
						get_order(KHV_SVM_IOPM_PAGES * PAGE_SIZE));
	khv_svm_msrpm = (void *)__get_free_pages(GFP_KERNEL,
						 get_order(KHV_SVM_MSRPM_PAGES * PAGE_SIZE));
	if (!khv_svm_iopm || !khv_svm_msrpm)
		goto err;
	memset(khv_svm_iopm, 0xff, KHV_SVM_IOPM_PAGES * PAGE_SIZE);
	memset(khv_svm_msrpm, 0xff, KHV_SVM_MSRPM_PAGES * PAGE_SIZE);
	return 0;
err:
	khv_svm_free_percpu();
	return -ENOMEM;
}

static inline void khv_svm_intercept(struct vmcb *vmcb, int bit)
{
	vmcb->control.intercepts[bit / 32] |= BIT(bit % 32);
}

/* Switch an intercept on or off; a change dirties the intercept vectors. */
static void khv_svm_set_intercept(struct vmcb *vmcb, int bit, bool on)
{
	u32 *word = &vmcb->control.intercepts[bit / 32];
	u32 val = on ? *word | BIT(bit % 32) : *word & ~BIT(bit % 32);

	if (val != *word) {
		*word = val;
		vmcb->control.clean &= ~BIT(KHV_VMCB_INTERCEPTS);
	}
}

static void khv_svm_seg(struct vmcb_seg *s, u16 sel, u64 base, u32 limit,
			u16 attrib)
{
	s->selector = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/* The state of a CPU after RESET (APM vol. 2, "Processor Initialization"). */
static void khv_svm_reset_vmcb(struct khv_svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct vmcb_save_area *s = &svm->vmcb->save;
	int i;

	/*
	 * Always intercepted. Machine checks are the host's
	 * (khv_host_machine_check()). INT1/ICEBP becomes a #DB khv queues past
	 * the instruction (khv_svm_decode_exit()): were the CPU to deliver it
	 * and an exit interrupt that, EXITINTINFO could not tell it from a
	 * hardware #DB, nor say where it returns to. IRET, VINTR and #DB come
	 * and go with the NMI and interrupt windows.
	 */
	static const int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_HLT, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_SHUTDOWN, INTERCEPT_INVD, INTERCEPT_INVLPGA,
		INTERCEPT_TASK_SWITCH, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
		INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI,
		INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_WBINVD,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RSM, INTERCEPT_RDPRU, INTERCEPT_ICEBP,
		INTERCEPT_EXCEPTION_OFFSET + MC_VECTOR,
	};

	memset(svm->vmcb, 0, sizeof(*svm->vmcb));
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		khv_svm_intercept(svm->vmcb, intercepts[i]);
	/* Every MOV to or from DR0-DR7: the registers live in vcpu->arch. */
	for (i = 0; i < 8; i++) {
		khv_svm_intercept(svm->vmcb, INTERCEPT_DR0_READ + i);
		khv_svm_intercept(svm->vmcb, INTERCEPT_DR0_WRITE + i);
	}
	c->iopm_base_pa = __pa(khv_svm_iopm);
	c->msrpm_base_pa = __pa(khv_svm_msrpm);
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = __pa(svm->vcpu.vm->arch.s2_root);

	khv_svm_seg(&s->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	khv_svm_seg(&s->ds, 0, 0, 0xffff, 0x93);
	khv_svm_seg(&s->es, 0, 0, 0xffff, 0x93);
	khv_svm_seg(&s->fs, 0, 0, 0xffff, 0x93);
	khv_svm_seg(&s->gs, 0, 0, 0xffff, 0x93);
	khv_svm_seg(&s->ss, 0, 0, 0xffff, 0x93);
	khv_svm_seg(&s->gdtr, 0, 0, 0xffff, 0);
	khv_svm_seg(&s->idtr, 0, 0, 0xffff, 0);
	khv_svm_seg(&s->ldtr, 0, 0, 0xffff, 0x82);
	khv_svm_seg(&s->tr, 0, 0, 0xffff, 0x8b);
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	/* VMRUN requires EFER.SVME in the guest image; the guest never sees it. */
	s->efer = EFER_SVME;
	s->dr6 = DR6_RESERVED;
	s->dr7 = 0x400;
	s->g_pat = 0x0007040600070406ULL;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
}

static int khv_svm_vcpu_create(struct khv_vcpu *vcpu)
{
	struct khv_svm_vcpu *svm = to_svm(vcpu);
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return -ENOMEM;
	svm->vmcb = page_address(page);
	svm->vmcb_pa = page_to_phys(page);
	svm->asid_cpu = -1;
	svm->last_cpu = -1;
	svm->nmi = KHV_SVM_NMI_OPEN;
	svm->step = KHV_SVM_STEP_NONE;
	khv_svm_reset_vmcb(svm);
	return 0;
}

static void khv_svm_vcpu_free(struct khv_vcpu *vcpu)
{
	free_page((unsigned long)to_svm(vcpu)->vmcb);
}

static void khv_svm_new_asid(struct khv_svm_vcpu *svm, int cpu)
{
	struct khv_svm_cpu *c = per_cpu_ptr(&khv_svm_cpu, cpu);

	if (c->next_asid > khv_svm_max_asid) {
		c->gen++;
		c->next_asid = 1;
		c->flush_all = true;
	}
	svm->asid = c->next_asid++;
	svm->asid_gen = c->gen;
	svm->asid_cpu = cpu;
	svm->vmcb->control.asid = svm->asid;
	svm->vmcb->control.clean &= ~BIT(KHV_VMCB_ASID);
}

static void khv_svm_vcpu_load(struct khv_vcpu *vcpu, int cpu)
{
	struct khv_svm_vcpu *svm = to_svm(vcpu);
	struct khv_svm_cpu *c = per_cpu_ptr(&khv_svm_cpu, cpu);

	/*
	 * An ASID is only meaningful on the CPU that handed it out, and only
	 * for the generation it was handed out in.
	 */
	if (svm->asid_cpu != cpu || svm->asid_gen != c->gen)
		khv_svm_new_asid(svm, cpu);
	if (svm->last_cpu != cpu) {
		svm->vmcb->control.clean = 0;
		svm->last_cpu = cpu;
	}
}

static void khv_svm_vcpu_put(struct khv_vcpu *vcpu)
{
}

/* ------------------------------------------------------------------------
 * Events: EVENTINJ before the entry, EXITINTINFO after the exit.
 */

/* The EVENTINJ / EXITINTINFO type of a khv event. */
static u32 khv_svm_ev_type(u8 type)
{
	switch (type) {
	case KHV_EV_EXTINT:
		return SVM_EVTINJ_TYPE_INTR;
	case KHV_EV_NMI:
		return SVM_EVTINJ_TYPE_NMI;
	case KHV_EV_SOFT_INT:
		return SVM_EVTINJ_TYPE_SOFT;
	default:
		/* Exceptions, INT3/INTO and INT1 alike (INT1 is a #DB). */
		return SVM_EVTINJ_TYPE_EXEPT;
	}
}

static bool khv_svm_ev_soft(u8 type)
{
	return type == KHV_EV_SOFT_INT || type == KHV_EV_SOFT_EXCEPTION ||
	       type == KHV_EV_PRIV_SOFT_EXCEPTION;
}

/*
 * The return address of an injected software event (APM vol. 2, "Event
 * Injection"). INT n (TYPE 4) and INT3/INTO (TYPE 3, vectors 3 and 4) are
 * delivered as the instructions would be; with NRIPS the CPU pushes the
 * VMCB's NextRIP, so RIP stays on the instruction and NextRIP is set past
 * it: a fault raised while delivering the event (a gate's DPL, #NP, #SS,
 * #PF on the stack) then reports the instruction, as on bare metal.
 * Without NRIPS the CPU pushes RIP, so RIP is moved past the instruction;
 * such a fault then reports the address after it - the APM's "software
 * interrupts cannot be properly injected" without NextRIP, a limitation
 * stock kvm-amd shares. INT1 has no TYPE of its own: it is injected as a
 * TYPE 3 #DB, which always pushes RIP, so RIP always moves. Hardware
 * exceptions #BP and #OF (KVM_SET_VCPU_EVENTS) get NextRIP = RIP and
 * return to where the guest was.
 *
 * An exit before the delivery completed leaves RIP on the instruction
 * (NRIPS) or where khv moved it: khv_svm_exit_idt() moves it back.
 */
static void khv_svm_inject_rip(struct khv_svm_vcpu *svm,
			       const struct khv_event *in)
{
	struct vmcb *vmcb = svm->vmcb;
	bool soft = khv_svm_ev_soft(in->type);
	bool nrip = in->type == KHV_EV_SOFT_INT ||
		    (in->type != KHV_EV_PRIV_SOFT_EXCEPTION &&
		     (in->vector == BP_VECTOR || in->vector == OF_VECTOR));
	u64 next = svm->inject_rip + (soft ? in->insn_len : 0);

	if (khv_svm_nrips && nrip) {
		vmcb->control.next_rip = next;
	} else if (soft) {
		vmcb->save.rip = next;
		svm->soft_next = next;
		svm->soft_moved = true;
	}
}

/* Program vcpu->arch.inject into EVENTINJ. */
static void khv_svm_inject(struct khv_svm_vcpu *svm)
{
	const struct khv_event *in = &svm->vcpu.arch.inject;
	struct vmcb *vmcb = svm->vmcb;
	u32 inj;

	svm->injected = *in;
	svm->inject_rip = svm->vcpu.arch.rip;
	svm->soft_moved = false;
	vmcb->control.event_inj = 0;
	if (in->type == KHV_EV_NONE)
		return;
	if (WARN_ON_ONCE(in->type > KHV_EV_PRIV_SOFT_EXCEPTION)) {
		svm->injected.type = KHV_EV_NONE;
		return;
	}
	inj = in->vector | khv_svm_ev_type(in->type) | SVM_EVTINJ_VALID;
	/*
	 * Real mode pushes no error code (and VMX refuses one there):
	 * drop it, as KVM does.
	 */
	if (in->type == KHV_EV_EXCEPTION && in->has_err &&
	    (vmcb->save.cr0 & X86_CR0_PE)) {
		inj |= SVM_EVTINJ_VALID_ERR;
		vmcb->control.event_inj_err = in->err;
	}
	khv_svm_inject_rip(svm, in);
	vmcb->control.event_inj = inj;
}

/*
 * EXITINTINFO: the event whose delivery the exit interrupted (APM vol. 2,
 * "Intercepts During IDT Interrupt Delivery"), which the shared code
 * delivers again.
 *
 * The event khv injected at this entry is recognised (same TYPE and
 * vector, RIP on its instruction) and reported as it was given, software
 * events with their instruction length.
 *
 * A software event the guest executed itself - INT n (TYPE 4), INT3 and
 * INTO (reported as TYPE 3 vectors 3 and 4) - is not reported: its
 * delivery had not completed, so the instruction had not either and RIP
 * still points at it, and the guest simply executes it again once the
 * cause of the exit (in practice an NPF on the IDT, GDT or stack) is dealt
 * with. Re-injecting it instead would need its length, which none of the
 * exits that can interrupt a delivery provide (NextRIP is saved for
 * instruction intercepts only). Executing it again is what the guest
 * would see from a fault khv handled behind its back, with one caveat:
 * the instruction is fetched again, so a code breakpoint on it matches
 * again and bytes rewritten meanwhile by another vCPU take effect.
 */
static void khv_svm_exit_idt(struct khv_svm_vcpu *svm)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	const struct vmcb_control_area *c = &svm->vmcb->control;
	struct khv_event *idt = &a->exit.idt;
	u32 info = c->exit_int_info;
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	if (c->exit_code == SVM_EXIT_ERR) {
		/* VMRUN refused the state: nothing was delivered. */
		if (svm->soft_moved)
			a->rip = svm->inject_rip;
		*idt = svm->injected;
		return;
	}
	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	/*
	 * A software event khv moved RIP past did not complete: RIP goes
	 * back on its instruction, also when the event reported is a fault
	 * its delivery raised (the fault then reports the right address).
	 */
	if (svm->soft_moved && a->rip == svm->soft_next)
		a->rip = svm->inject_rip;

	if (svm->injected.type != KHV_EV_NONE && a->rip == svm->inject_rip &&
	    vector == svm->injected.vector &&
	    type == khv_svm_ev_type(svm->injected.type)) {
		*idt = svm->injected;
		return;
	}
	switch (type) {
	case SVM_EXITINTINFO_TYPE_INTR:
		idt->type = KHV_EV_EXTINT;
		break;
	case SVM_EXITINTINFO_TYPE_NMI:
		idt->type = KHV_EV_NMI;
		vector = NMI_VECTOR;
		break;
	case SVM_EXITINTINFO_TYPE_EXEPT:
		if (vector == BP_VECTOR || vector == OF_VECTOR)
			return;		/* the guest's INT3/INTO: executed again */
		idt->type = KHV_EV_EXCEPTION;
		idt->has_err = info & SVM_EXITINTINFO_VALID_ERR;
		idt->err = c->exit_int_info_err;
		break;
	default:
		return;			/* the guest's INT n: executed again */
	}
	idt->vector = vector;
}

/* ------------------------------------------------------------------------
 * Blocking by NMI, the NMI window, and single steps.
 *
 * After delivering an NMI the CPU blocks NMIs until an IRET retires. SVM
 * (before vNMI, which khv does not use) neither shows that state nor
 * exits when it ends, so khv keeps it in vcpu->arch.nmi_masked - which
 * user space may also set - and needs control right after the IRET:
 *
 *  - while NMIs are blocked, IRET is intercepted (WAIT_IRET). The
 *    intercept is taken before the IRET executes, RIP on it (IRET_SEEN);
 *  - the next entry runs the guest with RFLAGS.TF set and #DB intercepted
 *    (STEP_IRET). The IRET executes and, TF having been 1 when it started,
 *    the CPU raises the single-step #DB right after it retires, whatever
 *    TF it popped: that #DB exit ends the blocking, at the instruction
 *    boundary where the hardware would. The IRET loaded RFLAGS, so none of
 *    khv's TF is left; the guest sees the #DB only if it was also its own
 *    (its TF was set, or one of its breakpoints hit): khv_svm_db_exit();
 *  - an exit before the IRET executed (RIP still on it: NPF on the stack,
 *    a host interrupt, a code breakpoint on the IRET) gives the guest its
 *    TF back and steps again at the next entry. An entry that injects an
 *    event returns to WAIT_IRET instead, so that event delivery never
 *    pushes khv's TF on the guest's stack; the IRET is intercepted again
 *    when the guest comes back to it;
 *  - an exit with RIP elsewhere and no single-step #DB means the IRET
 *    retired and the trap was not seen, or the IRET faulted and the CPU
 *    delivered the fault: NMIs are unblocked (as VMX does when an IRET
 *    faults). In the fault case khv's TF is in the fault's frame; when the
 *    handler returns, the IRET runs single-stepped, which the guest sees
 *    as a #DB unless khv is still waiting for it.
 *
 * NMIs are never injected while the blocking lasts: the shared code does
 * not, and nmi_masked only becomes false on the IRET's retirement, or when
 * user space says so.
 *
 * The NMI window (exit once an NMI could be delivered), when NMIs are not
 * blocked:
 *  - an event is injected at this entry: a self-IPI makes the guest exit
 *    as soon as that event is delivered (the CPU injects before it
 *    recognises the pending interrupt), before the handler's first
 *    instruction;
 *  - a MOV SS shadow: the one instruction in it runs single-stepped
 *    (STEP_SHADOW). If that instruction itself loads RFLAGS.TF (POPF, IRET
 *    in a shadow) while the guest's TF was clear, khv clears it again - an
 *    imprecision of this case only;
 *  - otherwise the window is open already: the self-IPI exits at once.
 */

static void khv_svm_nmi_before_entry(struct khv_svm_vcpu *svm)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	struct vmcb *vmcb = svm->vmcb;
	bool inject = a->inject.type != KHV_EV_NONE;
	bool masked = a->nmi_masked || a->inject.type == KHV_EV_NMI;

	if (!masked)
		svm->nmi = KHV_SVM_NMI_OPEN;
	else if (svm->nmi == KHV_SVM_NMI_OPEN ||
		 (svm->nmi == KHV_SVM_NMI_IRET_SEEN &&
		  (inject || a->rip != svm->iret_rip)))
		svm->nmi = KHV_SVM_NMI_WAIT_IRET;

	svm->step = KHV_SVM_STEP_NONE;
	if (svm->nmi == KHV_SVM_NMI_IRET_SEEN)
		svm->step = KHV_SVM_STEP_IRET;
	else if (a->nmi_window && !masked && !inject && a->int_shadow)
		svm->step = KHV_SVM_STEP_SHADOW;
	else if (a->nmi_window && !masked)
		smp_send_reschedule(smp_processor_id());

	khv_svm_set_intercept(vmcb, INTERCEPT_IRET,
			      svm->nmi == KHV_SVM_NMI_WAIT_IRET);
	khv_svm_set_intercept(vmcb, INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR,
			      svm->step != KHV_SVM_STEP_NONE);
	if (svm->step != KHV_SVM_STEP_NONE) {
		svm->step_rip = a->rip;
		svm->step_tf = a->rflags & X86_EFLAGS_TF;
		svm->step_shadow = a->int_shadow;
		vmcb->save.rflags |= X86_EFLAGS_TF;
	}
}

/*
 * The single step of this entry is over, @stepped if by its #DB. Gives
 * the guest back its TF wherever khv's may still be in RFLAGS, and ends
 * the blocking by NMI once the IRET retired.
 */
static void khv_svm_step_done(struct khv_svm_vcpu *svm, bool stepped)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;

	if (svm->step == KHV_SVM_STEP_IRET &&
	    (stepped || a->rip != svm->step_rip)) {
		/* The IRET retired (or faulted): RFLAGS is the guest's. */
		a->nmi_masked = false;
		svm->nmi = KHV_SVM_NMI_OPEN;
	} else if (!svm->step_tf) {
		/*
		 * The instruction did not run (or, in a shadow, ran without
		 * touching TF, or faulted and the delivery cleared TF).
		 */
		a->rflags &= ~X86_EFLAGS_TF;
	}
}

/*
 * A #DB exit: #DB is intercepted only while khv single-steps, and DR6 was
 * loaded clean, so its status bits are this #DB's. The single step (BS)
 * is khv's unless the guest's own TF was set; breakpoint matches, task
 * switch and general detect are the guest's. If anything is the guest's,
 * it goes into the guest's DR6 and the guest takes the #DB (handle_exit),
 * from the RIP the CPU left - past the instruction for a trap, on it for a
 * fault.
 */
static enum khv_exit_reason khv_svm_db_exit(struct khv_svm_vcpu *svm,
					    bool *stepped)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	u64 hit = svm->vmcb->save.dr6 & KHV_DR6_STATUS;
	u64 enabled = 0;
	int i;

	for (i = 0; i < 4; i++)
		if (a->dr7 & (3ULL << (2 * i)))
			enabled |= BIT(i);
	*stepped = svm->step != KHV_SVM_STEP_NONE && (hit & DR_STEP);
	if (*stepped && !svm->step_tf)
		hit &= ~DR_STEP;
	if (*stepped && !(hit & (enabled | KHV_DR6_BD | DR_STEP | DR_SWITCH)))
		return KHV_EXIT_NONE;
	a->dr6 |= hit;
	svm->queue_db = true;
	return KHV_EXIT_VENDOR;
}

/* ------------------------------------------------------------------------
 * Guest state around an entry: interrupt controls, debug registers.
 */

/*
 * int_ctl: V_INTR_MASKING (the guest's RFLAGS.IF masks only virtual
 * interrupts, host ones make it exit), V_TPR = CR8 (guest MOV CR8 reads
 * and writes it without exiting), and the interrupt window: a virtual
 * interrupt of the highest priority, TPR ignored, whose delivery is
 * intercepted (VINTR) - the CPU exits when it would take it, i.e. as soon
 * as RFLAGS.IF = 1 outside an interrupt shadow.
 */
static void khv_svm_load_intr(struct khv_svm_vcpu *svm)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	struct vmcb *vmcb = svm->vmcb;
	u32 int_ctl = V_INTR_MASKING_MASK | (a->cr8 & V_TPR_MASK);

	if (a->irq_window)
		int_ctl |= V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK;
	if (vmcb->control.int_ctl != int_ctl) {
		vmcb->control.int_ctl = int_ctl;
		vmcb->control.clean &= ~BIT(KHV_VMCB_INTR);
	}
	khv_svm_set_intercept(vmcb, INTERCEPT_VINTR, a->irq_window);
	vmcb->control.int_state = a->int_shadow ? SVM_INTERRUPT_SHADOW_MASK : 0;
}

/*
 * DR6 and DR7 are in the VMCB (VMRUN loads them, #VMEXIT saves them). While
 * #DB is intercepted DR6 starts clean, so that khv_svm_db_exit() sees what
 * the #DB set; the guest's own value is in vcpu->arch meanwhile.
 */
static void khv_svm_load_dr(struct khv_svm_vcpu *svm)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	struct vmcb_save_area *s = &svm->vmcb->save;
	u64 dr6 = svm->step != KHV_SVM_STEP_NONE ? DR6_RESERVED : a->dr6;

	if (s->dr6 != dr6 || s->dr7 != a->dr7) {
		s->dr6 = dr6;
		s->dr7 = a->dr7;
		svm->vmcb->control.clean &= ~BIT(KHV_VMCB_DR);
	}
}

/*
 * DR0-DR3 are not in the VMCB: the guest's go into the hardware while its
 * DR7 arms a breakpoint. The host's enabled breakpoints (hw_breakpoint)
 * must never see guest values, nor fire between here and the restore -
 * where the guest's GS base is loaded: DR7 is cleared first. Interrupts
 * are off. Returns whether the host's breakpoints need restoring.
 */
static bool khv_svm_load_db(struct khv_svm_vcpu *svm)
{
	const u64 *db = svm->vcpu.arch.db;
	bool host_bp = hw_breakpoint_active();

	if (host_bp)
		set_debugreg(0, 7);
	if (svm->vcpu.arch.dr7 & KHV_DR7_ENABLES) {
		set_debugreg(db[0], 0);
		set_debugreg(db[1], 1);
		set_debugreg(db[2], 2);
		set_debugreg(db[3], 3);
	}
	return host_bp;
}

/*
 * After #VMEXIT, which loads the host's DR7 with every breakpoint disabled
 * (APM vol. 2, "#VMEXIT"): the host's breakpoints back (DR0-3, DR6, DR7
 * from the per-CPU copies). Without any, the guest's DR0-3 may stay (DR7
 * arms nothing), but not guest status bits in DR6, which the host's #DB
 * handler would misread.
 */
static void khv_svm_restore_db(struct khv_svm_vcpu *svm, bool host_bp)
{
	if (host_bp)
		hw_breakpoint_restore();
	else if (svm->vmcb->save.dr6 != DR6_RESERVED)
		set_debugreg(DR6_RESERVED, 6);
}

/* ------------------------------------------------------------------------
 * Exits.
 */

/*
 * Without NRIPS, the length of an intercepted instruction, assuming no
 * prefixes (what compilers emit for these). 0 for exits that do not
 * complete an instruction, or whose length the shared code finds itself
 * (MOV DR).
 */
static unsigned int khv_svm_insn_len(u64 exit_code)
{
	switch (exit_code) {
	case SVM_EXIT_HLT:
	case SVM_EXIT_ICEBP:
		return 1;
	case SVM_EXIT_CPUID:
	case SVM_EXIT_MSR:
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		return 2;
	case SVM_EXIT_XSETBV:
		return 3;
	default:
		return 0;
	}
}

/*
 * Classify the exit (vcpu->arch.exit). Returns true for intercepts of an
 * instruction that completes or faults from here on (by the shared code or
 * here), which ends any interrupt shadow it was in.
 */
static bool khv_svm_decode_exit(struct khv_svm_vcpu *svm, bool *stepped)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct khv_exit *x = &a->exit;
	u32 code = c->exit_code;	/* SVM_EXIT_ERR is (u32)-1 */
	u64 info1 = c->exit_info_1;
	unsigned int len = khv_svm_insn_len(code);

	x->hw_reason = code;
	x->next_rip = khv_svm_nrips ? c->next_rip : 0;
	if (!x->next_rip && len)
		x->next_rip = a->rip + len;

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		/* Taken by the host when GIF and interrupts are on again. */
		x->reason = KHV_EXIT_NONE;
		return false;
	case SVM_EXIT_IOIO:
		x->reason = KHV_EXIT_IO;
		x->io.port = info1 >> 16;
		x->io.in = info1 & SVM_IOIO_TYPE_MASK;
		x->io.string = info1 & SVM_IOIO_STR_MASK;
		x->io.rep = info1 & SVM_IOIO_REP_MASK;
		x->io.size = (info1 & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
		x->io.addr_size = ((info1 & SVM_IOIO_ASIZE_MASK) >> SVM_IOIO_ASIZE_SHIFT) * 2;
		x->io.seg = (info1 >> 10) & 7;
		/* For IOIO the next RIP is in EXITINFO2. */
		x->next_rip = c->exit_info_2;
		return true;
	case SVM_EXIT_HLT:
		x->reason = KHV_EXIT_HLT;
		return true;
	case SVM_EXIT_CPUID:
		x->reason = KHV_EXIT_CPUID;
		return true;
	case SVM_EXIT_MSR:
		x->reason = info1 ? KHV_EXIT_WRMSR : KHV_EXIT_RDMSR;
		return true;
	case SVM_EXIT_XSETBV:
		x->reason = KHV_EXIT_XSETBV;
		return true;
	case SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7:
	case SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7:
		x->reason = KHV_EXIT_DR;
		x->dr.dr = code & 7;
		x->dr.write = code >= SVM_EXIT_WRITE_DR0;
		/*
		 * Decode assists name the GPR; without NextRIP the shared
		 * code decodes the instruction for its end anyway.
		 */
		x->dr.gpr = -1;
		if (khv_svm_decode_assists && x->next_rip &&
		    (info1 & KHV_SVM_EXITINFO_MOV))
			x->dr.gpr = info1 & 0xf;
		return true;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		/* Guest RAM is write-back and coherent: nothing to write back. */
		a->rip = x->next_rip;
		x->reason = KHV_EXIT_NONE;
		return true;
	case SVM_EXIT_ICEBP:
		/* INT1: a #DB trap, past the instruction, no privilege check. */
		a->rip = x->next_rip;
		svm->queue_db = true;
		x->reason = KHV_EXIT_VENDOR;
		return true;
	case SVM_EXIT_NPF:
		x->reason = KHV_EXIT_STAGE2_FAULT;
		x->s2.gpa = c->exit_info_2;
		x->s2.present = info1 & KHV_PF_PRESENT;
		x->s2.write = info1 & KHV_PF_WRITE;
		x->s2.fetch = info1 & KHV_PF_FETCH;
		return false;
	case SVM_EXIT_SHUTDOWN:
		x->reason = KHV_EXIT_SHUTDOWN;
		return false;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_RSM:
	case SVM_EXIT_RDPRU:
		x->reason = KHV_EXIT_UD;
		return true;
	case SVM_EXIT_VINTR:
		x->reason = KHV_EXIT_IRQ_WINDOW;
		return false;
	case SVM_EXIT_IRET:
		/* Before the IRET executes: step over it at the next entry. */
		if (svm->nmi == KHV_SVM_NMI_WAIT_IRET) {
			svm->nmi = KHV_SVM_NMI_IRET_SEEN;
			svm->iret_rip = a->rip;
		}
		x->reason = KHV_EXIT_NONE;
		return false;
	case SVM_EXIT_EXCP_BASE + DB_VECTOR:
		x->reason = khv_svm_db_exit(svm, stepped);
		return false;
	case SVM_EXIT_EXCP_BASE + MC_VECTOR:
		khv_host_machine_check();
		x->reason = KHV_EXIT_NONE;
		return false;
	case SVM_EXIT_ERR:
		x->reason = KHV_EXIT_FAIL_ENTRY;
		return false;
	default:
		x->reason = KHV_EXIT_UNKNOWN;
		return false;
	}
}

/* Everything after #VMEXIT: the exit record and the state run() stores. */
static void khv_svm_after_exit(struct khv_svm_vcpu *svm)
{
	struct khv_vcpu_arch *a = &svm->vcpu.arch;
	struct vmcb *vmcb = svm->vmcb;
	bool stepped = false, insn;

	memset(&a->exit, 0, sizeof(a->exit));
	khv_svm_exit_idt(svm);
	/* An NMI this entry injected was delivered unless reported back. */
	if (svm->injected.type == KHV_EV_NMI &&
	    a->exit.idt.type != KHV_EV_NMI)
		a->nmi_masked = true;
	insn = khv_svm_decode_exit(svm, &stepped);
	if (svm->step != KHV_SVM_STEP_NONE)
		khv_svm_step_done(svm, stepped);

	/*
	 * The shadow both ways, as stock kvm-amd reports it; it ends with
	 * the instruction it covers, which an instruction intercept
	 * completes (or makes fault).
	 */
	a->int_shadow = 0;
	if (!insn && (vmcb->control.int_state & SVM_INTERRUPT_SHADOW_MASK))
		a->int_shadow = KVM_X86_SHADOW_INT_MOV_SS |
				KVM_X86_SHADOW_INT_STI;
	/*
	 * Until the instruction a MOV SS shadow covers has run, the shadow
	 * holds, whatever the VMCB says after an exit before it (QEMU drops
	 * it): the NMI keeps waiting for the step.
	 */
	if (svm->step == KHV_SVM_STEP_SHADOW && !stepped && !insn &&
	    a->rip == svm->step_rip && a->exit.idt.type == KHV_EV_NONE)
		a->int_shadow = svm->step_shadow;
	a->cr8 = vmcb->control.int_ctl & V_TPR_MASK;
	/* A #DB the guest took changed DR6 (DR7.GD too). */
	if (svm->step == KHV_SVM_STEP_NONE)
		a->dr6 = vmcb->save.dr6;
	a->dr7 = vmcb->save.dr7;
	svm->step = KHV_SVM_STEP_NONE;

	if (a->nmi_window && a->exit.reason == KHV_EXIT_NONE &&
	    !a->nmi_masked && !a->int_shadow)
		a->exit.reason = KHV_EXIT_NMI_WINDOW;
}

static void khv_svm_run(struct khv_vcpu *vcpu)
{
	struct khv_svm_vcpu *svm = to_svm(vcpu);
	struct khv_svm_cpu *c = this_cpu_ptr(&khv_svm_cpu);
	struct khv_vcpu_arch *a = &vcpu->arch;
	struct vmcb *vmcb = svm->vmcb;
	bool host_bp;

	/* The ASID may have been recycled since vcpu_load (new generation). */
	if (svm->asid_gen != c->gen)
		khv_svm_new_asid(svm, smp_processor_id());
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	if (c->flush_all) {
		vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
		c->flush_all = false;
	}
	if (test_and_clear_bit(KHV_REQ_TLB_FLUSH, &vcpu->requests) &&
	    vmcb->control.tlb_ctl == TLB_CONTROL_DO_NOTHING)
		vmcb->control.tlb_ctl = khv_svm_flush_by_asid ?
			TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;

	vmcb->save.rax = a->regs[KHV_RAX];
	vmcb->save.rsp = a->regs[KHV_RSP];
	vmcb->save.rip = a->rip;
	vmcb->save.rflags = a->rflags;
	/* In this order: the NMI state decides about TF, DR6, the IPI. */
	khv_svm_nmi_before_entry(svm);
	khv_svm_inject(svm);
	khv_svm_load_intr(svm);
	khv_svm_load_dr(svm);
	host_bp = khv_svm_load_db(svm);

	asm volatile("clgi" ::: "memory");
	/*
	 * Zen1's divider keeps the host's last quotient (X86_BUG_DIV0):
	 * cleared with GIF clear, so that no NMI handler divides after it.
	 */
	amd_clear_divider();
	khv_svm_vmrun(svm->vmcb_pa, a->regs, page_to_phys(c->host_save));
	asm volatile("stgi" ::: "memory");

	khv_svm_restore_db(svm, host_bp);

	/*
	 * Everything khv wrote is now in the CPU's VMCB cache - unless VMRUN
	 * refused the state, when nothing may be assumed cached.
	 */
	vmcb->control.clean = vmcb->control.exit_code == SVM_EXIT_ERR ?
			      0 : KHV_VMCB_ALL_CLEAN;
	a->regs[KHV_RAX] = vmcb->save.rax;
	a->regs[KHV_RSP] = vmcb->save.rsp;
	a->rip = vmcb->save.rip;
	a->rflags = vmcb->save.rflags;
	khv_svm_after_exit(svm);
	vmcb->control.event_inj = 0;
}

/* Finish a KHV_EXIT_VENDOR exit: a #DB for the guest. */
static int khv_svm_handle_exit(struct khv_vcpu *vcpu)
{
	struct khv_svm_vcpu *svm = to_svm(vcpu);

	if (svm->queue_db) {
		svm->queue_db = false;
		khv_queue_exception(vcpu, DB_VECTOR, false, 0);
	}
	return 1;
}

/* VMCB segment attributes <-> struct kvm_segment. */
static void khv_svm_get_seg(const struct vmcb_seg *v, struct kvm_segment *k)
{
	u16 a = v->attrib;

	*k = (struct kvm_segment) {
		.base = v->base, .limit = v->limit, .selector = v->selector,
		.type = a & 0xf, .s = (a >> 4) & 1, .dpl = (a >> 5) & 3,
		.present = (a >> 7) & 1, .avl = (a >> 8) & 1,
		.l = (a >> 9) & 1, .db = (a >> 10) & 1, .g = (a >> 11) & 1,
	};
	k->unusable = !k->present;
}

static void khv_svm_set_seg(struct vmcb_seg *v, const struct kvm_segment *k)
{
	v->base = k->base;
	v->limit = k->limit;
	v->selector = k->selector;
	v->attrib = k->unusable ? 0 :
		(k->type & 0xf) | (k->s & 1) << 4 | (k->dpl & 3) << 5 |
		(k->present & 1) << 7 | (k->avl & 1) << 8 | (k->l & 1) << 9 |
		(k->db & 1) << 10 | (k->g & 1) << 11;
}

static void khv_svm_get_sregs(struct khv_vcpu *vcpu, struct kvm_sregs *s)
{
	const struct vmcb_save_area *v = &to_svm(vcpu)->vmcb->save;

	khv_svm_get_seg(&v->cs, &s->cs);
	khv_svm_get_seg(&v->ds, &s->ds);
	khv_svm_get_seg(&v->es, &s->es);
	khv_svm_get_seg(&v->fs, &s->fs);
	khv_svm_get_seg(&v->gs, &s->gs);
	khv_svm_get_seg(&v->ss, &s->ss);
	khv_svm_get_seg(&v->tr, &s->tr);
	/*
	 * A loaded TR is busy (LTR and task switches set the bit); the VMCB
	 * copy of its attributes may not show it (QEMU's does not), stock
	 * kvm-amd reports it set as well.
	 */
	s->tr.type |= 2;
	khv_svm_get_seg(&v->ldtr, &s->ldt);
	s->gdt.base = v->gdtr.base;
	s->gdt.limit = v->gdtr.limit;
	s->idt.base = v->idtr.base;
	s->idt.limit = v->idtr.limit;
	s->cr0 = v->cr0;
	s->cr2 = v->cr2;
	s->cr3 = v->cr3;
	s->cr4 = v->cr4;
	s->cr8 = 0;
	s->efer = v->efer & ~EFER_SVME;
	s->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
		       (vcpu->vcpu_id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

static void khv_svm_set_sregs(struct khv_vcpu *vcpu, const struct kvm_sregs *s)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save_area *v = &vmcb->save;

	khv_svm_set_seg(&v->cs, &s->cs);
	khv_svm_set_seg(&v->ds, &s->ds);
	khv_svm_set_seg(&v->es, &s->es);
	khv_svm_set_seg(&v->fs, &s->fs);
	khv_svm_set_seg(&v->gs, &s->gs);
	khv_svm_set_seg(&v->ss, &s->ss);
	khv_svm_set_seg(&v->tr, &s->tr);
	khv_svm_set_seg(&v->ldtr, &s->ldt);
	v->gdtr.base = s->gdt.base;
	v->gdtr.limit = s->gdt.limit;
	v->idtr.base = s->idt.base;
	v->idtr.limit = s->idt.limit;
	v->cr0 = s->cr0;
	v->cr2 = s->cr2;
	v->cr3 = s->cr3;
	v->cr4 = s->cr4;
	v->efer = s->efer | EFER_SVME;
	/* The CPL is the DPL of SS (APM: VMCB CPL field). */
	v->cpl = s->ss.dpl;
	vmcb->control.clean = 0;
}

static int khv_svm_get_msr(struct khv_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save_area *v = &vmcb->save;

	switch (index) {
	case MSR_EFER:
		*data = v->efer & ~EFER_SVME;
		return 0;
	case MSR_STAR:
		*data = v->star;
		return 0;
	case MSR_LSTAR:
		*data = v->lstar;
		return 0;
	case MSR_CSTAR:
		*data = v->cstar;
		return 0;
	case MSR_SYSCALL_MASK:
		*data = v->sfmask;
		return 0;
	case MSR_KERNEL_GS_BASE:
		*data = v->kernel_gs_base;
		return 0;
	case MSR_FS_BASE:
		*data = v->fs.base;
		return 0;
	case MSR_GS_BASE:
		*data = v->gs.base;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = v->sysenter_cs;
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = v->sysenter_esp;
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = v->sysenter_eip;
		return 0;
	case MSR_IA32_CR_PAT:
		*data = v->g_pat;
		return 0;
	case MSR_IA32_TSC:
		*data = rdtsc() + vmcb->control.tsc_offset;
		return 0;
	default:
		return 1;
	}
}

/* Canonical for the host's paging (48 or 57 bits of linear address). */
static bool khv_svm_canonical(u64 v)
{
	unsigned int bits = (cr4_read_shadow() & X86_CR4_LA57) ? 57 : 48;

	return (u64)((s64)(v << (64 - bits)) >> (64 - bits)) == v;
}

static int khv_svm_set_msr(struct khv_vcpu *vcpu, u32 index, u64 data)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save_area *v = &vmcb->save;

	switch (index) {
	case MSR_EFER:
		if (data & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
			return -EINVAL;
		/* LME cannot change while paging is on. */
		if ((v->cr0 & X86_CR0_PG) && ((data ^ v->efer) & EFER_LME))
			return -EINVAL;
		v->efer = data | EFER_SVME;
		vmcb->control.clean &= ~BIT(KHV_VMCB_CR);
		return 0;
	case MSR_STAR:
		v->star = data;
		return 0;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Canonical: checked by the shared code (arch/x86/msr.c). */
		if (index == MSR_LSTAR)
			v->lstar = data;
		else if (index == MSR_CSTAR)
			v->cstar = data;
		else if (index == MSR_KERNEL_GS_BASE)
			v->kernel_gs_base = data;
		/* AMD's SYSENTER_ESP/EIP hold 32 bits (as on stock kvm-amd). */
		else if (index == MSR_IA32_SYSENTER_ESP)
			v->sysenter_esp = (u32)data;
		else
			v->sysenter_eip = (u32)data;
		return 0;
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		/* VMLOAD state: a non-canonical base must never reach it. */
		if (!khv_svm_canonical(data))
			return -EINVAL;
		if (index == MSR_FS_BASE)
			v->fs.base = data;
		else
			v->gs.base = data;
		return 0;
	case MSR_SYSCALL_MASK:
		v->sfmask = (u32)data;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		v->sysenter_cs = (u32)data;
		return 0;
	case MSR_IA32_CR_PAT:
		v->g_pat = data;
		vmcb->control.clean &= ~BIT(KHV_VMCB_NP);
		return 0;
	case MSR_IA32_TSC:
		vmcb->control.tsc_offset = data - rdtsc();
		vmcb->control.clean &= ~BIT(KHV_VMCB_INTERCEPTS);
		return 0;
	default:
		return 1;
	}
}

/*
 * Nested page tables use ordinary x86 PTEs; guest accesses are user-level.
 * They have as many levels as the host's own paging (5 under LA57): set at
 * module load.
 */
static struct khv_s2_format khv_svm_npt_format = {
	.table		= _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED,
	.leaf_r		= _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED,
	.leaf_w		= _PAGE_RW | _PAGE_DIRTY,
	.present	= _PAGE_PRESENT,
	.accessed	= _PAGE_ACCESSED,
};

static const struct khv_vendor_ops khv_svm_ops = {
	.name			= "svm",
	.owner			= THIS_MODULE,
	.hardware_enable	= khv_svm_hardware_enable,
	.hardware_disable	= khv_svm_hardware_disable,
	.vcpu_size		= sizeof(struct khv_svm_vcpu),
	.vcpu_create		= khv_svm_vcpu_create,
	.vcpu_free		= khv_svm_vcpu_free,
	.vcpu_load		= khv_svm_vcpu_load,
	.vcpu_put		= khv_svm_vcpu_put,
	.run			= khv_svm_run,
	.handle_exit		= khv_svm_handle_exit,
	.get_sregs		= khv_svm_get_sregs,
	.set_sregs		= khv_svm_set_sregs,
	.get_msr		= khv_svm_get_msr,
	.set_msr		= khv_svm_set_msr,
	.shadow_merged		= true,
	.s2_format		= &khv_svm_npt_format,
};

static int __init khv_svm_init(void)
{
	int r;

	r = khv_svm_probe();
	if (r)
		return r;
	khv_svm_npt_format.levels = (cr4_read_shadow() & X86_CR4_LA57) ? 5 : 4;
	r = khv_svm_alloc_percpu();
	if (r)
		return r;
	r = khv_register_vendor(&khv_svm_ops);
	if (r)
		khv_svm_free_percpu();
	return r;
}

static void __exit khv_svm_exit(void)
{
	khv_unregister_vendor(&khv_svm_ops);
	khv_svm_free_percpu();
}

module_init(khv_svm_init);
module_exit(khv_svm_exit);

MODULE_DESCRIPTION("khv: AMD-V (SVM + NPT) backend");
MODULE_AUTHOR("khv developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(KHV_VERSION);
