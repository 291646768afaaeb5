// SPDX-License-Identifier: GPL-2.0-only
/*
 * Machine checks, as QEMU drives them without an in-kernel irqchip:
 * KVM_CAP_MCE, KVM_X86_GET_MCE_CAP_SUPPORTED, KVM_X86_SETUP_MCE's checks,
 * the MCG and MCi MSRs through KVM_GET/SET_MSRS (the return count says
 * which were refused) and from the guest, and KVM_X86_SET_MCE: its checks,
 * how errors are logged in a bank (overflow, uncorrected-no-action, banks
 * whose reporting is off), and what an uncorrected error does to a
 * real-mode guest - #MC through the IVT with CR4.MCE set, a shutdown with
 * CR4.MCE clear or a machine check already in progress.
 *
 * kvm-amd and kvm-intel differ in the MCG_CAP flags they support, what
 * KVM_X86_SETUP_MCE keeps of MCG_CAP, and MCG_EXT_CTL (kvm-intel only):
 * the CPU says which one this is.
 */
#include <cpuid.h>
#include <linux/kvm.h>
#include <unistd.h>

#include "lib/khv_test.h"

#define MSR_P5_MC_ADDR		0x0
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_MCG_EXT_CTL		0x4d0
#define MSR_MC_CTL(i)		(0x400 + 4 * (i))
#define MSR_MC_STATUS(i)	(0x401 + 4 * (i))
#define MSR_MC_ADDR(i)		(0x402 + 4 * (i))
#define MSR_MC_MISC(i)		(0x403 + 4 * (i))
#define MSR_MC_CTL2(i)		(0x280 + (i))

#define MCG_CTL_P		(1ULL << 8)
#define MCG_EXT_P		(1ULL << 9)
#define MCG_CMCI_P		(1ULL << 10)
#define MCG_SER_P		(1ULL << 24)
#define MCG_LMCE_P		(1ULL << 27)
#define MCG_STATUS_RIPV		(1ULL << 0)
#define MCG_STATUS_EIPV		(1ULL << 1)
#define MCG_STATUS_MCIP		(1ULL << 2)
#define MCI_STATUS_VAL		(1ULL << 63)
#define MCI_STATUS_OVER		(1ULL << 62)
#define MCI_STATUS_UC		(1ULL << 61)
#define MCI_STATUS_EN		(1ULL << 60)
#define MCI_STATUS_MISCV	(1ULL << 59)
#define MCI_STATUS_ADDRV	(1ULL << 58)
#define MCI_STATUS_PCC		(1ULL << 57)
#define MCI_STATUS_S		(1ULL << 56)
#define MCI_STATUS_AR		(1ULL << 55)
#define MCI_CTL2_CMCI_EN	(1ULL << 30)

#define ALL_ONES		(~0ULL)
/* A corrected error, an uncorrected one that needs #MC, a UCNA one. */
#define CE(code)	(MCI_STATUS_VAL | MCI_STATUS_EN | (code))
#define UC(code)	(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | \
			 MCI_STATUS_S | MCI_STATUS_AR | MCI_STATUS_ADDRV | \
			 MCI_STATUS_MISCV | (code))
#define UCNA(code)	(MCI_STATUS_VAL | MCI_STATUS_UC | MCI_STATUS_EN | (code))

struct msrs { struct kvm_msrs h; struct kvm_msr_entry e[16]; };

static bool vmx;	/* kvm-intel / khv-vmx rather than kvm-amd / khv-svm */

/* KVM_GET_MSRS of n MSRs; returns how many were read. */
static long getn(int vcpu, const uint32_t *idx, uint64_t *data, unsigned int n)
{
	struct msrs m;
	unsigned int i;
	long r;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = n;
	for (i = 0; i < n; i++)
		m.e[i].index = idx[i];
	r = khv_ioctl_p(vcpu, KVM_GET_MSRS, &m);
	for (i = 0; i < n; i++)
		data[i] = m.e[i].data;
	return r;
}

/* The value of one MSR; a diagnostic and a value no test expects if absent. */
static uint64_t rd(int vcpu, uint32_t index)
{
	uint64_t v;

	if (getn(vcpu, &index, &v, 1) != 1) {
		tap_diag("KVM_GET_MSRS of 0x%x failed", index);
		return 0xbad0bad0bad0bad0ULL;
	}
	return v;
}

static long set1(int vcpu, uint32_t index, uint64_t data)
{
	struct msrs m = { .h.nmsrs = 1, .e[0] = { .index = index, .data = data } };

	return khv_ioctl_p(vcpu, KVM_SET_MSRS, &m);
}

static long setup_mce(int vcpu, uint64_t cap)
{
	return khv_ioctl_p(vcpu, KVM_X86_SETUP_MCE, &cap);
}

static long set_mce(int vcpu, uint8_t bank, uint64_t status, uint64_t mcg_status,
		    uint64_t addr, uint64_t misc)
{
	struct kvm_x86_mce mce = {
		.status = status, .addr = addr, .misc = misc,
		.mcg_status = mcg_status, .bank = bank,
	};

	return khv_ioctl_p(vcpu, KVM_X86_SET_MCE, &mce);
}

/*
 * KVM_RUN once. Returns the port of an I/O exit (its data, up to 4 bytes,
 * in *val), or -1 and a name for any other end, in *what.
 */
static int run_to(struct khv_guest *g, uint32_t *val, const char **what)
{
	long r = khv_guest_run(g);

	*val = 0;
	*what = r ? "KVM_RUN error" : khv_exit_name(g->run->exit_reason);
	if (r || g->run->exit_reason != KVM_EXIT_IO)
		return -1;
	memcpy(val, (char *)g->run + g->run->io.data_offset,
	       g->run->io.size < 4 ? g->run->io.size : 4);
	return g->run->io.port;
}

static bool run_io(struct khv_guest *g, int port, uint32_t *val)
{
	const char *what;
	int p = run_to(g, val, &what);

	if (p != port)
		tap_diag("  expected OUT to 0x%x, got %s port 0x%x", port,
			 what, p < 0 ? 0 : p);
	return p == port;
}

static bool run_exit(struct khv_guest *g, uint32_t reason)
{
	long r = khv_guest_run(g);

	if (r || g->run->exit_reason != reason)
		tap_diag("  KVM_RUN %ld, exit %s (port 0x%x), want %s", r,
			 khv_exit_name(g->run->exit_reason),
			 g->run->exit_reason == KVM_EXIT_IO ? g->run->io.port : 0,
			 khv_exit_name(reason));
	return !r && g->run->exit_reason == reason;
}

static void set_ivt(struct khv_guest *g, unsigned int vec, uint16_t ip)
{
	g->mem[vec * 4] = ip & 0xff;
	g->mem[vec * 4 + 1] = ip >> 8;
	g->mem[vec * 4 + 2] = 0;
	g->mem[vec * 4 + 3] = 0;
}

static long set_cr4(struct khv_guest *g, uint64_t cr4)
{
	struct kvm_sregs s;

	if (khv_ioctl_p(g->vcpu, KVM_GET_SREGS, &s))
		tap_bail("KVM_GET_SREGS");
	s.cr4 = cr4;
	return khv_ioctl_p(g->vcpu, KVM_SET_SREGS, &s);
}

/* Capabilities, the MSR list, KVM_X86_SETUP_MCE and the MSRs from user space. */
static void test_host(void)
{
	static const uint8_t code[] = {
		0xe6, 0x40,		/* out %al, $0x40 */
		0xf4,			/* hlt */
	};
	uint64_t want_cap = MCG_CTL_P | MCG_SER_P, cap = 0, v[8];
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + 1024 * sizeof(uint32_t));
	bool has_status = false, has_ctl = false, has_ext = false, has_other = false;
	struct khv_guest g;
	unsigned int i;
	uint32_t val;
	long r;

	if (vmx)
		want_cap |= MCG_LMCE_P | MCG_CMCI_P;
	khv_guest_create(&g, code, sizeof(code));

	EXPECT_EQ(khv_ioctl(g.dev, KVM_CHECK_EXTENSION, KVM_CAP_MCE), 32,
		  "KVM_CAP_MCE on the device: 32 banks");
	EXPECT_EQ(khv_ioctl(g.vm, KVM_CHECK_EXTENSION, KVM_CAP_MCE), 32,
		  "KVM_CAP_MCE on the VM: 32 banks");
	r = khv_ioctl_p(g.dev, KVM_X86_GET_MCE_CAP_SUPPORTED, &cap);
	tap_ok(r == 0 && cap == want_cap,
	       "KVM_X86_GET_MCE_CAP_SUPPORTED: 0x%llx (%ld), want 0x%llx (%s)",
	       (unsigned long long)cap, r, (unsigned long long)want_cap,
	       vmx ? "VMX" : "SVM");

	list->nmsrs = 1024;
	r = khv_ioctl_p(g.dev, KVM_GET_MSR_INDEX_LIST, list);
	for (i = 0; r == 0 && i < list->nmsrs; i++) {
		uint32_t x = list->indices[i];

		has_status |= x == MSR_MCG_STATUS;
		has_ctl |= x == MSR_MCG_CTL;
		has_ext |= x == MSR_MCG_EXT_CTL;
		has_other |= x == MSR_MCG_CAP || x == MSR_P5_MC_ADDR ||
			     (x >= MSR_MC_CTL(0) && x < MSR_MC_CTL(32)) ||
			     (x >= MSR_MC_CTL2(0) && x < MSR_MC_CTL2(32));
	}
	tap_ok(r == 0 && has_status && has_ctl && has_ext == vmx && !has_other,
	       "MSR index list: MCG_STATUS %d, MCG_CTL %d, MCG_EXT_CTL %d (want %d), "
	       "MCG_CAP/banks %d", has_status, has_ctl, has_ext, vmx, has_other);
	free(list);

	/* A new vCPU: 32 banks, no MCG_CTL_P, every MCi_CTL 0. */
	EXPECT_EQ(rd(g.vcpu, MSR_MCG_CAP), 32, "a new vCPU's MCG_CAP: 32 banks, no flags");
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_CTL(0), MSR_MC_MISC(31), MSR_MCG_CTL,
				       MSR_P5_MC_ADDR }, v, 4);
	tap_ok(r == 4 && !v[0] && !v[1] && !v[2] && !v[3],
	       "... MC0_CTL, MC31_MISC, MCG_CTL (for user space), P5_MC_ADDR read 0 "
	       "(%ld: 0x%llx 0x%llx 0x%llx 0x%llx)", r, (unsigned long long)v[0],
	       (unsigned long long)v[1], (unsigned long long)v[2],
	       (unsigned long long)v[3]);

	EXPECT_EQ(setup_mce(g.vcpu, 0 | MCG_CTL_P), -EINVAL, "KVM_X86_SETUP_MCE: 0 banks: EINVAL");
	EXPECT_EQ(setup_mce(g.vcpu, 33), -EINVAL, "... 33 banks: EINVAL");
	EXPECT_EQ(setup_mce(g.vcpu, 10 | MCG_EXT_P), -EINVAL,
		  "... MCG_EXT_P (not supported): EINVAL");
	EXPECT_EQ(setup_mce(g.vcpu, 10 | (1ULL << 40)), -EINVAL, "... bit 40: EINVAL");
	EXPECT_EQ(rd(g.vcpu, MSR_MCG_CAP), 32, "... and MCG_CAP is unchanged");
	EXPECT_EQ(setup_mce(g.vcpu, 10 | MCG_CTL_P | MCG_SER_P), 0,
		  "KVM_X86_SETUP_MCE: 10 banks, MCG_CTL_P, MCG_SER_P");
	/* kvm-amd keeps bits 8:0 of MCG_CAP only. */
	cap = rd(g.vcpu, MSR_MCG_CAP);
	tap_ok(cap == (10 | MCG_CTL_P | (vmx ? MCG_SER_P : 0)),
	       "... MCG_CAP reads 0x%llx (%s)", (unsigned long long)cap,
	       vmx ? "as set" : "MCG_SER_P dropped on SVM");
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_CTL(0), MSR_MC_CTL(9), MSR_MCG_CTL }, v, 3);
	tap_ok(r == 3 && v[0] == ALL_ONES && v[1] == ALL_ONES && v[2] == ALL_ONES,
	       "... MC0_CTL, MC9_CTL and MCG_CTL are all ones (%ld)", r);
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_CTL(10) }, v, 1);
	EXPECT_EQ(r, 0, "... MC10_CTL does not exist");

	/* Writes from user space. */
	{
		struct msrs m = { .h.nmsrs = 8 };
		static const struct kvm_msr_entry w[8] = {
			{ .index = MSR_MC_CTL(1), .data = 0 },
			{ .index = MSR_MC_CTL(1), .data = ALL_ONES },
			{ .index = MSR_MC_CTL(2), .data = ALL_ONES & ~(1ULL << 10) },
			{ .index = MSR_MC_CTL(3), .data = ALL_ONES & ~1ULL },
			{ .index = MSR_MC_STATUS(1), .data = 0x8000000000001234ULL },
			{ .index = MSR_MC_ADDR(1), .data = 0xabcd000 },
			{ .index = MSR_MC_MISC(1), .data = 0x86 },
			{ .index = MSR_MCG_CTL, .data = 0 },
		};

		memcpy(m.e, w, sizeof(w));
		EXPECT_EQ(khv_ioctl_p(g.vcpu, KVM_SET_MSRS, &m), 8,
			  "KVM_SET_MSRS: MCi_CTL 0, all ones, all ones but bit 10 or bit 0; "
			  "MCi_STATUS/ADDR/MISC; MCG_CTL 0");
		r = getn(g.vcpu, (uint32_t[]){ MSR_MC_CTL(1), MSR_MC_CTL(2), MSR_MC_CTL(3),
					       MSR_MC_STATUS(1), MSR_MC_ADDR(1),
					       MSR_MC_MISC(1), MSR_MCG_CTL }, v, 7);
		tap_ok(r == 7 && v[0] == ALL_ONES && v[1] == w[2].data &&
		       v[2] == w[3].data && v[3] == w[4].data && v[4] == w[5].data &&
		       v[5] == w[6].data && v[6] == 0,
		       "... they read back (%ld)", r);
	}
	EXPECT_EQ(set1(g.vcpu, MSR_MC_CTL(1), 0x1234), 0, "MCi_CTL 0x1234 is refused");
	EXPECT_EQ(set1(g.vcpu, MSR_MC_CTL(1), ALL_ONES & ~2ULL), 0,
		  "MCi_CTL all ones but bit 1 is refused");
	EXPECT_EQ(set1(g.vcpu, MSR_MCG_CTL, 5), 0, "MCG_CTL 5 is refused");
	EXPECT_EQ(set1(g.vcpu, MSR_MCG_CAP, 10 | MCG_CTL_P), 0,
		  "MCG_CAP is read-only, for user space too");
	EXPECT_EQ(set1(g.vcpu, MSR_MC_STATUS(10), 0), 0, "MC10_STATUS (10 banks) is refused");
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_CTL2(0) }, v, 1);
	tap_ok(r == 1 && v[0] == 0 && set1(g.vcpu, MSR_MC_CTL2(0), 0) == 1 &&
	       set1(g.vcpu, MSR_MC_CTL2(0), MCI_CTL2_CMCI_EN) == 0,
	       "MC0_CTL2 without MCG_CMCI_P: user space reads 0, writes only 0");
	if (vmx) {
		tap_ok(getn(g.vcpu, (uint32_t[]){ MSR_MCG_EXT_CTL }, v, 1) == 1 &&
		       set1(g.vcpu, MSR_MCG_EXT_CTL, 1) == 1 &&
		       set1(g.vcpu, MSR_MCG_EXT_CTL, 2) == 0 &&
		       rd(g.vcpu, MSR_MCG_EXT_CTL) == 1,
		       "VMX: MCG_EXT_CTL takes LMCE_EN (bit 0) only");
	} else {
		EXPECT_EQ(getn(g.vcpu, (uint32_t[]){ MSR_MCG_EXT_CTL }, v, 1), 0,
			  "SVM: no MCG_EXT_CTL");
	}
	r = set1(g.vcpu, MSR_MCG_CTL, ALL_ONES) + set1(g.vcpu, MSR_MC_STATUS(1), 0);
	if (r != 2)
		tap_bail("cannot restore MCG_CTL / MC1_STATUS");

	/* KVM_X86_SET_MCE */
	EXPECT_EQ(set_mce(g.vcpu, 10, CE(1), 0, 0, 0), -EINVAL,
		  "KVM_X86_SET_MCE: bank 10 (of 10): EINVAL");
	EXPECT_EQ(set_mce(g.vcpu, 0, CE(1) & ~MCI_STATUS_VAL, 0, 0, 0), -EINVAL,
		  "... without MCI_STATUS_VAL: EINVAL");

	r = set_mce(g.vcpu, 3, CE(0x11), 0, 0xa1, 0xb1);
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_STATUS(3), MSR_MC_ADDR(3), MSR_MC_MISC(3) },
		 v, 3) == 3 ? r : -1000;
	tap_ok(r == 0 && v[0] == CE(0x11) && v[1] == 0xa1 && v[2] == 0xb1,
	       "a corrected error is logged in its bank (%ld: 0x%llx)", r,
	       (unsigned long long)v[0]);
	r = set_mce(g.vcpu, 3, CE(0x22), 0, 0xa2, 0xb2);
	r = getn(g.vcpu, (uint32_t[]){ MSR_MC_STATUS(3), MSR_MC_ADDR(3), MSR_MC_MISC(3) },
		 v, 3) == 3 ? r : -1000;
	tap_ok(r == 0 && v[0] == (CE(0x22) | MCI_STATUS_OVER) && v[1] == 0xa2 && v[2] == 0xb2,
	       "a second one replaces it, with MCI_STATUS_OVER (%ld: 0x%llx)", r,
	       (unsigned long long)v[0]);

	set1(g.vcpu, MSR_MCG_STATUS, MCG_STATUS_RIPV);
	r = set_mce(g.vcpu, 4, UCNA(0x33), 0, 0xa3, 0xb3);
	tap_ok(r == 0 && rd(g.vcpu, MSR_MC_STATUS(4)) == UCNA(0x33) &&
	       rd(g.vcpu, MSR_MCG_STATUS) == 0,
	       "an uncorrected no-action error is logged, MCG_STATUS becomes 0 (%ld)", r);
	r = set_mce(g.vcpu, 4, CE(0x44), 0, 0xa4, 0xb4);
	tap_ok(r == 0 && rd(g.vcpu, MSR_MC_STATUS(4)) == (UCNA(0x33) | MCI_STATUS_OVER) &&
	       rd(g.vcpu, MSR_MC_ADDR(4)) == 0xa3,
	       "a corrected error does not replace an uncorrected one: only OVER is set");

	set1(g.vcpu, MSR_MC_CTL(5), 0);
	r = set_mce(g.vcpu, 5, UC(0x55), MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0xa5, 0);
	tap_ok(r == 0 && rd(g.vcpu, MSR_MC_STATUS(5)) == 0,
	       "an uncorrected error in a bank with MCi_CTL 0 is dropped (%ld)", r);
	set1(g.vcpu, MSR_MCG_CTL, 0);
	r = set_mce(g.vcpu, 6, UC(0x66), MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0xa6, 0);
	tap_ok(r == 0 && rd(g.vcpu, MSR_MC_STATUS(6)) == 0,
	       "... and with MCG_CTL 0 (%ld)", r);
	set1(g.vcpu, MSR_MCG_CTL, ALL_ONES);
	tap_ok(run_io(&g, 0x40, &val), "none of these stops the guest");

	/* CR4.MCE is clear (reset state): an uncorrected error shuts down. */
	EXPECT_EQ(set_mce(g.vcpu, 0, UC(0x77), MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0xa7, 0), 0,
		  "KVM_X86_SET_MCE: uncorrected error with CR4.MCE clear");
	tap_ok(run_exit(&g, KVM_EXIT_SHUTDOWN), "... KVM_EXIT_SHUTDOWN");
	EXPECT_EQ(rd(g.vcpu, MSR_MC_STATUS(0)), 0, "... and the bank is unchanged");
	khv_guest_destroy(&g);
}

/*
 * The guest writes MC0_STATUS: only 0, unless the vCPU's CPUID says AMD and
 * HWCR.McStatusWrEn is set. Its #GP handler skips the WRMSR and says 0x44.
 */
static const uint8_t wr_code[] = {
	0x66, 0xb9, 0x01, 0x04, 0x00, 0x00,	/* mov $0x401, %ecx (MC0_STATUS) */
	0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,	/* mov $1, %eax */
	0x66, 0x31, 0xd2,			/* xor %edx, %edx */
	0x0f, 0x30,				/* wrmsr: #GP, HWCR is 0 */
	0xe6, 0x40,				/* out %al, $0x40 */
	0x66, 0xb9, 0x15, 0x00, 0x01, 0xc0,	/* mov $0xc0010015, %ecx (HWCR) */
	0x66, 0xb8, 0x00, 0x00, 0x04, 0x00,	/* mov $0x40000, %eax */
	0x0f, 0x30,				/* wrmsr: McStatusWrEn */
	0x66, 0xb9, 0x01, 0x04, 0x00, 0x00,	/* mov $0x401, %ecx */
	0x66, 0xb8, 0x02, 0x00, 0x00, 0x00,	/* mov $2, %eax */
	0x0f, 0x30,				/* wrmsr: AMD only */
	0xe6, 0x41,				/* out %al, $0x41 */
	0x66, 0x31, 0xc0,			/* xor %eax, %eax */
	0x0f, 0x30,				/* wrmsr: clearing is allowed */
	0xe6, 0x42,				/* out %al, $0x42 */
	0x66, 0xb9, 0x79, 0x01, 0x00, 0x00,	/* mov $0x179, %ecx (MCG_CAP) */
	0x0f, 0x30,				/* wrmsr: #GP, read-only */
	0xf4,					/* hlt */
	/* 0x41: #GP handler */
	0x55,					/* push %bp */
	0x89, 0xe5,				/* mov %sp, %bp */
	0x83, 0x46, 0x02, 0x02,			/* addw $2, 2(%bp): past the wrmsr */
	0x5d,					/* pop %bp */
	0xe6, 0x44,				/* out %al, $0x44 */
	0xcf,					/* iret */
};
#define WR_GP_HANDLER	0x41

static void test_guest_writes(bool amd)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[1];
	} cpuid = {
		.h.nent = 1,
		/* "AuthenticAMD" */
		.e[0] = { .function = 0, .eax = 1, .ebx = 0x68747541,
			  .edx = 0x69746e65, .ecx = 0x444d4163 },
	};
	const char *want = amd ? "44 40 41 42 44 HLT" : "44 40 44 41 42 44 HLT";
	char seq[64] = "";
	uint64_t at41 = 0, at42 = 1;
	struct khv_guest g;
	unsigned int n;

	khv_guest_create(&g, wr_code, sizeof(wr_code));
	set_ivt(&g, 13, KHV_GUEST_CODE + WR_GP_HANDLER);
	if (amd && khv_ioctl_p(g.vcpu, KVM_SET_CPUID2, &cpuid))
		tap_bail("KVM_SET_CPUID2");
	if (set1(g.vcpu, MSR_MC_STATUS(0), 0x77) != 1)
		tap_bail("KVM_SET_MSRS MC0_STATUS");
	for (n = 0; n < 10; n++) {
		const char *what;
		uint32_t val;
		int p = run_to(&g, &val, &what);
		size_t len = strlen(seq);

		if (p < 0) {
			snprintf(seq + len, sizeof(seq) - len, "%s%s", len ? " " : "", what);
			break;
		}
		snprintf(seq + len, sizeof(seq) - len, "%s%x", len ? " " : "", p);
		if (p == 0x41)
			at41 = rd(g.vcpu, MSR_MC_STATUS(0));
		if (p == 0x42)
			at42 = rd(g.vcpu, MSR_MC_STATUS(0));
	}
	tap_ok(!strcmp(seq, want), "%s guest: WRMSR #GPs: %s (want %s)",
	       amd ? "AMD" : "non-AMD", seq, want);
	tap_ok(at41 == (amd ? 2 : 0x77) && at42 == 0,
	       "... MC0_STATUS after the non-zero write 0x%llx, after writing 0: 0x%llx",
	       (unsigned long long)at41, (unsigned long long)at42);
	khv_guest_destroy(&g);
}

/*
 * CR4.MCE set: the guest reads a corrected error's MC1_STATUS, then takes
 * #MC (IVT[18]) for an uncorrected error and reports MC0_STATUS and
 * MCG_STATUS from its handler, which then clears MCG_STATUS.MCIP.
 */
static const uint8_t mc_code[] = {
	0xe6, 0x40,				/* out %al, $0x40 */
	0x66, 0xb9, 0x05, 0x04, 0x00, 0x00,	/* mov $0x405, %ecx (MC1_STATUS) */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0xe7, 0x41,			/* out %eax, $0x41 */
	0x66, 0x89, 0xd0,			/* mov %edx, %eax */
	0x66, 0xe7, 0x41,			/* out %eax, $0x41 */
	0xe6, 0x40,				/* out %al, $0x40 */
	0xf4,					/* 1: hlt */
	0xeb, 0xfd,				/* jmp 1b */
	/* 0x18: #MC handler */
	0x66, 0xb9, 0x01, 0x04, 0x00, 0x00,	/* mov $0x401, %ecx (MC0_STATUS) */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0xe7, 0x42,			/* out %eax, $0x42 */
	0x66, 0x89, 0xd0,			/* mov %edx, %eax */
	0x66, 0xe7, 0x42,			/* out %eax, $0x42 */
	0x66, 0xb9, 0x7a, 0x01, 0x00, 0x00,	/* mov $0x17a, %ecx (MCG_STATUS) */
	0x0f, 0x32,				/* rdmsr */
	0x66, 0xe7, 0x43,			/* out %eax, $0x43 */
	0x66, 0x31, 0xc0,			/* xor %eax, %eax */
	0x66, 0x31, 0xd2,			/* xor %edx, %edx */
	0x0f, 0x30,				/* wrmsr: MCG_STATUS = 0 */
	0xf4,					/* 2: hlt */
	0xeb, 0xfd,				/* jmp 2b */
};
#define MC_HANDLER	0x18

/* Run into the #MC handler: the MC0_STATUS and MCG_STATUS it reports, then HLT. */
static bool run_mc_handler(struct khv_guest *g, uint64_t *status, uint32_t *mcg)
{
	uint32_t lo = 0, hi = 0;
	bool ok = run_io(g, 0x42, &lo) && run_io(g, 0x42, &hi) &&
		  run_io(g, 0x43, mcg) && run_exit(g, KVM_EXIT_HLT);

	*status = (uint64_t)hi << 32 | lo;
	return ok;
}

static void test_guest_mc(void)
{
	const uint64_t uc1 = UC(0x0150), uc2 = UC(0x0151), uc3 = UC(0x0152);
	struct khv_guest g;
	uint32_t lo = 0, hi = 0, mcg = 0;
	uint64_t st = 0;
	bool ok;
	long r;

	khv_guest_create(&g, mc_code, sizeof(mc_code));
	set_ivt(&g, 18, KHV_GUEST_CODE + MC_HANDLER);
	r = setup_mce(g.vcpu, 10 | MCG_CTL_P);
	tap_ok(r == 0 && set_cr4(&g, 0x40) == 0,
	       "guest with 10 banks and CR4.MCE set (KVM_SET_SREGS)");
	tap_ok(run_io(&g, 0x40, &lo), "the guest runs");

	/* (Each check is done before tap_ok() prints what it found.) */
	r = set_mce(g.vcpu, 1, CE(0x0c1), 0, 0x1000, 0);
	ok = r == 0 && run_io(&g, 0x41, &lo) && run_io(&g, 0x41, &hi) &&
	     ((uint64_t)hi << 32 | lo) == CE(0x0c1);
	tap_ok(ok, "a corrected error: no #MC, the guest's RDMSR of MC1_STATUS reads it "
	       "(0x%08x%08x)", hi, lo);
	tap_ok(run_io(&g, 0x40, &lo), "... and the guest goes on");

	r = set_mce(g.vcpu, 0, uc1, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0x2000, 0x86);
	EXPECT_EQ(r, 0, "KVM_X86_SET_MCE: uncorrected error, CR4.MCE set");
	ok = run_mc_handler(&g, &st, &mcg) && st == uc1;
	tap_ok(ok, "the guest takes #MC (vector 18 through the IVT), RDMSR of MC0_STATUS "
	       "shows the error (0x%llx)", (unsigned long long)st);
	EXPECT_EQ(mcg, MCG_STATUS_MCIP | MCG_STATUS_EIPV,
		  "... and MCG_STATUS is the one KVM_X86_SET_MCE gave");

	/* MCIP clear again (the handler wrote 0): a second #MC, with OVER. */
	r = set_mce(g.vcpu, 0, uc2, MCG_STATUS_MCIP | MCG_STATUS_RIPV, 0x3000, 0);
	ok = r == 0 && run_mc_handler(&g, &st, &mcg) && st == (uc2 | MCI_STATUS_OVER) &&
	     mcg == (MCG_STATUS_MCIP | MCG_STATUS_RIPV);
	tap_ok(ok, "a second uncorrected error in the same bank: #MC, MCI_STATUS_OVER "
	       "(0x%llx, MCG_STATUS 0x%x)", (unsigned long long)st, mcg);

	/* One while MCG_STATUS.MCIP is set: shutdown, the bank untouched. */
	set1(g.vcpu, MSR_MCG_STATUS, MCG_STATUS_MCIP);
	r = set_mce(g.vcpu, 0, uc3, MCG_STATUS_MCIP | MCG_STATUS_EIPV, 0x4000, 0);
	tap_ok(r == 0 && run_exit(&g, KVM_EXIT_SHUTDOWN),
	       "an uncorrected error while MCG_STATUS.MCIP is set: KVM_EXIT_SHUTDOWN");
	EXPECT_EQ(rd(g.vcpu, MSR_MC_STATUS(0)), uc2 | MCI_STATUS_OVER,
		  "... and MC0_STATUS is unchanged");
	khv_guest_destroy(&g);
}

int main(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid(1, &a, &b, &c, &d))
		vmx = c & (1u << 5);
	tap_plan(50);
	tap_diag("CPU with %s", vmx ? "VMX" : "SVM");
	test_host();
	test_guest_writes(false);
	test_guest_writes(true);
	test_guest_mc();
	return tap_finish();
}
