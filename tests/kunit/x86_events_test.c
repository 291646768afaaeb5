// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: event selection (arch/x86/events.c) - the SDM's double-fault
 * rules, which single event an entry injects and in what order, the
 * windows asked for, taking back an event an exit interrupted, and the
 * KVM_GET/SET_VCPU_EVENTS conversions.
 *
 * events.c is compiled into this module (see the #include below) and
 * driven on a zeroed vCPU with its own struct kvm_run: no backend, no VM.
 */
/* First: it sets pr_fmt before any header uses it. */
#include "../../arch/x86/events.c"

#include <kunit/test.h>
#include <linux/slab.h>

struct ev_fixture {
	struct khv_vcpu vcpu;
	struct kvm_run run;
};

static int ev_init(struct kunit *test)
{
	struct ev_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	if (!f)
		return -ENOMEM;
	f->vcpu.run = &f->run;
	f->vcpu.arch.rflags = X86_EFLAGS_FIXED | X86_EFLAGS_IF;
	test->priv = f;
	return 0;
}

static struct khv_vcpu *vcpu_of(struct kunit *test)
{
	return &((struct ev_fixture *)test->priv)->vcpu;
}

/* One entry: what was injected. */
static struct khv_event enter(struct khv_vcpu *v)
{
	khv_events_before_entry(v);
	return v->arch.inject;
}

/* The exit after that entry reports @idt as interrupted. */
static void exit_with(struct khv_vcpu *v, u8 type, u8 vector)
{
	memset(&v->arch.exit, 0, sizeof(v->arch.exit));
	v->arch.exit.idt.type = type;
	v->arch.exit.idt.vector = vector;
	khv_events_after_exit(v);
}

static void exit_clean(struct khv_vcpu *v)
{
	exit_with(v, KHV_EV_NONE, 0);
}

static void ev_single_exception(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);
	struct khv_event in;

	khv_queue_exception(v, GP_VECTOR, true, 0x18);
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXCEPTION);
	KUNIT_EXPECT_EQ(test, in.vector, GP_VECTOR);
	KUNIT_EXPECT_TRUE(test, in.has_err);
	KUNIT_EXPECT_EQ(test, in.err, 0x18u);
	exit_clean(v);
	/* Delivered: nothing the next time. */
	KUNIT_EXPECT_EQ(test, enter(v).type, KHV_EV_NONE);
}

/* SDM vol. 3, table 6-5: which pairs make a double fault. */
static void ev_double_fault_rules(struct kunit *test)
{
	static const struct {
		u8 first, second, result;	/* result 0xff: triple fault */
	} rows[] = {
		{ GP_VECTOR, GP_VECTOR, DF_VECTOR },	/* contributory, contributory */
		{ NP_VECTOR, SS_VECTOR, DF_VECTOR },
		{ PF_VECTOR, PF_VECTOR, DF_VECTOR },	/* page fault, page fault */
		{ PF_VECTOR, GP_VECTOR, DF_VECTOR },	/* page fault, contributory */
		{ GP_VECTOR, PF_VECTOR, PF_VECTOR },	/* contributory, page fault: serial */
		{ DE_VECTOR, PF_VECTOR, PF_VECTOR },
		{ GP_VECTOR, DB_VECTOR, DB_VECTOR },	/* benign second: serial */
		{ DB_VECTOR, GP_VECTOR, GP_VECTOR },	/* benign first: serial */
		{ UD_VECTOR, PF_VECTOR, PF_VECTOR },
		{ DF_VECTOR, GP_VECTOR, 0xff },		/* anything during #DF */
		{ DF_VECTOR, DB_VECTOR, 0xff },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct khv_vcpu *v = vcpu_of(test);
		struct khv_event in;

		khv_events_reset(v);
		khv_queue_exception(v, rows[i].first, rows[i].first != DB_VECTOR &&
				    rows[i].first != UD_VECTOR && rows[i].first != DE_VECTOR,
				    0x11);
		khv_queue_exception(v, rows[i].second, false, 0);
		if (rows[i].result == 0xff) {
			KUNIT_EXPECT_TRUE_MSG(test, v->arch.ev.triple_fault, "row %u", i);
			continue;
		}
		KUNIT_EXPECT_FALSE_MSG(test, v->arch.ev.triple_fault, "row %u", i);
		in = enter(v);
		KUNIT_EXPECT_EQ_MSG(test, in.type, KHV_EV_EXCEPTION, "row %u", i);
		KUNIT_EXPECT_EQ_MSG(test, in.vector, rows[i].result, "row %u", i);
		if (rows[i].result == DF_VECTOR) {
			KUNIT_EXPECT_TRUE_MSG(test, in.has_err, "row %u", i);
			KUNIT_EXPECT_EQ_MSG(test, in.err, 0u, "row %u", i);
		}
	}
}

static void ev_irq_waits_for_window(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);
	struct khv_event in;

	v->arch.ev.irq.pending = true;
	v->arch.ev.irq.nr = 0x30;

	v->arch.rflags &= ~X86_EFLAGS_IF;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NONE);
	KUNIT_EXPECT_TRUE(test, v->arch.irq_window);
	KUNIT_EXPECT_FALSE(test, khv_irq_window_open(v));

	v->arch.rflags |= X86_EFLAGS_IF;
	v->arch.int_shadow = KVM_X86_SHADOW_INT_STI;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NONE);
	KUNIT_EXPECT_TRUE(test, v->arch.irq_window);

	v->arch.int_shadow = 0;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXTINT);
	KUNIT_EXPECT_EQ(test, in.vector, 0x30);
	KUNIT_EXPECT_FALSE(test, v->arch.irq_window);
	KUNIT_EXPECT_FALSE(test, v->arch.ev.irq.pending);

	/* The exit interrupted its delivery: it comes again. */
	exit_with(v, KHV_EV_EXTINT, 0x30);
	KUNIT_EXPECT_TRUE(test, v->arch.ev.irq.pending);
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXTINT);
	KUNIT_EXPECT_EQ(test, in.vector, 0x30);
}

static void ev_request_window(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);

	v->run->request_interrupt_window = 1;
	enter(v);
	KUNIT_EXPECT_TRUE(test, v->arch.irq_window);
	v->run->request_interrupt_window = 0;
	enter(v);
	KUNIT_EXPECT_FALSE(test, v->arch.irq_window);
}

static void ev_nmi(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);
	struct khv_event in;
	int i;

	/* At most two wait; one when NMIs are blocked. */
	for (i = 0; i < 5; i++)
		khv_queue_nmi(v);
	KUNIT_EXPECT_EQ(test, v->arch.ev.nmi.pending, 2);

	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NMI);
	KUNIT_EXPECT_EQ(test, in.vector, NMI_VECTOR);
	/* The second one waits for the window. */
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_window);
	exit_clean(v);
	v->arch.nmi_masked = true;	/* what the backend reports */

	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NONE);
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_window);
	/* Blocked NMIs do not block an interrupt. */
	v->arch.ev.irq.pending = true;
	v->arch.ev.irq.nr = 0x41;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXTINT);
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_window);
	exit_clean(v);

	v->arch.nmi_masked = false;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NMI);
	KUNIT_EXPECT_FALSE(test, v->arch.nmi_window);

	/* MOV SS shadow blocks NMIs. */
	khv_events_reset(v);
	khv_queue_nmi(v);
	v->arch.int_shadow = KVM_X86_SHADOW_INT_MOV_SS;
	KUNIT_EXPECT_EQ(test, enter(v).type, KHV_EV_NONE);
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_window);

	/* When blocked, only one waits. */
	khv_events_reset(v);
	v->arch.nmi_masked = true;
	khv_queue_nmi(v);
	khv_queue_nmi(v);
	KUNIT_EXPECT_EQ(test, v->arch.ev.nmi.pending, 1);
}

/* Interrupted deliveries first, then exceptions, NMIs, interrupts. */
static void ev_priority(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);
	struct khv_event in;

	khv_queue_nmi(v);
	v->arch.ev.irq.pending = true;
	v->arch.ev.irq.nr = 0x20;
	khv_queue_exception(v, UD_VECTOR, false, 0);

	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXCEPTION);
	KUNIT_EXPECT_EQ(test, in.vector, UD_VECTOR);
	KUNIT_EXPECT_TRUE(test, v->arch.irq_window);
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_window);
	exit_clean(v);

	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NMI);
	/* That NMI's delivery was interrupted: redone even if masked now. */
	exit_with(v, KHV_EV_NMI, NMI_VECTOR);
	v->arch.nmi_masked = true;
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_NMI);
	exit_clean(v);

	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_EXTINT);
	KUNIT_EXPECT_EQ(test, in.vector, 0x20);
	exit_clean(v);
	KUNIT_EXPECT_EQ(test, enter(v).type, KHV_EV_NONE);

	/* A software interrupt interrupted: redone with its length. */
	memset(&v->arch.exit, 0, sizeof(v->arch.exit));
	v->arch.exit.idt.type = KHV_EV_SOFT_INT;
	v->arch.exit.idt.vector = 0x80;
	v->arch.exit.idt.insn_len = 2;
	khv_events_after_exit(v);
	v->arch.rflags &= ~X86_EFLAGS_IF;	/* INT n ignores IF */
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.type, KHV_EV_SOFT_INT);
	KUNIT_EXPECT_EQ(test, in.vector, 0x80);
	KUNIT_EXPECT_EQ(test, in.insn_len, 2);

	/* An exception interrupted keeps its error code. */
	memset(&v->arch.exit, 0, sizeof(v->arch.exit));
	v->arch.exit.idt.type = KHV_EV_EXCEPTION;
	v->arch.exit.idt.vector = PF_VECTOR;
	v->arch.exit.idt.has_err = true;
	v->arch.exit.idt.err = 6;
	khv_events_after_exit(v);
	in = enter(v);
	KUNIT_EXPECT_EQ(test, in.vector, PF_VECTOR);
	KUNIT_EXPECT_TRUE(test, in.has_err);
	KUNIT_EXPECT_EQ(test, in.err, 6u);
}

static void ev_vcpu_events_abi(struct kunit *test)
{
	struct khv_vcpu *v = vcpu_of(test);
	struct kvm_vcpu_events e;

	khv_queue_exception(v, GP_VECTOR, true, 5);
	khv_queue_nmi(v);
	v->arch.ev.irq.pending = true;
	v->arch.ev.irq.nr = 0x33;
	v->arch.int_shadow = KVM_X86_SHADOW_INT_STI;
	v->arch.nmi_masked = true;
	khv_events_get(v, &e);
	/* Without EXCEPTION_PAYLOAD a pending exception reads as injected. */
	KUNIT_EXPECT_EQ(test, e.exception.injected, 1);
	KUNIT_EXPECT_EQ(test, e.exception.pending, 0);
	KUNIT_EXPECT_EQ(test, e.exception.nr, GP_VECTOR);
	KUNIT_EXPECT_EQ(test, e.exception.has_error_code, 1);
	KUNIT_EXPECT_EQ(test, e.exception.error_code, 5u);
	KUNIT_EXPECT_EQ(test, e.interrupt.injected, 1);
	KUNIT_EXPECT_EQ(test, e.interrupt.nr, 0x33);
	KUNIT_EXPECT_EQ(test, e.interrupt.shadow, KVM_X86_SHADOW_INT_STI);
	KUNIT_EXPECT_EQ(test, e.nmi.pending, 1);
	KUNIT_EXPECT_EQ(test, e.nmi.masked, 1);
	KUNIT_EXPECT_EQ(test, e.flags, (u32)(KVM_VCPUEVENT_VALID_NMI_PENDING |
					     KVM_VCPUEVENT_VALID_SHADOW |
					     KVM_VCPUEVENT_VALID_SMM));

	/* Round trip through a reset vCPU. */
	khv_events_reset(v);
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), 0);
	KUNIT_EXPECT_TRUE(test, v->arch.ev.exc.injected);
	KUNIT_EXPECT_EQ(test, v->arch.ev.exc.nr, GP_VECTOR);
	KUNIT_EXPECT_TRUE(test, v->arch.ev.irq.pending);
	KUNIT_EXPECT_EQ(test, v->arch.ev.nmi.pending, 1);
	KUNIT_EXPECT_TRUE(test, v->arch.nmi_masked);
	KUNIT_EXPECT_EQ(test, v->arch.int_shadow, KVM_X86_SHADOW_INT_STI);

	/* Refusals. */
	e.flags = BIT(10);
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), -EINVAL);
	e.flags = 0;
	e.exception.nr = NMI_VECTOR;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), -EINVAL);
	e.exception.nr = 32;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), -EINVAL);
	e.exception.nr = GP_VECTOR;
	e.flags = KVM_VCPUEVENT_VALID_SMM;
	e.smi.smm = 1;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), -EINVAL);
	/* Without VALID_SHADOW / VALID_NMI_PENDING those are left alone. */
	e.smi.smm = 0;
	e.flags = 0;
	e.interrupt.shadow = 0;
	e.nmi.pending = 0;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), 0);
	KUNIT_EXPECT_EQ(test, v->arch.int_shadow, KVM_X86_SHADOW_INT_STI);
	KUNIT_EXPECT_EQ(test, v->arch.ev.nmi.pending, 1);

	/* One hardware shadow bit (SVM): any shadow reads back as both. */
	v->arch.shadow_merged = true;
	e.flags = KVM_VCPUEVENT_VALID_SHADOW;
	e.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), 0);
	KUNIT_EXPECT_EQ(test, v->arch.int_shadow,
			KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI);
	e.interrupt.shadow = 0;
	KUNIT_EXPECT_EQ(test, khv_events_set(v, &e), 0);
	KUNIT_EXPECT_EQ(test, v->arch.int_shadow, 0);
	v->arch.shadow_merged = false;

	/* A software exception is not reported (no length in the ABI). */
	khv_events_reset(v);
	exit_with(v, KHV_EV_SOFT_EXCEPTION, BP_VECTOR);
	khv_events_get(v, &e);
	KUNIT_EXPECT_EQ(test, e.exception.injected, 0);
}

static struct kunit_case khv_events_cases[] = {
	KUNIT_CASE(ev_single_exception),
	KUNIT_CASE(ev_double_fault_rules),
	KUNIT_CASE(ev_irq_waits_for_window),
	KUNIT_CASE(ev_request_window),
	KUNIT_CASE(ev_nmi),
	KUNIT_CASE(ev_priority),
	KUNIT_CASE(ev_vcpu_events_abi),
	{}
};

static struct kunit_suite khv_events_suite = {
	.name = "khv_x86_events",
	.init = ev_init,
	.test_cases = khv_events_cases,
};
kunit_test_suite(khv_events_suite);

MODULE_DESCRIPTION("khv: KUnit tests of x86 event selection");
MODULE_LICENSE("GPL");
