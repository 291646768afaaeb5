// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two vCPUs of one VM (32-bit protected mode) run at the same time on two
 * threads. Each loops many times over: OUT of its own sequence to its own
 * port, IN of a value the host picks for that vCPU and iteration, adding it
 * to its own word in guest memory, and a locked increment of a counter both
 * share. Every exit must be the right vCPU's (port, direction, value), the
 * IN data must reach the vCPU it was given to, and the memory must add up.
 *
 * Then KVM_RUN on one vCPU from two threads at once: KVM serializes them
 * (one waits for the other); each call runs the guest to its next OUT, so
 * after 2*K calls in total the guest has done exactly 2*K OUTs.
 */
#include <linux/kvm.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "lib/khv_modes.h"

#define SHARED		0x40000		/* the locked counter */
#define SLOT(id)	(0x40100 + 0x100 * (id))	/* sum, last i */
#define COUNTER		0x40800		/* second part: the guest's count */
#define PORT(id)	(0x200 + (id))
#define TAG(id)		((uint32_t)(id) << 28)

KHV_GUEST_DECLARE(tv_guest);
KHV_GUEST_DECLARE(tv_spin);

/* ebx = TAG(id), edx = PORT(id), esi = iterations, edi = SLOT(id). */
asm(KHV_GUEST_BEGIN(tv_guest, 32)
    "	xor %ecx, %ecx\n"
    "1:	lea (%ecx,%ebx), %eax\n"
    "	out %eax, (%dx)\n"
    "	in (%dx), %eax\n"
    "	add %eax, (%edi)\n"
    "	mov %ecx, 4(%edi)\n"
    "	lock incl " KHV_STR(SHARED) "\n"
    "	inc %ecx\n"
    "	cmp %esi, %ecx\n"
    "	jne 1b\n"
    "	hlt\n"
    KHV_GUEST_END(tv_guest));

asm(KHV_GUEST_BEGIN(tv_spin, 32)
    "	xor %ecx, %ecx\n"
    "1:	mov %ecx, " KHV_STR(COUNTER) "\n"
    "	mov %ecx, %eax\n"
    "	out %eax, $0x30\n"
    "	mov $2000, %edx\n"
    "2:	dec %edx\n"
    "	jnz 2b\n"
    "	inc %ecx\n"
    "	jmp 1b\n"
    KHV_GUEST_END(tv_spin));

static pthread_barrier_t barrier;
static unsigned int iters, calls;

static uint32_t in_value(int id, uint32_t i)
{
	return (i * 7 + 1) ^ TAG(id) ^ 0x5a5a00;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct worker {
	struct khv_vcpu *v;
	pthread_t thread;
	unsigned int exits, wrong, zero_rc;
	bool halted;
	double start, end;
};

static void *vcpu_thread(void *arg)
{
	struct worker *w = arg;
	struct khv_vcpu *v = w->v;
	struct kvm_run *run = v->run;
	int id = v->id;

	pthread_barrier_wait(&barrier);
	w->start = now();
	for (uint32_t i = 0; i < iters; i++) {
		long r = khv_vcpu_run(v);

		w->exits++;
		if (r || run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
		    run->io.port != PORT(id) || run->io.size != 4 || run->io.count != 1 ||
		    khv_io_data(v) != (uint64_t)(i + TAG(id))) {
			if (w->wrong++ < 3)
				khv_diag_exit(v, r);
			if (r)
				break;
		}
		r = khv_vcpu_run(v);
		w->exits++;
		if (r || run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_IN ||
		    run->io.port != PORT(id) || run->io.size != 4 || run->io.count != 1) {
			if (w->wrong++ < 3)
				khv_diag_exit(v, r);
			if (r)
				break;
		}
		if (run->exit_reason == KVM_EXIT_IO)
			khv_io_set(v, in_value(id, i));
	}
	if (!w->wrong) {
		long r = khv_vcpu_run(v);

		w->halted = r == 0 && run->exit_reason == KVM_EXIT_HLT;
		if (!w->halted)
			khv_diag_exit(v, r);
	}
	w->end = now();
	return NULL;
}

static void *same_vcpu_thread(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(&barrier);
	w->start = now();
	for (unsigned int i = 0; i < calls; i++) {
		long r = khv_vcpu_run(w->v);

		w->exits++;
		if (r) {
			if (w->wrong++ < 3)
				tap_diag("KVM_RUN: %s", strerror((int)-r));
		} else {
			w->zero_rc++;
		}
	}
	w->end = now();
	return NULL;
}

static void two_vcpus(void)
{
	struct worker w[2];
	struct khv_vm m;
	uint32_t want_sum[2] = { 0, 0 };

	khv_vm_create(&m, KHV_MODE_PROT32, tv_guest, KHV_GUEST_SIZE(tv_guest));
	khv_vm_add_vcpu(&m);
	khv_vm_add_vcpu(&m);
	for (int id = 0; id < 2; id++) {
		struct kvm_regs regs;

		khv_get_regs(&m.vcpu[id], &regs);
		regs.rbx = TAG(id);
		regs.rdx = PORT(id);
		regs.rsi = iters;
		regs.rdi = SLOT(id);
		if (khv_ioctl_p(m.vcpu[id].fd, KVM_SET_REGS, &regs))
			tap_bail("KVM_SET_REGS");
		for (uint32_t i = 0; i < iters; i++)
			want_sum[id] += in_value(id, i);
		memset(&w[id], 0, sizeof(w[id]));
		w[id].v = &m.vcpu[id];
	}
	pthread_barrier_init(&barrier, NULL, 2);
	for (int id = 0; id < 2; id++)
		pthread_create(&w[id].thread, NULL, vcpu_thread, &w[id]);
	for (int id = 0; id < 2; id++)
		pthread_join(w[id].thread, NULL);
	pthread_barrier_destroy(&barrier);
	tap_diag("vCPU 0 ran %.3f-%.3f s, vCPU 1 %.3f-%.3f s", 0.0, w[0].end - w[0].start,
		 w[1].start - w[0].start, w[1].end - w[0].start);

	for (int id = 0; id < 2; id++) {
		uint32_t *slot = khv_gpa(&m, SLOT(id));
		struct kvm_regs regs;

		tap_ok(!w[id].wrong && w[id].exits == 2 * iters && w[id].halted,
		       "vCPU %d: %u exits, each its own (port 0x%x, its values), %u wrong, then HLT",
		       id, w[id].exits, PORT(id), w[id].wrong);
		khv_get_regs(&m.vcpu[id], &regs);
		tap_ok(slot[0] == want_sum[id] && slot[1] == iters - 1 &&
		       (uint32_t)regs.rcx == iters && (uint32_t)regs.rbx == TAG(id) &&
		       regs.rip == KHV_MODES_CODE + KHV_GUEST_SIZE(tv_guest),
		       "vCPU %d: its IN data summed to 0x%x (want 0x%x), last i %u, ecx %llu, rip 0x%llx",
		       id, slot[0], want_sum[id], slot[1], regs.rcx, regs.rip);
	}
	tap_ok(*(uint32_t *)khv_gpa(&m, SHARED) == 2 * iters,
	       "the counter both incremented with lock inc: %u (want %u)",
	       *(uint32_t *)khv_gpa(&m, SHARED), 2 * iters);
	khv_vm_destroy(&m);
}

static void same_vcpu(void)
{
	struct worker w[2];
	struct khv_vm m;
	struct kvm_regs regs;
	uint64_t val = 0;
	bool ok;

	khv_vm_create(&m, KHV_MODE_PROT32, tv_spin, KHV_GUEST_SIZE(tv_spin));
	khv_vm_add_vcpu(&m);
	memset(w, 0, sizeof(w));
	w[0].v = w[1].v = &m.vcpu[0];
	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i].thread, NULL, same_vcpu_thread, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i].thread, NULL);
	pthread_barrier_destroy(&barrier);
	tap_diag("thread 0 ran %.3f-%.3f s, thread 1 %.3f-%.3f s", 0.0, w[0].end - w[0].start,
		 w[1].start - w[0].start, w[1].end - w[0].start);
	tap_ok(w[0].zero_rc == calls && w[1].zero_rc == calls,
	       "KVM_RUN on one vCPU from two threads at once: %u + %u of %u + %u calls returned 0",
	       w[0].zero_rc, w[1].zero_rc, calls, calls);
	ok = khv_expect_out(&m.vcpu[0], 0x30, 4, &val);
	khv_get_regs(&m.vcpu[0], &regs);
	tap_ok(ok && val == 2 * calls && *(uint32_t *)khv_gpa(&m, COUNTER) == 2 * calls &&
	       (uint32_t)regs.rcx == 2 * calls,
	       "each call ran the guest to exactly one OUT: the next one sends %llu "
	       "(want %u), guest count %u, ecx %llu", (unsigned long long)val, 2 * calls,
	       *(uint32_t *)khv_gpa(&m, COUNTER), regs.rcx);
	khv_vm_destroy(&m);
}

int main(void)
{
	const char *lane = khv_lane();

	/* Bochs (vmx) is slow, the debug kernel too. */
	iters = !strcmp(lane, "vmx") ? 1000 : !strcmp(lane, "debug") ? 2000 : 5000;
	calls = !strcmp(lane, "vmx") ? 100 : 200;
	tap_plan(7);
	two_vcpus();
	same_vcpu();
	return tap_finish();
}
