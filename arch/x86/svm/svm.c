// SPDX-License-Identifier: GPL-2.0-only
/*
 * khv-svm: the AMD-V backend.
 *
 * Module init probes the hardware and registers with the core only if the
 * CPU can run khv's guests: an AMD (or Hygon) CPU with SVM, SVM not disabled
 * by firmware (VM_CR.SVMDIS), and nested paging. Anything missing fails the
 * load with -ENODEV and one line saying what is missing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/apicdef.h>
#include <asm/svm.h>
#include <asm/tlbflush.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/*
 * The VMCB is the hardware's layout (APM vol. 2, appendix B), as the
 * kernel's <asm/svm.h> describes it.
 */
static_assert(offsetof(struct vmcb, save) == 0x400);
static_assert(sizeof(struct vmcb) <= PAGE_SIZE);

/* VMCB clean bits (APM vol. 2, "VMCB Clean Bits"): state khv left alone. */
enum {
	KHV_VMCB_INTERCEPTS,	/* intercepts, TSC offset, pause filter */
	KHV_VMCB_PERM_MAP,	/* IOPM and MSRPM base */
	KHV_VMCB_ASID,
	KHV_VMCB_INTR,		/* V_TPR, V_IRQ... */
	KHV_VMCB_NP,		/* nested paging: nCR3, G_PAT */
	KHV_VMCB_CR,		/* CR0, CR3, CR4, EFER */
	KHV_VMCB_DR,		/* DR6, DR7 */
	KHV_VMCB_DT,		/* GDTR, IDTR */
	KHV_VMCB_SEG,		/* CS, DS, SS, ES, CPL */
	KHV_VMCB_CR2,
};

/* Debug registers at reset. */
#define KHV_DR6_RESET		0xffff0ff0ULL
#define KHV_DR7_RESET		0x400ULL

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

	static const int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_HLT, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_SHUTDOWN, INTERCEPT_INVD, INTERCEPT_INVLPGA,
		INTERCEPT_TASK_SWITCH, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
		INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI,
		INTERCEPT_CLGI, INTERCEPT_SKINIT, INTERCEPT_WBINVD,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RSM, INTERCEPT_RDPRU,
	};

	memset(svm->vmcb, 0, sizeof(*svm->vmcb));
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		khv_svm_intercept(svm->vmcb, intercepts[i]);
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
	s->dr6 = KHV_DR6_RESET;
	s->dr7 = KHV_DR7_RESET;
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

/*
 * Without NRIPS, the length of an intercepted instruction, assuming no
 * prefixes (what compilers emit for these); the instruction emulator will
 * measure it exactly. 0 for exits that do not skip an instruction.
 */
static unsigned int khv_svm_insn_len(u64 exit_code)
{
	switch (exit_code) {
	case SVM_EXIT_HLT:
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

static void khv_svm_decode_exit(struct khv_svm_vcpu *svm, struct khv_exit *x)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	u64 info1 = c->exit_info_1;

	x->hw_reason = c->exit_code;
	x->next_rip = khv_svm_nrips ? c->next_rip : 0;
	switch (c->exit_code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		x->reason = KHV_EXIT_NONE;
		break;
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
		break;
	case SVM_EXIT_HLT:
		x->reason = KHV_EXIT_HLT;
		break;
	case SVM_EXIT_CPUID:
		x->reason = KHV_EXIT_CPUID;
		break;
	case SVM_EXIT_MSR:
		x->reason = info1 ? KHV_EXIT_WRMSR : KHV_EXIT_RDMSR;
		break;
	case SVM_EXIT_NPF:
		x->reason = KHV_EXIT_STAGE2_FAULT;
		x->s2.gpa = c->exit_info_2;
		x->s2.present = info1 & KHV_PF_PRESENT;
		x->s2.write = info1 & KHV_PF_WRITE;
		x->s2.fetch = info1 & KHV_PF_FETCH;
		break;
	case SVM_EXIT_SHUTDOWN:
		x->reason = KHV_EXIT_SHUTDOWN;
		break;
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
		break;
	case SVM_EXIT_XSETBV:
		x->reason = KHV_EXIT_XSETBV;
		break;
	case SVM_EXIT_VINTR:
		x->reason = KHV_EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_ERR:
		x->reason = KHV_EXIT_FAIL_ENTRY;
		break;
	default:
		x->reason = KHV_EXIT_UNKNOWN;
		break;
	}
	if (!x->next_rip)
		x->next_rip = svm->vcpu.arch.rip + khv_svm_insn_len(c->exit_code);
}

static void khv_svm_run(struct khv_vcpu *vcpu)
{
	struct khv_svm_vcpu *svm = to_svm(vcpu);
	struct khv_svm_cpu *c = this_cpu_ptr(&khv_svm_cpu);
	struct vmcb *vmcb = svm->vmcb;

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

	vmcb->save.rax = vcpu->arch.regs[KHV_RAX];
	vmcb->save.rsp = vcpu->arch.regs[KHV_RSP];
	vmcb->save.rip = vcpu->arch.rip;
	vmcb->save.rflags = vcpu->arch.rflags;

	asm volatile("clgi" ::: "memory");
	khv_svm_vmrun(svm->vmcb_pa, vcpu->arch.regs, page_to_phys(c->host_save));
	asm volatile("stgi" ::: "memory");

	vcpu->arch.regs[KHV_RAX] = vmcb->save.rax;
	vcpu->arch.regs[KHV_RSP] = vmcb->save.rsp;
	vcpu->arch.rip = vmcb->save.rip;
	vcpu->arch.rflags = vmcb->save.rflags;

	/* Everything khv wrote is now in the CPU's VMCB cache. */
	vmcb->control.clean = ~0U;
	vmcb->control.event_inj = 0;
	/* An event the exit interrupted is delivered again on the next entry. */
	if (vmcb->control.exit_int_info & SVM_EXITINTINFO_VALID) {
		vmcb->control.event_inj = vmcb->control.exit_int_info;
		vmcb->control.event_inj_err = vmcb->control.exit_int_info_err;
	}
	khv_svm_decode_exit(svm, &vcpu->arch.exit);
}

static void khv_svm_queue_exception(struct khv_vcpu *vcpu, u8 vector,
				    bool has_err, u32 err)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->event_inj = vector | SVM_EVTINJ_TYPE_EXEPT | SVM_EVTINJ_VALID |
		       (has_err ? SVM_EVTINJ_VALID_ERR : 0);
	c->event_inj_err = err;
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
	.get_sregs		= khv_svm_get_sregs,
	.set_sregs		= khv_svm_set_sregs,
	.queue_exception	= khv_svm_queue_exception,
	.get_msr		= khv_svm_get_msr,
	.set_msr		= khv_svm_set_msr,
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
