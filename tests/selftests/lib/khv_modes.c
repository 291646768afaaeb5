// SPDX-License-Identifier: GPL-2.0-only
/* khv selftest library: protected-mode and long-mode guests; see khv_modes.h. */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "khv_modes.h"

/*
 * Exception handler stubs, 64-bit and 32-bit: stub v (16 bytes each) pushes
 * a zero error code for vectors where the CPU pushes none, then the vector,
 * and jumps to the common part, which fills the exception record, reports
 * the vector by OUT, then resumes or halts (see khv_modes.h).
 */
#define ERRCODE_VECTOR(v)						\
	"((" v " == 8) || ((" v " >= 10) && (" v " <= 14)) || (" v " == 17) || " \
	"(" v " == 21) || (" v " == 29) || (" v " == 30))"

KHV_GUEST_DECLARE(khv_stubs64);
KHV_GUEST_DECLARE(khv_stubs32);

asm(KHV_GUEST_BEGIN(khv_stubs64, 64)
    ".set khv_v64, 0\n"
    ".rept 256\n"
    ".balign 16\n"
    ".if " ERRCODE_VECTOR("khv_v64") "\n"
    ".else\n"
    "	pushq $0\n"
    ".endif\n"
    "	pushq $khv_v64\n"
    "	jmp 9f\n"
    ".set khv_v64, khv_v64 + 1\n"
    ".endr\n"
    ".balign 16\n"
    "9:	push %rax\n"
    "	mov 8(%rsp), %rax\n"
    "	mov %rax, " KHV_STR(KHV_EXC_VECTOR) "\n"
    "	mov 16(%rsp), %rax\n"
    "	mov %rax, " KHV_STR(KHV_EXC_ERROR) "\n"
    "	mov 24(%rsp), %rax\n"
    "	mov %rax, " KHV_STR(KHV_EXC_RIP) "\n"
    "	mov %cr2, %rax\n"
    "	mov %rax, " KHV_STR(KHV_EXC_CR2) "\n"
    "	incq " KHV_STR(KHV_EXC_COUNT) "\n"
    "	mov " KHV_STR(KHV_EXC_VECTOR) ", %rax\n"
    "	out %eax, $" KHV_STR(KHV_PORT_EXC) "\n"
    "	mov " KHV_STR(KHV_EXC_RESUME) ", %rax\n"
    "	test %rax, %rax\n"
    "	jz 8f\n"
    "	movq $0, " KHV_STR(KHV_EXC_RESUME) "\n"
    "	mov %rax, 24(%rsp)\n"
    "	pop %rax\n"
    "	add $16, %rsp\n"
    "	iretq\n"
    "8:	hlt\n"
    "	jmp 8b\n"
    KHV_GUEST_END(khv_stubs64));

asm(KHV_GUEST_BEGIN(khv_stubs32, 32)
    ".set khv_v32, 0\n"
    ".rept 256\n"
    ".balign 16\n"
    ".if " ERRCODE_VECTOR("khv_v32") "\n"
    ".else\n"
    "	pushl $0\n"
    ".endif\n"
    "	pushl $khv_v32\n"
    "	jmp 9f\n"
    ".set khv_v32, khv_v32 + 1\n"
    ".endr\n"
    ".balign 16\n"
    "9:	push %eax\n"
    "	mov 4(%esp), %eax\n"
    "	mov %eax, " KHV_STR(KHV_EXC_VECTOR) "\n"
    "	movl $0, " KHV_STR(KHV_EXC_VECTOR) "+4\n"
    "	mov 8(%esp), %eax\n"
    "	mov %eax, " KHV_STR(KHV_EXC_ERROR) "\n"
    "	movl $0, " KHV_STR(KHV_EXC_ERROR) "+4\n"
    "	mov 12(%esp), %eax\n"
    "	mov %eax, " KHV_STR(KHV_EXC_RIP) "\n"
    "	movl $0, " KHV_STR(KHV_EXC_RIP) "+4\n"
    "	mov %cr2, %eax\n"
    "	mov %eax, " KHV_STR(KHV_EXC_CR2) "\n"
    "	movl $0, " KHV_STR(KHV_EXC_CR2) "+4\n"
    "	incl " KHV_STR(KHV_EXC_COUNT) "\n"
    "	mov " KHV_STR(KHV_EXC_VECTOR) ", %eax\n"
    "	out %eax, $" KHV_STR(KHV_PORT_EXC) "\n"
    "	mov " KHV_STR(KHV_EXC_RESUME) ", %eax\n"
    "	test %eax, %eax\n"
    "	jz 8f\n"
    "	movl $0, " KHV_STR(KHV_EXC_RESUME) "\n"
    "	mov %eax, 12(%esp)\n"
    "	pop %eax\n"
    "	add $8, %esp\n"
    "	iret\n"
    "8:	hlt\n"
    "	jmp 8b\n"
    KHV_GUEST_END(khv_stubs32));

const char *khv_mode_name(enum khv_mode mode)
{
	static const char *const names[] = {
		[KHV_MODE_REAL] = "real mode",
		[KHV_MODE_PROT32] = "32-bit, no paging",
		[KHV_MODE_PROT32_PG] = "32-bit, 2-level paging",
		[KHV_MODE_PROT32_PSE] = "32-bit, 4 MiB pages",
		[KHV_MODE_PROT32_PAE] = "32-bit, PAE paging",
		[KHV_MODE_LONG] = "64-bit, 4-level paging",
	};

	return names[mode];
}

void *khv_gpa(struct khv_vm *m, uint64_t gpa)
{
	if (gpa >= m->mem_size)
		tap_bail("guest-physical 0x%llx is not RAM", (unsigned long long)gpa);
	return m->mem + gpa;
}

struct khv_exc *khv_exc(struct khv_vm *m)
{
	return khv_gpa(m, KHV_MODES_EXC);
}

void khv_exc_clear(struct khv_vm *m)
{
	memset(khv_exc(m), 0, sizeof(struct khv_exc));
}

/* --- page tables ---------------------------------------------------------- */

static uint64_t pt_alloc(struct khv_vm *m)
{
	uint64_t page = m->pt_next;

	if (page >= KHV_MODES_PT_END)
		tap_bail("page-table pool exhausted");
	m->pt_next += 0x1000;
	memset(khv_gpa(m, page), 0, 0x1000);
	return page;
}

uint64_t khv_pt_new(struct khv_vm *m, enum khv_paging fmt)
{
	if (fmt == KHV_PG_NONE)
		return 0;
	return pt_alloc(m);
}

#define ADDR_MASK 0x000ffffffffff000ULL

/*
 * Walks to the entry for va at the level whose pages are page_size; with
 * alloc, creates missing tables on the way. NULL if absent (or a larger
 * page is in the way).
 */
static uint64_t *walk64(struct khv_vm *m, enum khv_paging fmt, uint64_t root,
			uint64_t va, uint64_t page_size, bool alloc)
{
	int top = fmt == KHV_PG_4L ? 39 : 30;
	uint64_t *table = khv_gpa(m, root);

	for (int shift = top; ; shift -= 9) {
		unsigned int idx = (va >> shift) & (shift == 30 && fmt == KHV_PG_PAE ? 3 : 511);
		uint64_t *e = &table[idx];

		if ((1ULL << shift) == page_size)
			return e;
		if (!(*e & KHV_PTE_P)) {
			if (!alloc)
				return NULL;
			/* PAE PDPTEs have no R/W bit (reserved). */
			*e = pt_alloc(m) | KHV_PTE_P |
			     (fmt == KHV_PG_PAE && shift == 30 ? 0 : KHV_PTE_W);
		} else if (*e & KHV_PTE_PS) {
			if (alloc)
				tap_bail("mapping 0x%llx: a large page is in the way",
					 (unsigned long long)va);
			return e;
		}
		table = khv_gpa(m, *e & ADDR_MASK);
	}
}

static uint32_t *walk32(struct khv_vm *m, uint64_t root, uint64_t va,
			uint64_t page_size, bool alloc)
{
	uint32_t *pd = khv_gpa(m, root), *pde = &pd[(va >> 22) & 1023];

	if (page_size == KHV_PAGE_4M)
		return pde;
	if (!(*pde & KHV_PTE_P)) {
		if (!alloc)
			return NULL;
		*pde = (uint32_t)pt_alloc(m) | KHV_PTE_P | KHV_PTE_W;
	} else if (*pde & KHV_PTE_PS) {
		if (alloc)
			tap_bail("mapping 0x%llx: a 4 MiB page is in the way",
				 (unsigned long long)va);
		return pde;
	}
	return (uint32_t *)khv_gpa(m, *pde & 0xfffff000) + ((va >> 12) & 1023);
}

void khv_pt_map(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va,
		uint64_t gpa, uint64_t size, uint64_t page_size, uint64_t flags)
{
	bool ok;

	switch (fmt) {
	case KHV_PG_32:
		ok = page_size == KHV_PAGE_4K || page_size == KHV_PAGE_4M;
		break;
	case KHV_PG_PAE:
		ok = page_size == KHV_PAGE_4K || page_size == KHV_PAGE_2M;
		break;
	case KHV_PG_4L:
		ok = page_size == KHV_PAGE_4K || page_size == KHV_PAGE_2M ||
		     page_size == KHV_PAGE_1G;
		break;
	default:
		ok = false;
	}
	if (!ok || (va | gpa | size) & (page_size - 1))
		tap_bail("khv_pt_map: bad format, page size or alignment");
	flags |= KHV_PTE_P;
	if (page_size != KHV_PAGE_4K)
		flags |= KHV_PTE_PS;
	for (uint64_t off = 0; off < size; off += page_size) {
		if (fmt == KHV_PG_32)
			*walk32(m, root, va + off, page_size, true) = (uint32_t)(gpa + off) | flags;
		else
			*walk64(m, fmt, root, va + off, page_size, true) = (gpa + off) | flags;
	}
}

void khv_pt_identity(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t page_size)
{
	khv_pt_map(m, fmt, root, 0, 0, m->mem_size, page_size, KHV_PTE_W);
}

uint64_t khv_pt_leaf(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va)
{
	if (fmt == KHV_PG_32) {
		uint32_t *e = walk32(m, root, va, KHV_PAGE_4K, false);

		return e ? *e : 0;
	}
	if (fmt == KHV_PG_PAE || fmt == KHV_PG_4L) {
		uint64_t *e = walk64(m, fmt, root, va, KHV_PAGE_4K, false);

		return e ? *e : 0;
	}
	return 0;
}

void khv_pt_dump(struct khv_vm *m, enum khv_paging fmt, uint64_t root, uint64_t va)
{
	uint64_t table = root;

	if (fmt == KHV_PG_32) {
		uint32_t pde = ((uint32_t *)khv_gpa(m, root))[(va >> 22) & 1023];

		tap_diag("  va 0x%llx: cr3 0x%llx pde 0x%x", (unsigned long long)va,
			 (unsigned long long)root, pde);
		if ((pde & KHV_PTE_P) && !(pde & KHV_PTE_PS))
			tap_diag("  pte 0x%x",
				 ((uint32_t *)khv_gpa(m, pde & 0xfffff000))[(va >> 12) & 1023]);
		return;
	}
	if (fmt != KHV_PG_PAE && fmt != KHV_PG_4L)
		return;
	tap_diag("  va 0x%llx: cr3 0x%llx", (unsigned long long)va, (unsigned long long)root);
	for (int shift = fmt == KHV_PG_4L ? 39 : 30; shift >= 12; shift -= 9) {
		unsigned int idx = (va >> shift) & (shift == 30 && fmt == KHV_PG_PAE ? 3 : 511);
		uint64_t e = ((uint64_t *)khv_gpa(m, table))[idx];

		tap_diag("  level %d [%u] 0x%llx", (shift - 12) / 9 + 1, idx,
			 (unsigned long long)e);
		if (!(e & KHV_PTE_P) || (e & KHV_PTE_PS))
			break;
		table = e & ADDR_MASK;
	}
}

/* --- descriptors ---------------------------------------------------------- */

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (limit & 0xffffULL) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

static void write_tables(struct khv_vm *m)
{
	uint64_t *gdt = khv_gpa(m, KHV_MODES_GDT);
	uint8_t *p;

	gdt[KHV_SEL_CODE64 / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xa);	/* G, L */
	gdt[KHV_SEL_DATA / 8] = gdt_entry(0, 0xfffff, 0x93, 0xc);	/* G, D */
	gdt[KHV_SEL_CODE32 / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xc);
	gdt[KHV_SEL_CODE16 / 8] = gdt_entry(0, 0xffff, 0x9b, 0);
	/* Available TSS (type 9): a guest may ltr it; upper half for 64-bit. */
	gdt[KHV_SEL_TSS / 8] = gdt_entry(KHV_MODES_TSS, 0x67, 0x89, 0);
	gdt[KHV_SEL_TSS / 8 + 1] = 0;
	gdt[KHV_SEL_DATA16 / 8] = gdt_entry(0, 0xffff, 0x93, 0);

	/* Pseudo-descriptors for lgdt/lidt: 16-bit limit, then the base. */
	p = khv_gpa(m, KHV_MODES_GDTR);
	*(uint16_t *)p = (KHV_SEL_DATA16 + 8) - 1;
	*(uint64_t *)(p + 2) = KHV_MODES_GDT;
	p = khv_gpa(m, KHV_MODES_IDTR32);
	*(uint16_t *)p = 256 * 8 - 1;
	*(uint64_t *)(p + 2) = KHV_MODES_IDT32;
	p = khv_gpa(m, KHV_MODES_IDTR64);
	*(uint16_t *)p = 256 * 16 - 1;
	*(uint64_t *)(p + 2) = KHV_MODES_IDT64;

	if (KHV_GUEST_SIZE(khv_stubs64) > KHV_MODES_STUBS32 - KHV_MODES_STUBS64 ||
	    KHV_GUEST_SIZE(khv_stubs32) > KHV_MODES_EXC - KHV_MODES_STUBS32)
		tap_bail("exception stubs too large");
	memcpy(khv_gpa(m, KHV_MODES_STUBS64), khv_stubs64, KHV_GUEST_SIZE(khv_stubs64));
	memcpy(khv_gpa(m, KHV_MODES_STUBS32), khv_stubs32, KHV_GUEST_SIZE(khv_stubs32));
	for (int v = 0; v < 256; v++) {
		uint64_t h64 = KHV_MODES_STUBS64 + 16 * v, h32 = KHV_MODES_STUBS32 + 16 * v;
		uint64_t *g64 = khv_gpa(m, KHV_MODES_IDT64 + 16 * v);
		uint64_t *g32 = khv_gpa(m, KHV_MODES_IDT32 + 8 * v);

		/* Present, DPL 0, interrupt gate (type 14). */
		g64[0] = (h64 & 0xffff) | (uint64_t)KHV_SEL_CODE64 << 16 |
			 0x8eULL << 40 | ((h64 >> 16) & 0xffff) << 48;
		g64[1] = h64 >> 32;
		g32[0] = (h32 & 0xffff) | (uint64_t)KHV_SEL_CODE32 << 16 |
			 0x8eULL << 40 | ((h32 >> 16) & 0xffff) << 48;
	}
}

static struct kvm_segment segment(uint16_t sel, uint8_t type, bool s, bool l,
				  bool db, bool g, uint32_t limit, uint64_t base)
{
	return (struct kvm_segment) {
		.base = base, .limit = limit, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = s, .l = l, .g = g,
	};
}

static void set_mode(struct khv_vcpu *v)
{
	struct khv_vm *m = v->vm;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment data;
	bool lm = m->mode == KHV_MODE_LONG;

	khv_get_sregs(v, &sregs);
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rsp = KHV_MODES_STACK - v->id * 0x4000;
	if (m->mode == KHV_MODE_REAL) {
		sregs.cs.selector = KHV_MODES_CODE >> 4;
		sregs.cs.base = KHV_MODES_CODE;
		regs.rip = 0;
		regs.rsp &= 0xffff;	/* SS base 0: a stack below 64 KiB */
		if (!regs.rsp)
			regs.rsp = 0xfff0;
		goto set;
	}
	regs.rip = KHV_MODES_CODE;
	sregs.cs = lm ? segment(KHV_SEL_CODE64, 11, true, true, false, true, 0xffffffff, 0)
		      : segment(KHV_SEL_CODE32, 11, true, false, true, true, 0xffffffff, 0);
	data = segment(KHV_SEL_DATA, 3, true, false, true, true, 0xffffffff, 0);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	/* Busy TSS (type 11: 32-bit busy TSS or, in long mode, 64-bit). */
	sregs.tr = segment(KHV_SEL_TSS, 11, false, false, false, false, 0x67, KHV_MODES_TSS);
	sregs.gdt.base = KHV_MODES_GDT;
	sregs.gdt.limit = (KHV_SEL_DATA16 + 8) - 1;
	sregs.idt.base = lm ? KHV_MODES_IDT64 : KHV_MODES_IDT32;
	sregs.idt.limit = lm ? 256 * 16 - 1 : 256 * 8 - 1;
	sregs.cr0 = KHV_CR0_PE | KHV_CR0_ET | KHV_CR0_NE;
	sregs.cr4 = 0;
	sregs.efer = 0;
	sregs.cr3 = m->cr3;
	if (m->paging != KHV_PG_NONE)
		sregs.cr0 |= KHV_CR0_PG | KHV_CR0_WP;
	if (m->mode == KHV_MODE_PROT32_PSE)
		sregs.cr4 |= KHV_CR4_PSE;
	if (m->mode == KHV_MODE_PROT32_PAE || lm)
		sregs.cr4 |= KHV_CR4_PAE;
	if (lm)
		sregs.efer = KHV_EFER_LME | KHV_EFER_LMA | KHV_EFER_SCE;
set:
	if (khv_ioctl_p(v->fd, KVM_SET_SREGS, &sregs))
		tap_bail("KVM_SET_SREGS (%s)", khv_mode_name(m->mode));
	if (khv_ioctl_p(v->fd, KVM_SET_REGS, &regs))
		tap_bail("KVM_SET_REGS");
}

static void get_cpuid(struct khv_vm *m)
{
	int n = 64;
	long r;

	for (;;) {
		m->cpuid = calloc(1, sizeof(*m->cpuid) + n * sizeof(struct kvm_cpuid_entry2));
		m->cpuid->nent = n;
		r = khv_ioctl_p(m->dev, KVM_GET_SUPPORTED_CPUID, m->cpuid);
		if (r != -E2BIG)
			break;
		free(m->cpuid);
		n *= 2;
		if (n > 4096)
			tap_bail("KVM_GET_SUPPORTED_CPUID: E2BIG with %d entries", n);
	}
	if (r)
		tap_bail("KVM_GET_SUPPORTED_CPUID: %s", strerror((int)-r));
}

const struct kvm_cpuid_entry2 *khv_cpuid_entry(struct khv_vm *m, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < m->cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &m->cpuid->entries[i];

		if (e->function == fn &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == idx))
			return e;
	}
	return NULL;
}

struct khv_vcpu *khv_vm_add_vcpu(struct khv_vm *m)
{
	struct khv_vcpu *v;
	long sz;

	if (m->nr_vcpus >= KHV_MODES_MAX_VCPUS)
		tap_bail("too many vCPUs");
	v = &m->vcpu[m->nr_vcpus];
	v->id = m->nr_vcpus++;
	v->vm = m;
	v->fd = khv_create_vcpu(m->vm, v->id);
	sz = khv_ioctl(m->dev, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		tap_bail("mmap kvm_run: %s", strerror(errno));
	if (khv_ioctl_p(v->fd, KVM_SET_CPUID2, m->cpuid))
		tap_bail("KVM_SET_CPUID2");
	set_mode(v);
	return v;
}

void khv_vm_create(struct khv_vm *m, enum khv_mode mode, const void *code, size_t len)
{
	static const enum khv_paging paging[] = {
		[KHV_MODE_REAL] = KHV_PG_NONE, [KHV_MODE_PROT32] = KHV_PG_NONE,
		[KHV_MODE_PROT32_PG] = KHV_PG_32, [KHV_MODE_PROT32_PSE] = KHV_PG_32,
		[KHV_MODE_PROT32_PAE] = KHV_PG_PAE, [KHV_MODE_LONG] = KHV_PG_4L,
	};

	memset(m, 0, sizeof(*m));
	if (len > KHV_MODES_PT - KHV_MODES_CODE)
		tap_bail("guest code too large");
	m->mode = mode;
	m->paging = paging[mode];
	m->dev = khv_open_dev();
	m->vm = khv_create_vm(m->dev);
	m->mem_size = KHV_MODES_MEM;
	m->mem = khv_alloc(m->mem_size);
	m->pt_next = KHV_MODES_PT;
	if (khv_set_mem(m->vm, 0, 0, 0, m->mem_size, m->mem))
		tap_bail("guest memory slot");
	write_tables(m);
	memcpy(khv_gpa(m, KHV_MODES_CODE), code, len);
	m->cr3 = khv_pt_new(m, m->paging);
	if (m->paging != KHV_PG_NONE)
		khv_pt_identity(m, m->paging, m->cr3,
				mode == KHV_MODE_PROT32_PSE ? KHV_PAGE_4M : KHV_PAGE_4K);
	get_cpuid(m);
}

void khv_vm_destroy(struct khv_vm *m)
{
	for (int i = 0; i < m->nr_vcpus; i++)
		close(m->vcpu[i].fd);
	close(m->vm);
	close(m->dev);
	munmap(m->mem, m->mem_size);
	free(m->cpuid);
}

/* --- running -------------------------------------------------------------- */

long khv_vcpu_run(struct khv_vcpu *v)
{
	return khv_ioctl(v->fd, KVM_RUN, 0);
}

void khv_get_regs(struct khv_vcpu *v, struct kvm_regs *regs)
{
	if (khv_ioctl_p(v->fd, KVM_GET_REGS, regs))
		tap_bail("KVM_GET_REGS");
}

void khv_get_sregs(struct khv_vcpu *v, struct kvm_sregs *sregs)
{
	if (khv_ioctl_p(v->fd, KVM_GET_SREGS, sregs))
		tap_bail("KVM_GET_SREGS");
}

struct one_msr { struct kvm_msrs h; struct kvm_msr_entry e; };

long khv_get_msr(struct khv_vcpu *v, uint32_t index, uint64_t *data)
{
	struct one_msr m = { .h.nmsrs = 1, .e.index = index };
	long r = khv_ioctl_p(v->fd, KVM_GET_MSRS, &m);

	*data = m.e.data;
	return r;
}

long khv_set_msr(struct khv_vcpu *v, uint32_t index, uint64_t data)
{
	struct one_msr m = { .h.nmsrs = 1, .e = { .index = index, .data = data } };

	return khv_ioctl_p(v->fd, KVM_SET_MSRS, &m);
}

void khv_diag_exit(struct khv_vcpu *v, long r)
{
	struct kvm_run *run = v->run;
	struct khv_exc *e = khv_exc(v->vm);
	struct kvm_regs regs;

	if (r) {
		tap_diag("vCPU %d: KVM_RUN: %s", v->id, strerror((int)-r));
		return;
	}
	khv_ioctl_p(v->fd, KVM_GET_REGS, &regs);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		tap_diag("vCPU %d: exit IO %s port 0x%x size %d count %u data 0x%llx (rip 0x%llx)",
			 v->id, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			 run->io.port, run->io.size, run->io.count,
			 (unsigned long long)khv_io_data(v), regs.rip);
		if (run->io.port == KHV_PORT_EXC && run->io.direction == KVM_EXIT_IO_OUT)
			tap_diag("  guest exception %llu error 0x%llx at rip 0x%llx, cr2 0x%llx",
				 (unsigned long long)e->vector, (unsigned long long)e->error,
				 (unsigned long long)e->rip, (unsigned long long)e->cr2);
		break;
	case KVM_EXIT_MMIO:
		tap_diag("vCPU %d: exit MMIO %s 0x%llx len %u (rip 0x%llx)", v->id,
			 run->mmio.is_write ? "write" : "read", run->mmio.phys_addr,
			 run->mmio.len, regs.rip);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		tap_diag("vCPU %d: exit FAIL_ENTRY reason 0x%llx", v->id,
			 run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		tap_diag("vCPU %d: exit INTERNAL_ERROR suberror %u ndata %u data0 0x%llx data1 0x%llx (rip 0x%llx)",
			 v->id, run->internal.suberror, run->internal.ndata,
			 run->internal.ndata > 0 ? run->internal.data[0] : 0,
			 run->internal.ndata > 1 ? run->internal.data[1] : 0, regs.rip);
		break;
	default:
		tap_diag("vCPU %d: exit %s (%u) rip 0x%llx", v->id,
			 khv_exit_name(run->exit_reason), run->exit_reason, regs.rip);
	}
}

bool khv_expect_exit(struct khv_vcpu *v, uint32_t reason)
{
	long r = khv_vcpu_run(v);

	if (r || v->run->exit_reason != reason) {
		tap_diag("expected exit %s:", khv_exit_name(reason));
		khv_diag_exit(v, r);
		return false;
	}
	return true;
}

bool khv_expect_io(struct khv_vcpu *v, int dir, int size, uint16_t port)
{
	struct kvm_run *run = v->run;
	long r = khv_vcpu_run(v);

	if (r || run->exit_reason != KVM_EXIT_IO || run->io.direction != dir ||
	    run->io.size != size || run->io.port != port || run->io.count != 1) {
		tap_diag("expected %s of %d bytes at port 0x%x:",
			 dir == KVM_EXIT_IO_OUT ? "out" : "in", size, port);
		khv_diag_exit(v, r);
		return false;
	}
	return true;
}

uint64_t khv_io_data(struct khv_vcpu *v)
{
	uint64_t val = 0;

	memcpy(&val, (uint8_t *)v->run + v->run->io.data_offset,
	       v->run->io.size <= 8 ? v->run->io.size : 8);
	return val;
}

void khv_io_set(struct khv_vcpu *v, uint64_t val)
{
	memcpy((uint8_t *)v->run + v->run->io.data_offset, &val,
	       v->run->io.size <= 8 ? v->run->io.size : 8);
}

bool khv_expect_out(struct khv_vcpu *v, uint16_t port, int size, uint64_t *val)
{
	*val = 0;
	if (!khv_expect_io(v, KVM_EXIT_IO_OUT, size, port))
		return false;
	*val = khv_io_data(v);
	return true;
}

bool khv_expect_mmio(struct khv_vcpu *v, uint64_t gpa, uint32_t len, bool write,
		     uint64_t *data)
{
	struct kvm_run *run = v->run;
	long r = khv_vcpu_run(v);

	if (r || run->exit_reason != KVM_EXIT_MMIO || run->mmio.phys_addr != gpa ||
	    run->mmio.len != len || !run->mmio.is_write != !write) {
		tap_diag("expected MMIO %s of %u bytes at 0x%llx:", write ? "write" : "read",
			 len, (unsigned long long)gpa);
		khv_diag_exit(v, r);
		if (write)
			*data = 0;
		return false;
	}
	if (write) {
		*data = 0;
		memcpy(data, run->mmio.data, len <= 8 ? len : 8);
	} else {
		memcpy(run->mmio.data, data, len <= 8 ? len : 8);
	}
	return true;
}

bool khv_expect_exc(struct khv_vcpu *v, uint64_t vector)
{
	uint64_t got;

	if (!khv_expect_out(v, KHV_PORT_EXC, 4, &got))
		return false;
	if (got != vector) {
		khv_diag_exit(v, 0);
		return false;
	}
	return true;
}
