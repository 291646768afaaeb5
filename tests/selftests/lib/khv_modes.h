/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * khv selftest library: guests in protected mode and long mode.
 *
 * The host builds everything a guest needs in guest memory and enters the
 * mode directly with KVM_SET_SREGS (as a boot loader would have left it):
 *
 *   - one memslot (slot 0) of KHV_MODES_MEM bytes at guest-physical 0;
 *   - a flat GDT (KHV_SEL_*), a TSS, and a 32-bit and a 64-bit IDT whose 256
 *     gates point at handler stubs that report the exception (below);
 *   - page tables for the mode, identity-mapping all of RAM (4 KiB pages;
 *     4 MiB pages with PSE). khv_pt_map() adds more mappings;
 *   - the guest code, copied to KHV_MODES_CODE, where RIP starts;
 *   - vCPUs (khv_vm_add_vcpu(), after the mappings) with the CPUID of
 *     KVM_GET_SUPPORTED_CPUID, in the mode. KHV_MODE_REAL leaves them in
 *     the reset state at CS:IP = 0x1000:0 with no page tables: such a guest
 *     loads the GDT/IDTs (KHV_MODES_GDTR...) and its own tables itself.
 *
 * Memory layout (guest-physical; identity-mapped when paging is on):
 *
 *   0x01000  GDT, then at KHV_MODES_GDTR/IDTR32/IDTR64 the pseudo-descriptors
 *            (limit, base) a guest can give to lgdt/lidt itself
 *   0x02000  64-bit IDT (256 16-byte gates)
 *   0x03000  32-bit IDT (256 8-byte gates)
 *   0x04000  64-bit handler stubs, 0x06000 32-bit ones
 *   0x08000  exception record (struct khv_exc)
 *   0x09000  TSS
 *   0x10000  guest code (64 KiB)
 *   0x20000  page-table pool (128 KiB)
 *   0x40000  free for the test (KHV_MODES_DATA)
 *   0x80000  stacks: vCPU i starts with RSP = KHV_MODES_STACK - i * 0x4000
 *
 * Exceptions: every vector's handler stores the vector, the error code (0
 * for vectors without one), the faulting RIP and CR2 in the exception record,
 * counts it, and reports the vector with "out %eax, $KHV_PORT_EXC". Then, if
 * the guest stored an address in the record's resume field beforehand, the
 * handler clears that field and returns there (iret with the saved RIP
 * replaced), else it halts for good (KVM_EXIT_HLT on every later KVM_RUN).
 * The record is shared: only one vCPU should take exceptions at a time.
 *
 * Guest code is written in assembly inside the test, between
 * KHV_GUEST_BEGIN(name, bits) and KHV_GUEST_END(name); it is copied to
 * KHV_MODES_CODE, so an absolute address of a label L in it is
 * KHV_MODES_CODE + (L - name): write it as KHV_GVA(name, L) in the asm.
 */
#ifndef KHV_MODES_H
#define KHV_MODES_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "khv_test.h"

#define KHV_STR_(x)		#x
#define KHV_STR(x)		KHV_STR_(x)

/* Guest-physical layout (plain numbers: they are used in asm too). */
#define KHV_MODES_MEM		0x400000
#define KHV_MODES_GDT		0x1000
#define KHV_MODES_GDTR		0x1800
#define KHV_MODES_IDTR32	0x1810
#define KHV_MODES_IDTR64	0x1820
#define KHV_MODES_IDT64		0x2000
#define KHV_MODES_IDT32		0x3000
#define KHV_MODES_STUBS64	0x4000
#define KHV_MODES_STUBS32	0x6000
#define KHV_MODES_EXC		0x8000
#define KHV_MODES_TSS		0x9000
#define KHV_MODES_CODE		0x10000
#define KHV_MODES_PT		0x20000
#define KHV_MODES_PT_END	0x40000
#define KHV_MODES_DATA		0x40000
#define KHV_MODES_STACK		0x80000

/* The exception record's fields (guest-physical addresses, 8 bytes each). */
#define KHV_EXC_VECTOR		0x8000
#define KHV_EXC_ERROR		0x8008
#define KHV_EXC_RIP		0x8010
#define KHV_EXC_CR2		0x8018
#define KHV_EXC_COUNT		0x8020
#define KHV_EXC_RESUME		0x8028
#define KHV_PORT_EXC		0xe0

/* GDT selectors. */
#define KHV_SEL_CODE64		0x08
#define KHV_SEL_DATA		0x10
#define KHV_SEL_CODE32		0x18
#define KHV_SEL_CODE16		0x20	/* base 0, limit 0xffff */
#define KHV_SEL_TSS		0x28	/* 16 bytes: 0x28 and 0x30 */
#define KHV_SEL_DATA16		0x38	/* base 0, limit 0xffff */

/* Guest code: see the top of this file. */
#define KHV_GUEST_BEGIN(name, bits)					\
	".pushsection .rodata.khv_guest, \"a\"\n"			\
	".balign 16\n"							\
	".globl " #name "\n" #name ":\n"				\
	".code" #bits "\n"
#define KHV_GUEST_END(name)						\
	".code64\n"							\
	".globl " #name "_end\n" #name "_end:\n"			\
	".popsection\n"
#define KHV_GVA(name, label)						\
	"(" KHV_STR(KHV_MODES_CODE) " + (" #label " - " #name "))"
#define KHV_GUEST_DECLARE(name)						\
	extern const uint8_t name[], name##_end[]
#define KHV_GUEST_SIZE(name)	((size_t)(name##_end - name))

enum khv_mode {
	KHV_MODE_REAL,		/* reset state, but CS:IP = 0x1000:0 (the code) */
	KHV_MODE_PROT32,	/* 32-bit protected mode, no paging */
	KHV_MODE_PROT32_PG,	/* 2-level paging, 4 KiB pages */
	KHV_MODE_PROT32_PSE,	/* 2-level paging, CR4.PSE, RAM in 4 MiB pages */
	KHV_MODE_PROT32_PAE,	/* PAE paging (3 levels), 4 KiB pages */
	KHV_MODE_LONG,		/* IA-32e, 4-level paging, 64-bit CS */
};
const char *khv_mode_name(enum khv_mode mode);

/* Page-table formats, and the page sizes khv_pt_map() takes. */
enum khv_paging { KHV_PG_NONE, KHV_PG_32, KHV_PG_PAE, KHV_PG_4L };
#define KHV_PAGE_4K		0x1000ULL
#define KHV_PAGE_2M		0x200000ULL	/* PAE, 4-level */
#define KHV_PAGE_4M		0x400000ULL	/* 2-level with CR4.PSE */
#define KHV_PAGE_1G		0x40000000ULL	/* 4-level */

/* Page-table entry bits. */
#define KHV_PTE_P		0x001ULL
#define KHV_PTE_W		0x002ULL
#define KHV_PTE_U		0x004ULL
#define KHV_PTE_A		0x020ULL
#define KHV_PTE_D		0x040ULL
#define KHV_PTE_PS		0x080ULL

/* CR and EFER bits tests look at. */
#define KHV_CR0_PE		0x1ULL
#define KHV_CR0_ET		0x10ULL
#define KHV_CR0_NE		0x20ULL
#define KHV_CR0_WP		0x10000ULL
#define KHV_CR0_PG		0x80000000ULL
#define KHV_CR4_PSE		0x10ULL
#define KHV_CR4_PAE		0x20ULL
#define KHV_EFER_SCE		0x1ULL
#define KHV_EFER_LME		0x100ULL
#define KHV_EFER_LMA		0x400ULL

#define KHV_MODES_MAX_VCPUS	4

struct khv_vm;

struct khv_vcpu {
	int fd, id;
	struct kvm_run *run;
	struct khv_vm *vm;
};

struct khv_vm {
	int dev, vm;
	uint8_t *mem;
	size_t mem_size;
	enum khv_mode mode;
	enum khv_paging paging;	/* of the mode */
	uint64_t cr3;		/* root of the mode's tables (0: none) */
	uint64_t pt_next;	/* next free page of the pool */
	struct kvm_cpuid2 *cpuid; /* what every vCPU got (KVM_GET_SUPPORTED_CPUID) */
	int nr_vcpus;
	struct khv_vcpu vcpu[KHV_MODES_MAX_VCPUS];
};

/* Host view of the exception record at KHV_MODES_EXC. */
struct khv_exc {
	uint64_t vector, error, rip, cr2, count, resume;
};

/*
 * Create a VM with RAM, tables and code as described above, no vCPU yet.
 * Bails out on any failure. Add mappings, then vCPUs: KVM_SET_SREGS loads
 * the PAE PDPTEs, later changes to the PDPT are not seen (as on hardware).
 */
void khv_vm_create(struct khv_vm *m, enum khv_mode mode, const void *code, size_t len);
/* A vCPU (ids 0, 1, ...) in the VM's mode, RIP at the code, its own stack. */
struct khv_vcpu *khv_vm_add_vcpu(struct khv_vm *m);
void khv_vm_destroy(struct khv_vm *m);
/* Host pointer to guest-physical gpa (must be in RAM). */
void *khv_gpa(struct khv_vm *m, uint64_t gpa);
/* The exception record, and clearing it. */
struct khv_exc *khv_exc(struct khv_vm *m);
void khv_exc_clear(struct khv_vm *m);

/* A new, empty set of tables of that format from the pool: its root (CR3). */
uint64_t khv_pt_new(struct khv_vm *m, enum khv_paging fmt);
/*
 * Map [va, va + size) to gpa in the tables at root, in pages of page_size
 * (4K, or 2M/4M/1G where the format has them), with flags (KHV_PTE_P and
 * KHV_PTE_W; P is implied). Intermediate entries are present and writable.
 */
void khv_pt_map(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va,
		uint64_t gpa, uint64_t size, uint64_t page_size, uint64_t flags);
/* Identity-map all of RAM, as khv_vm_create() does for the mode's tables. */
void khv_pt_identity(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t page_size);
/* The leaf entry mapping va (0 if none), e.g. to look at A/D bits. */
uint64_t khv_pt_leaf(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va);
/* Print the entries of each level that map va (tap_diag), for diagnostics. */
void khv_pt_dump(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va);
/* The same in the mode's own tables. */
#define khv_map(m, va, gpa, size, psz, fl) \
	khv_pt_map(m, (m)->paging, (m)->cr3, va, gpa, size, psz, fl)

/* CPUID entry of the table set on the vCPUs, or NULL. */
const struct kvm_cpuid_entry2 *khv_cpuid_entry(struct khv_vm *m, uint32_t fn, uint32_t idx);

/* KVM_RUN: 0 or -errno. */
long khv_vcpu_run(struct khv_vcpu *v);
/*
 * Run once and expect an exit; on anything else print a diagnostic (with
 * the guest exception, if the guest reported one) and return false.
 */
bool khv_expect_exit(struct khv_vcpu *v, uint32_t reason);
/* KVM_EXIT_IO of one element of that direction, size and port. */
bool khv_expect_io(struct khv_vcpu *v, int dir, int size, uint16_t port);
/* Data of the last IO exit (first element), and setting it for an IN. */
uint64_t khv_io_data(struct khv_vcpu *v);
void khv_io_set(struct khv_vcpu *v, uint64_t val);
/* Shortcut: expect "out" of size to port and return its data in *val. */
bool khv_expect_out(struct khv_vcpu *v, uint16_t port, int size, uint64_t *val);
/* KVM_EXIT_MMIO at gpa of len bytes; a write's data goes to *data, a read
 * is answered with *data. */
bool khv_expect_mmio(struct khv_vcpu *v, uint64_t gpa, uint32_t len, bool write,
		     uint64_t *data);
/* Expect the guest's handler to report vector (OUT to KHV_PORT_EXC). */
bool khv_expect_exc(struct khv_vcpu *v, uint64_t vector);
/* Describe the last exit in a diagnostic line. */
void khv_diag_exit(struct khv_vcpu *v, long r);

void khv_get_regs(struct khv_vcpu *v, struct kvm_regs *regs);
void khv_get_sregs(struct khv_vcpu *v, struct kvm_sregs *sregs);
/* One MSR through KVM_GET_MSRS/KVM_SET_MSRS: 1 on success (the count). */
long khv_get_msr(struct khv_vcpu *v, uint32_t index, uint64_t *data);
long khv_set_msr(struct khv_vcpu *v, uint32_t index, uint64_t data);

#endif /* KHV_MODES_H */
