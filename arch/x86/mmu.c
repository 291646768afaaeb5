// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stage-2 MMU shared by both backends: 4- or 5-level tables in the backend's
 * entry format (NPT: x86 PTEs, EPT: EPT entries), filled on demand from the
 * memslots when the guest faults.
 *
 * Interim design (until MMU notifiers arrive, see Documentation/api.md):
 * every mapped page holds a page reference, dropped when its entry is
 * zapped or the VM goes. This keeps the host safe — a page the VMM unmaps
 * cannot be freed while the guest can still reach it — at the price of
 * pinning guest memory that has been touched.
 *
 * mmu_lock (spinlock) protects the tables. A fault looks up its memslot
 * under SRCU, takes the page outside the lock, and installs it under the
 * lock. Memslot removal zaps only after the SRCU grace period, so a fault
 * that saw the old slot has finished installing by then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/* Deepest table walk: 5 levels (NPT under a host using LA57). */
#define S2_MAX_LEVELS	5
#define S2_ENTRIES	512
#define S2_PA_MASK	GENMASK_ULL(51, 12)

static inline unsigned int s2_index(u64 gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (S2_ENTRIES - 1);
}

int khv_s2_init(struct khv_vm *vm)
{
	spin_lock_init(&vm->arch.mmu_lock);
	vm->arch.s2_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return vm->arch.s2_root ? 0 : -ENOMEM;
}

static void s2_release_leaf(const struct khv_s2_format *f, u64 e)
{
	struct page *page = pfn_to_page((e & S2_PA_MASK) >> PAGE_SHIFT);

	if (e & f->leaf_w & ~f->leaf_r)
		set_page_dirty_lock(page);
	put_page(page);
}

/* Frees a table and everything under it (the VM is being destroyed). */
static void s2_free_table(const struct khv_s2_format *f, u64 *table, int level)
{
	int i;

	for (i = 0; i < S2_ENTRIES; i++) {
		u64 e = table[i];

		if (!(e & f->present))
			continue;
		if (level > 1)
			s2_free_table(f, phys_to_virt(e & S2_PA_MASK), level - 1);
		else
			s2_release_leaf(f, e);
	}
	free_page((unsigned long)table);
}

void khv_s2_destroy(struct khv_vm *vm)
{
	const struct khv_s2_format *f = vm->ops->s2_format;

	if (vm->arch.s2_root)
		s2_free_table(f, vm->arch.s2_root, f->levels);
	vm->arch.s2_root = NULL;
}

/*
 * Walks to the level-1 table for @gfn, allocating missing tables from
 * @spare (one preallocated page per missing level). Returns NULL if more
 * pages are needed than given. mmu_lock held.
 */
static u64 *s2_walk_alloc(struct khv_vm *vm, u64 gfn, void **spare, int nspare)
{
	const struct khv_s2_format *f = vm->ops->s2_format;
	u64 *table = vm->arch.s2_root;
	int level;

	for (level = f->levels; level > 1; level--) {
		u64 *e = &table[s2_index(gfn, level)];

		if (!(*e & f->present)) {
			void *page = NULL;
			int i;

			for (i = 0; i < nspare && !page; i++) {
				page = spare[i];
				spare[i] = NULL;
			}
			if (!page)
				return NULL;
			WRITE_ONCE(*e, f->table | virt_to_phys(page));
		}
		table = phys_to_virt(*e & S2_PA_MASK);
	}
	return table;
}

int khv_s2_fault(struct khv_vcpu *vcpu, u64 gpa, bool write)
{
	struct khv_vm *vm = vcpu->vm;
	const struct khv_s2_format *f = vm->ops->s2_format;
	u64 gfn = gpa >> PAGE_SHIFT, *pt, *e, leaf;
	void *spare[S2_MAX_LEVELS - 1] = {};
	struct khv_memslot *slot;
	unsigned long hva;
	struct page *page;
	bool writable;
	int idx, r, i;
	long n;

	idx = srcu_read_lock(&vm->srcu);
	slot = khv_memslot_by_gfn(&vm->slots, gfn);
	if (!slot || (write && (slot->flags & KVM_MEM_READONLY))) {
		r = KHV_S2_MMIO;
		goto out;
	}
	writable = !(slot->flags & KVM_MEM_READONLY);
	hva = slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);

	/* Ask for write access on writable slots, so the page is mapped RW. */
	n = get_user_pages_unlocked(hva, 1, &page, writable ? FOLL_WRITE : 0);
	if (n != 1) {
		r = n < 0 ? (int)n : -EFAULT;
		goto out;
	}
	for (i = 0; i < f->levels - 1; i++)
		spare[i] = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	leaf = f->leaf_r | page_to_phys(page) | (writable ? f->leaf_w : 0);
	spin_lock(&vm->arch.mmu_lock);
	pt = s2_walk_alloc(vm, gfn, spare, f->levels - 1);
	if (!pt) {
		spin_unlock(&vm->arch.mmu_lock);
		put_page(page);
		r = -ENOMEM;
		goto out_free;
	}
	e = &pt[s2_index(gfn, 1)];
	if (*e & f->present) {
		/* Another vCPU mapped it meanwhile: keep theirs. */
		spin_unlock(&vm->arch.mmu_lock);
		put_page(page);
	} else {
		WRITE_ONCE(*e, leaf);
		vm->arch.s2_pages++;
		spin_unlock(&vm->arch.mmu_lock);
	}
	r = 0;
out_free:
	for (i = 0; i < S2_MAX_LEVELS - 1; i++)
		if (spare[i])
			free_page((unsigned long)spare[i]);
out:
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}

void khv_s2_zap(struct khv_vm *vm, u64 gfn, u64 npages)
{
	const struct khv_s2_format *f = vm->ops->s2_format;
	u64 end = gfn + npages, released = 0, *leaves = NULL;
	size_t nleaves = 0, cap = 0;

	/*
	 * Clear the leaves under the lock; the page references are dropped
	 * after every vCPU has flushed its TLB, so no stale translation can
	 * reach a page that is already free.
	 */
	spin_lock(&vm->arch.mmu_lock);
	while (gfn < end) {
		u64 *table = vm->arch.s2_root, e;
		int level;

		for (level = f->levels; level > 1; level--) {
			e = table[s2_index(gfn, level)];
			if (!(e & f->present))
				break;
			table = phys_to_virt(e & S2_PA_MASK);
		}
		if (level > 1) {
			/* Nothing mapped in this whole level-`level` region. */
			u64 span = 1ULL << (9 * (level - 1));

			gfn = (gfn | (span - 1)) + 1;
			continue;
		}
		e = table[s2_index(gfn, 1)];
		if (e & f->present) {
			if (nleaves == cap) {
				size_t ncap = cap ? 2 * cap : 64;
				u64 *n = krealloc(leaves, ncap * sizeof(*n),
						  GFP_ATOMIC | __GFP_ACCOUNT);

				if (!n) {
					/* Cannot defer: flush now, then release. */
					spin_unlock(&vm->arch.mmu_lock);
					khv_request_all(vm, KHV_REQ_TLB_FLUSH);
					while (nleaves)
						s2_release_leaf(f, leaves[--nleaves]);
					spin_lock(&vm->arch.mmu_lock);
					continue;
				}
				leaves = n;
				cap = ncap;
			}
			WRITE_ONCE(table[s2_index(gfn, 1)], 0);
			leaves[nleaves++] = e;
			released++;
		}
		gfn++;
	}
	vm->arch.s2_pages -= released;
	spin_unlock(&vm->arch.mmu_lock);

	if (released)
		khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	while (nleaves)
		s2_release_leaf(f, leaves[--nleaves]);
	kfree(leaves);
}
