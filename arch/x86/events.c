// SPDX-License-Identifier: GPL-2.0-only
/*
 * Events for the guest, decided once for both backends: exceptions the
 * shared code or a backend raises, KVM_INTERRUPT's external interrupt,
 * KVM_NMI, and events an exit interrupted while the CPU delivered them.
 *
 * Before each entry (interrupts off, nothing can fail any more) the shared
 * code picks at most one event for the backend to inject and says which
 * windows it wants to hear about; after the exit it takes back whatever
 * the exit interrupted. The state is KVM's model, so KVM_GET/SET_VCPU_EVENTS
 * read and write it directly:
 *
 *  - exc.injected / nmi.injected: delivery was under way when an exit
 *    interrupted it; it is redone as is, before anything else;
 *  - exc.pending: raised, not yet delivered;
 *  - nmi.pending: KVM_NMI's, delivered when NMIs are not blocked;
 *  - irq.pending: KVM_INTERRUPT's vector, delivered once the guest can take
 *    an interrupt (RFLAGS.IF = 1, no interrupt shadow). Stock KVM injects it
 *    without looking and counts on the VMM to have checked
 *    ready_for_interrupt_injection; khv waits for the window instead, which
 *    gives the same result for a correct VMM and a guest that can never
 *    make a VM entry fail for a wrong one.
 *
 * Everything here runs under vcpu->mutex.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/uaccess.h>
#include <asm/traps.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/* Exception classes for double faults (SDM vol. 3, table 6-5). */
static bool khv_exc_contributory(u8 vector)
{
	return vector == DE_VECTOR || vector == TS_VECTOR ||
	       vector == NP_VECTOR || vector == SS_VECTOR ||
	       vector == GP_VECTOR;
}

/**
 * khv_queue_exception - make the guest take an exception before its next
 * instruction
 * @vcpu: the vCPU
 * @vector: exception vector (0-31)
 * @has_err: push @err
 * @err: error code
 *
 * A second exception while one waits becomes #DF, or a triple fault
 * (KVM_EXIT_SHUTDOWN) while #DF waits, by the SDM's double-fault rules.
 */
void khv_queue_exception(struct khv_vcpu *vcpu, u8 vector, bool has_err,
			 u32 err)
{
	struct khv_events *ev = &vcpu->arch.ev;

	if (ev->exc.pending || ev->exc.injected) {
		u8 first = ev->exc.nr;

		if (first == DF_VECTOR) {
			ev->triple_fault = true;
			return;
		}
		if ((khv_exc_contributory(first) || first == PF_VECTOR) &&
		    (khv_exc_contributory(vector) || vector == PF_VECTOR) &&
		    !(first != PF_VECTOR && vector == PF_VECTOR)) {
			vector = DF_VECTOR;
			has_err = true;
			err = 0;
		}
		/* Otherwise the two are handled serially: the new one wins. */
	}
	ev->exc.pending = true;
	ev->exc.injected = false;
	ev->exc.nr = vector;
	ev->exc.has_err = has_err;
	ev->exc.err = err;
	ev->exc.type = KHV_EV_EXCEPTION;
	ev->exc.insn_len = 0;
}

/* Can the guest take an external interrupt now? */
bool khv_irq_window_open(struct khv_vcpu *vcpu)
{
	return (vcpu->arch.rflags & X86_EFLAGS_IF) && !vcpu->arch.int_shadow;
}

static bool khv_nmi_window_open(struct khv_vcpu *vcpu)
{
	return !vcpu->arch.nmi_masked &&
	       !(vcpu->arch.int_shadow & KVM_X86_SHADOW_INT_MOV_SS);
}

/**
 * khv_events_before_entry - choose what the backend injects at this entry
 * @vcpu: the vCPU, about to enter (interrupts off)
 *
 * At most one event per entry; whatever else waits asks for a window so
 * the guest comes back as soon as it can take it.
 */
void khv_events_before_entry(struct khv_vcpu *vcpu)
{
	struct khv_vcpu_arch *a = &vcpu->arch;
	struct khv_events *ev = &a->ev;
	struct khv_event *in = &a->inject;

	memset(in, 0, sizeof(*in));
	a->irq_window = false;
	a->nmi_window = false;

	if (ev->exc.injected || ev->exc.pending) {
		in->type = ev->exc.type ? ev->exc.type : KHV_EV_EXCEPTION;
		in->vector = ev->exc.nr;
		in->has_err = ev->exc.has_err;
		in->err = ev->exc.err;
		in->insn_len = ev->exc.insn_len;
		ev->exc.injected = ev->exc.pending = false;
	} else if (ev->nmi.injected) {
		in->type = KHV_EV_NMI;
		in->vector = NMI_VECTOR;
		ev->nmi.injected = false;
	} else if (ev->irq.pending && ev->irq.soft) {
		in->type = KHV_EV_SOFT_INT;
		in->vector = ev->irq.nr;
		in->insn_len = ev->irq.insn_len;
		ev->irq.pending = ev->irq.soft = false;
	} else if (ev->nmi.pending && khv_nmi_window_open(vcpu)) {
		in->type = KHV_EV_NMI;
		in->vector = NMI_VECTOR;
		ev->nmi.pending--;
	} else if (ev->irq.pending && khv_irq_window_open(vcpu)) {
		in->type = KHV_EV_EXTINT;
		in->vector = ev->irq.nr;
		ev->irq.pending = false;
	}

	if (ev->nmi.pending)
		a->nmi_window = true;
	/*
	 * KVM_RUN's request_interrupt_window: exit once the guest can take
	 * an interrupt. When the window is already open this exits at once.
	 */
	if (ev->irq.pending ||
	    (READ_ONCE(vcpu->run->request_interrupt_window) &&
	     in->type != KHV_EV_EXTINT))
		a->irq_window = true;
}

/**
 * khv_events_after_exit - take back the event an exit interrupted
 * @vcpu: the vCPU, just out of the guest
 */
void khv_events_after_exit(struct khv_vcpu *vcpu)
{
	struct khv_events *ev = &vcpu->arch.ev;
	const struct khv_event *idt = &vcpu->arch.exit.idt;

	switch (idt->type) {
	case KHV_EV_NONE:
		break;
	case KHV_EV_EXTINT:
		/* Not yet delivered: the guest's IF is still 1. */
		ev->irq.pending = true;
		ev->irq.soft = false;
		ev->irq.nr = idt->vector;
		break;
	case KHV_EV_SOFT_INT:
		ev->irq.pending = true;
		ev->irq.soft = true;
		ev->irq.nr = idt->vector;
		ev->irq.insn_len = idt->insn_len;
		break;
	case KHV_EV_NMI:
		ev->nmi.injected = true;
		break;
	default:
		/*
		 * An exception interrupted while being delivered wins over
		 * one the exit handler may raise next (that one is then
		 * queued on top: #DF rules apply).
		 */
		ev->exc.injected = true;
		ev->exc.pending = false;
		ev->exc.type = idt->type;
		ev->exc.nr = idt->vector;
		ev->exc.has_err = idt->has_err;
		ev->exc.err = idt->err;
		ev->exc.insn_len = idt->insn_len;
		break;
	}
}

void khv_events_reset(struct khv_vcpu *vcpu)
{
	memset(&vcpu->arch.ev, 0, sizeof(vcpu->arch.ev));
	vcpu->arch.int_shadow = 0;
	vcpu->arch.nmi_masked = false;
}

static bool khv_exc_is_soft(const struct khv_events *ev)
{
	return ev->exc.type == KHV_EV_SOFT_EXCEPTION ||
	       ev->exc.type == KHV_EV_PRIV_SOFT_EXCEPTION;
}

void khv_events_get(struct khv_vcpu *vcpu, struct kvm_vcpu_events *e)
{
	const struct khv_events *ev = &vcpu->arch.ev;

	memset(e, 0, sizeof(*e));
	/*
	 * A software exception cannot be described without its instruction
	 * length: it is not reported, and re-executing the instruction
	 * raises it again (as in KVM). Without KVM_CAP_EXCEPTION_PAYLOAD,
	 * pending and injected are both reported as injected.
	 */
	if ((ev->exc.pending || ev->exc.injected) && !khv_exc_is_soft(ev)) {
		e->exception.injected = 1;
		e->exception.nr = ev->exc.nr;
		e->exception.has_error_code = ev->exc.has_err;
		e->exception.error_code = ev->exc.err;
	}
	e->interrupt.injected = ev->irq.pending && !ev->irq.soft;
	e->interrupt.nr = ev->irq.nr;
	e->interrupt.shadow = vcpu->arch.int_shadow;
	e->nmi.injected = ev->nmi.injected;
	e->nmi.pending = ev->nmi.pending != 0;
	e->nmi.masked = vcpu->arch.nmi_masked;
	e->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		   KVM_VCPUEVENT_VALID_SMM;
}

int khv_events_set(struct khv_vcpu *vcpu, const struct kvm_vcpu_events *e)
{
	struct khv_events *ev = &vcpu->arch.ev;
	bool exc = e->exception.injected;

	if (e->flags & ~(KVM_VCPUEVENT_VALID_NMI_PENDING |
			 KVM_VCPUEVENT_VALID_SIPI_VECTOR |
			 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM))
		return -EINVAL;
	/* exception.pending only means something with EXCEPTION_PAYLOAD. */
	if (exc && (e->exception.nr > 31 || e->exception.nr == NMI_VECTOR))
		return -EINVAL;
	/* No SMM: a vCPU in SMM or with an SMI pending cannot be loaded. */
	if ((e->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (e->smi.smm || e->smi.pending))
		return -EINVAL;

	ev->exc.injected = exc;
	ev->exc.pending = false;
	ev->exc.nr = e->exception.nr;
	ev->exc.has_err = e->exception.has_error_code;
	ev->exc.err = e->exception.error_code;
	ev->exc.type = KHV_EV_EXCEPTION;
	ev->exc.insn_len = 0;
	ev->triple_fault = false;

	ev->irq.pending = e->interrupt.injected;
	ev->irq.nr = e->interrupt.nr;
	/* A soft interrupt's instruction is re-executed instead. */
	if (e->interrupt.soft)
		ev->irq.pending = false;
	ev->irq.soft = false;

	if (e->flags & KVM_VCPUEVENT_VALID_SHADOW) {
		u8 both = KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI;

		vcpu->arch.int_shadow = e->interrupt.shadow & both;
		if (vcpu->arch.shadow_merged && vcpu->arch.int_shadow)
			vcpu->arch.int_shadow = both;
	}
	ev->nmi.injected = e->nmi.injected;
	if (e->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		ev->nmi.pending = e->nmi.pending ? 1 : 0;
	vcpu->arch.nmi_masked = e->nmi.masked;
	return 0;
}

/* KVM_NMI: at most two NMIs wait, one if NMIs are blocked (as KVM). */
static void khv_queue_nmi(struct khv_vcpu *vcpu)
{
	struct khv_events *ev = &vcpu->arch.ev;
	u8 limit = (vcpu->arch.nmi_masked || ev->nmi.injected) ? 1 : 2;

	if (ev->nmi.pending < limit)
		ev->nmi.pending++;
}

long khv_events_ioctl(struct khv_vcpu *vcpu, unsigned int ioctl,
		      void __user *argp)
{
	switch (ioctl) {
	case KVM_INTERRUPT: {
		struct kvm_interrupt irq;

		if (copy_from_user(&irq, argp, sizeof(irq)))
			return -EFAULT;
		if (irq.irq >= 256)
			return -EINVAL;
		vcpu->arch.ev.irq.pending = true;
		vcpu->arch.ev.irq.soft = false;
		vcpu->arch.ev.irq.nr = irq.irq;
		return 0;
	}
	case KVM_NMI:
		khv_queue_nmi(vcpu);
		return 0;
	case KVM_GET_VCPU_EVENTS: {
		struct kvm_vcpu_events e;

		khv_events_get(vcpu, &e);
		return copy_to_user(argp, &e, sizeof(e)) ? -EFAULT : 0;
	}
	case KVM_SET_VCPU_EVENTS: {
		struct kvm_vcpu_events e;

		if (copy_from_user(&e, argp, sizeof(e)))
			return -EFAULT;
		return khv_events_set(vcpu, &e);
	}
	default:
		return -EINVAL;
	}
}
