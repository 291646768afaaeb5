// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stage-2 MMU shared by both backends: 4- or 5-level tables in the backend's
 * entry format (NPT: x86 PTEs, EPT: EPT entries), filled on demand from the
 * memslots when the guest faults.
 *
 * Guest memory is ordinary memory of the VMM process: khv holds no page
 * reference beyond the fault that maps it. The stage-2 tables are a cache
 * of the VMM's page tables, kept coherent by an MMU notifier on the VM's mm:
 * before Linux unmaps, migrates, swaps out, merges (KSM) or frees a page it
 * calls invalidate_range_start, which zaps the stage-2 entries of every
 * memslot over that user range and flushes every vCPU's TLB before
 * returning. change_pte is not implemented: Linux calls it only between
 * invalidate_range_start and _end, whose zap already covers it.
 *
 * A fault races an invalidation like this (KVM's scheme): it samples
 * mmu_seq before GUP; an invalidation counts itself in mmu_inv_count from
 * start to end and bumps mmu_seq at the end; under mmu_lock, the fault
 * installs only if no invalidation is in progress and mmu_seq did not
 * move. Otherwise the page GUP returned may be on its way out: the fault
 * drops it and the guest faults again.
 *
 * mmu_lock (spinlock) protects the tables, mmu_seq and mmu_inv_count. It is
 * taken with interrupts on, and a zap flushes the TLBs (IPIs, waiting)
 * before releasing it, so no stale translation outlives a zap seen by
 * anyone. A fault looks up its memslot under SRCU, takes the page outside
 * the lock, and installs it under the lock. Memslot removal zaps only after
 * the SRCU grace period, so a fault that saw the old slot has finished
 * installing by then.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include <khv/khv.h>
#include <khv/vendor.h>

/* Deepest table walk: 5 levels (NPT under a host using LA57). */
#define S2_MAX_LEVELS	5
#define S2_ENTRIES	512
#define S2_PA_MASK	GENMASK_ULL(51, 12)
/*
 * Software bit, ignored by the hardware in both formats (NPT: AVL bit 11;
 * EPT: bit 11 is ignored): the leaf maps a page with a struct page whose
 * dirty flag khv maintains. Leaves of VM_IO/VM_PFNMAP ranges lack it.
 */
#define S2_SW_PAGE	BIT_ULL(11)

static inline unsigned int s2_index(u64 gfn, int level)
{
	return (gfn >> (9 * (level - 1))) & (S2_ENTRIES - 1);
}

static inline struct khv_vm *mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct khv_vm, arch.mmu_notifier);
}

/* Frees a table and everything under it (the VM is being destroyed). */
static void s2_free_table(const struct khv_s2_format *f, u64 *table, int level)
{
	int i;

	for (i = 0; level > 1 && i < S2_ENTRIES; i++) {
		u64 e = table[i];

		if (e & f->present)
			s2_free_table(f, phys_to_virt(e & S2_PA_MASK), level - 1);
	}
	free_page((unsigned long)table);
}

/*
 * Walks to the level-1 table for @gfn, allocating missing tables from
 * @spare (one preallocated page per missing level) unless @spare is NULL.
 * Returns NULL if a table is missing and cannot be made. mmu_lock held.
 * On NULL with @spare NULL, *span is the number of frames from the region
 * start that nothing maps (aligned to the missing level).
 */
static u64 *s2_walk(struct khv_vm *vm, u64 gfn, void **spare, u64 *span)
{
	const struct khv_s2_format *f = vm->ops->s2_format;
	u64 *table = vm->arch.s2_root;
	int level, i;

	for (level = f->levels; level > 1; level--) {
		u64 *e = &table[s2_index(gfn, level)];

		if (!(*e & f->present)) {
			void *page = NULL;

			for (i = 0; spare && i < S2_MAX_LEVELS - 1 && !page; i++) {
				page = spare[i];
				spare[i] = NULL;
			}
			if (!page) {
				if (span)
					*span = 1ULL << (9 * (level - 1));
				return NULL;
			}
			WRITE_ONCE(*e, f->table | virt_to_phys(page));
		}
		table = phys_to_virt(*e & S2_PA_MASK);
	}
	return table;
}

/*
 * Calls @fn on every present leaf in [gfn, end); @fn returns the new value
 * of the entry. Returns the OR of what @fn reported through *@ret bits.
 * mmu_lock held.
 */
typedef u64 (*s2_leaf_fn)(struct khv_vm *vm, u64 gfn, u64 e, unsigned long *acc);

static unsigned long s2_for_each_leaf(struct khv_vm *vm, u64 gfn, u64 end,
				      s2_leaf_fn fn)
{
	const struct khv_s2_format *f = vm->ops->s2_format;
	unsigned long acc = 0;

	lockdep_assert_held(&vm->arch.mmu_lock);
	while (gfn < end) {
		u64 span, *pt = s2_walk(vm, gfn, NULL, &span);
		unsigned int i;

		if (!pt) {
			/* Nothing mapped in this whole region. */
			gfn = (gfn | (span - 1)) + 1;
			continue;
		}
		for (i = s2_index(gfn, 1); i < S2_ENTRIES && gfn < end; i++, gfn++) {
			u64 e = pt[i];

			if (e & f->present)
				WRITE_ONCE(pt[i], fn(vm, gfn, e, &acc));
		}
	}
	return acc;
}

/* The guest may have written through a writable leaf: tell Linux. */
static void s2_leaf_dirty(const struct khv_s2_format *f, u64 e)
{
	if ((e & S2_SW_PAGE) && (e & f->leaf_w & ~f->leaf_r))
		SetPageDirty(pfn_to_page((e & S2_PA_MASK) >> PAGE_SHIFT));
}

#define S2_ACC_ZAPPED	BIT(0)
#define S2_ACC_YOUNG	BIT(1)

static u64 s2_zap_leaf(struct khv_vm *vm, u64 gfn, u64 e, unsigned long *acc)
{
	/*
	 * The page is still mapped by the VMM (its invalidation waits for
	 * mmu_lock): it cannot be freed under us.
	 */
	s2_leaf_dirty(vm->ops->s2_format, e);
	vm->arch.s2_pages--;
	*acc |= S2_ACC_ZAPPED;
	return 0;
}

/* Zap [gfn, end) and flush; mmu_lock held. Returns true if anything went. */
static bool s2_zap_locked(struct khv_vm *vm, u64 gfn, u64 end)
{
	if (!s2_for_each_leaf(vm, gfn, end, s2_zap_leaf))
		return false;
	/*
	 * Flush before mmu_lock goes: whoever sees the entry gone (a racing
	 * invalidation that then lets the page be freed) also sees no vCPU
	 * still translating through it.
	 */
	khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	return true;
}

void khv_s2_zap(struct khv_vm *vm, u64 gfn, u64 npages)
{
	spin_lock(&vm->arch.mmu_lock);
	s2_zap_locked(vm, gfn, gfn + npages);
	spin_unlock(&vm->arch.mmu_lock);
}

static u64 s2_wrprot_leaf(struct khv_vm *vm, u64 gfn, u64 e,
			  unsigned long *acc)
{
	const struct khv_s2_format *f = vm->ops->s2_format;

	if (!(e & f->leaf_w))
		return e;
	s2_leaf_dirty(f, e);
	*acc |= S2_ACC_ZAPPED;
	return e & ~f->leaf_w;
}

/*
 * Dirty logging: make the pages of [gfn, end), or those of the bits of
 * @mask from @gfn on, read-only in stage 2, so the guest's next write to
 * each faults and is logged. Every vCPU's TLB is flushed before return.
 */
void khv_s2_write_protect(struct khv_vm *vm, u64 gfn, u64 end)
{
	spin_lock(&vm->arch.mmu_lock);
	if (s2_for_each_leaf(vm, gfn, end, s2_wrprot_leaf))
		khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	spin_unlock(&vm->arch.mmu_lock);
}

void khv_s2_write_protect_mask(struct khv_vm *vm, u64 gfn, unsigned long mask)
{
	unsigned long acc = 0;

	spin_lock(&vm->arch.mmu_lock);
	while (mask) {
		unsigned int b = __ffs(mask);
		u64 start = gfn + b;

		/* One walk for each run of set bits. */
		mask >>= b;
		b = mask == ~0UL ? BITS_PER_LONG : ffz(mask);
		acc |= s2_for_each_leaf(vm, start, start + b, s2_wrprot_leaf);
		gfn = start + b;
		mask = b == BITS_PER_LONG ? 0 : mask >> b;
	}
	if (acc)
		khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	spin_unlock(&vm->arch.mmu_lock);
}

/*
 * The memslot frames [*gfn, *end) that user range [start, end) covers;
 * false if none.
 */
static bool slot_hva_range(const struct khv_memslot *s, unsigned long start,
			   unsigned long end, u64 *gfn_start, u64 *gfn_end)
{
	unsigned long s_start = s->userspace_addr;
	unsigned long s_end = s_start + (s->npages << PAGE_SHIFT);

	start = max(start, s_start);
	end = min(end, s_end);
	if (start >= end)
		return false;
	*gfn_start = s->base_gfn + ((start - s_start) >> PAGE_SHIFT);
	*gfn_end = s->base_gfn + ((end - s_start + PAGE_SIZE - 1) >> PAGE_SHIFT);
	return true;
}

/* Apply @fn to the leaves of every memslot over [start, end). mmu_lock held. */
static unsigned long s2_hva_range(struct khv_vm *vm, unsigned long start,
				  unsigned long end, s2_leaf_fn fn)
{
	struct khv_memslot *s;
	unsigned long id, acc = 0;
	u64 gs, ge;

	xa_for_each(&vm->slots.by_id, id, s)
		if (slot_hva_range(s, start, end, &gs, &ge))
			acc |= s2_for_each_leaf(vm, gs, ge, fn);
	return acc;
}

static int khv_mn_invalidate_start(struct mmu_notifier *mn,
				   const struct mmu_notifier_range *range)
{
	struct khv_vm *vm = mn_to_vm(mn);
	int idx = srcu_read_lock(&vm->srcu);

	spin_lock(&vm->arch.mmu_lock);
	vm->arch.mmu_inv_count++;
	if (s2_hva_range(vm, range->start, range->end, s2_zap_leaf))
		khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	spin_unlock(&vm->arch.mmu_lock);
	srcu_read_unlock(&vm->srcu, idx);
	return 0;
}

static void khv_mn_invalidate_end(struct mmu_notifier *mn,
				  const struct mmu_notifier_range *range)
{
	struct khv_vm *vm = mn_to_vm(mn);

	spin_lock(&vm->arch.mmu_lock);
	/* A fault that sampled mmu_seq before this end must retry. */
	vm->arch.mmu_seq++;
	if (!WARN_ON_ONCE(!vm->arch.mmu_inv_count))
		vm->arch.mmu_inv_count--;
	spin_unlock(&vm->arch.mmu_lock);
}

static u64 s2_test_young_leaf(struct khv_vm *vm, u64 gfn, u64 e,
			      unsigned long *acc)
{
	u64 a = vm->ops->s2_format->accessed;

	/* Without accessed bits, a mapped page may have been used. */
	if (!a || (e & a))
		*acc |= S2_ACC_YOUNG;
	return e;
}

static u64 s2_clear_young_leaf(struct khv_vm *vm, u64 gfn, u64 e,
			       unsigned long *acc)
{
	u64 a = vm->ops->s2_format->accessed;

	if (!a) {
		/* No accessed bits (EPT without A/D): age by zapping. */
		*acc |= S2_ACC_YOUNG;
		return s2_zap_leaf(vm, gfn, e, acc);
	}
	if (e & a) {
		*acc |= S2_ACC_YOUNG | S2_ACC_ZAPPED;
		return e & ~a;
	}
	return e;
}

static int khv_mn_age(struct mmu_notifier *mn, unsigned long start,
		      unsigned long end, bool flush)
{
	struct khv_vm *vm = mn_to_vm(mn);
	unsigned long acc;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&vm->arch.mmu_lock);
	acc = s2_hva_range(vm, start, end, s2_clear_young_leaf);
	/*
	 * A cleared accessed bit is set again by the hardware only when it
	 * walks the tables, i.e. after a flush. clear_young (no flush) may
	 * leave a cached translation around, as Linux allows; a zap is always
	 * flushed.
	 */
	if ((acc & S2_ACC_ZAPPED) && (flush || !vm->ops->s2_format->accessed))
		khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	spin_unlock(&vm->arch.mmu_lock);
	srcu_read_unlock(&vm->srcu, idx);
	return !!(acc & S2_ACC_YOUNG);
}

static int khv_mn_clear_flush_young(struct mmu_notifier *mn,
				    struct mm_struct *mm, unsigned long start,
				    unsigned long end)
{
	return khv_mn_age(mn, start, end, true);
}

static int khv_mn_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
			      unsigned long start, unsigned long end)
{
	return khv_mn_age(mn, start, end, false);
}

static int khv_mn_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
			     unsigned long address)
{
	struct khv_vm *vm = mn_to_vm(mn);
	unsigned long acc;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&vm->arch.mmu_lock);
	acc = s2_hva_range(vm, address, address + 1, s2_test_young_leaf);
	spin_unlock(&vm->arch.mmu_lock);
	srcu_read_unlock(&vm->srcu, idx);
	return !!(acc & S2_ACC_YOUNG);
}

/* The mm is going away (process exit): nothing may stay mapped. */
static void khv_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct khv_vm *vm = mn_to_vm(mn);

	khv_s2_zap(vm, 0, vm->max_gfn);
}

static const struct mmu_notifier_ops khv_mmu_notifier_ops = {
	.invalidate_range_start	= khv_mn_invalidate_start,
	.invalidate_range_end	= khv_mn_invalidate_end,
	.clear_flush_young	= khv_mn_clear_flush_young,
	.clear_young		= khv_mn_clear_young,
	.test_young		= khv_mn_test_young,
	.release		= khv_mn_release,
};

/* Called by the VM's creator: the notifier goes on current->mm. */
int khv_s2_init(struct khv_vm *vm)
{
	int r;

	spin_lock_init(&vm->arch.mmu_lock);
	vm->arch.s2_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->arch.s2_root)
		return -ENOMEM;
	vm->arch.mmu_notifier.ops = &khv_mmu_notifier_ops;
	r = mmu_notifier_register(&vm->arch.mmu_notifier, vm->mm);
	if (r) {
		free_page((unsigned long)vm->arch.s2_root);
		vm->arch.s2_root = NULL;
		return r;
	}
	vm->arch.mmu_notifier_on = true;
	return 0;
}

void khv_s2_detach(struct khv_vm *vm)
{
	if (!vm->arch.mmu_notifier_on)
		return;
	/* Waits for callbacks in flight; calls release if exit has not. */
	mmu_notifier_unregister(&vm->arch.mmu_notifier, vm->mm);
	vm->arch.mmu_notifier_on = false;
}

void khv_s2_destroy(struct khv_vm *vm)
{
	const struct khv_s2_format *f = vm->ops->s2_format;

	khv_s2_detach(vm);
	if (vm->arch.s2_root)
		s2_free_table(f, vm->arch.s2_root, f->levels);
	vm->arch.s2_root = NULL;
}

/*
 * The frame and write permission of the VMM's PTE for @hva; -errno if it
 * is not present. mmap_lock held.
 */
static int s2_pte_pfn(struct mm_struct *mm, unsigned long hva,
		      unsigned long *pfn, bool *writable)
{
	spinlock_t *ptl;
	pte_t *ptep;
	int r;

	r = follow_pte(mm, hva, &ptep, &ptl);
	if (r)
		return r;
	__acquire(ptl);		/* follow_pte() returned with it held */
	*writable = pte_write(*ptep);
	*pfn = pte_pfn(*ptep);
	pte_unmap_unlock(ptep, ptl);
	return 0;
}

/*
 * The host frame behind @hva in a VM_IO / VM_PFNMAP mapping, which GUP
 * refuses. No reference is taken: such frames have no struct page whose
 * count means anything, and the notifier covers their unmapping as any
 * other. Returns 0 and the frame, or -EFAULT.
 */
static int s2_remapped_pfn(unsigned long hva, bool write, unsigned long *pfn,
			   bool *writable)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int r = -EFAULT;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, hva);
	if (!vma || !(vma->vm_flags & (VM_IO | VM_PFNMAP)))
		goto out;
	if (s2_pte_pfn(mm, hva, pfn, writable) ||
	    (write && !*writable)) {
		bool unlocked = false;

		if (fixup_user_fault(mm, hva, write ? FAULT_FLAG_WRITE : 0,
				     &unlocked))
			goto out;
		if (unlocked)
			goto out;	/* the VMA may have changed: fault again */
		if (s2_pte_pfn(mm, hva, pfn, writable) ||
		    (write && !*writable))
			goto out;
	}
	r = 0;
out:
	mmap_read_unlock(mm);
	return r;
}

int khv_s2_fault(struct khv_vcpu *vcpu, u64 gpa, bool write)
{
	struct khv_vm *vm = vcpu->vm;
	const struct khv_s2_format *f = vm->ops->s2_format;
	u64 gfn = gpa >> PAGE_SHIFT, *pt, *e, leaf, old;
	void *spare[S2_MAX_LEVELS - 1] = {};
	struct khv_memslot *slot;
	struct page *page = NULL;
	unsigned long hva, pfn, seq;
	bool writable;
	int idx, r, i;
	long n;

	idx = srcu_read_lock(&vm->srcu);
	slot = khv_memslot_by_gfn(&vm->slots, gfn);
	if (!slot || (write && (slot->flags & KVM_MEM_READONLY))) {
		r = KHV_S2_MMIO;
		goto out;
	}
	hva = slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);

	/* Pairs with the increment in khv_mn_invalidate_end (under mmu_lock). */
	seq = READ_ONCE(vm->arch.mmu_seq);
	smp_rmb();

	/*
	 * A write fault needs a writable page. A read fault takes the page as
	 * it is (a KSM or zero page stays shared) and maps it writable only
	 * if the VMM's page table already allows writing.
	 */
	writable = write;
	n = get_user_pages_unlocked(hva, 1, &page, write ? FOLL_WRITE : 0);
	/* Logged slots: only a write fault maps writable (and logs it). */
	if (n == 1 && !write &&
	    !(slot->flags & (KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES))) {
		struct page *wpage;

		if (get_user_page_fast_only(hva, FOLL_WRITE, &wpage)) {
			put_page(page);
			page = wpage;
			writable = true;
		}
	}
	if (n == 1) {
		pfn = page_to_pfn(page);
	} else {
		page = NULL;
		r = s2_remapped_pfn(hva, write, &pfn, &writable);
		if (r) {
			r = n < 0 && n != -EFAULT ? (int)n : -EFAULT;
			goto out;
		}
		if (slot->flags & KVM_MEM_READONLY)
			writable = false;
		if (!write && (slot->flags & KVM_MEM_LOG_DIRTY_PAGES))
			writable = false;
	}

	for (i = 0; i < f->levels - 1; i++)
		spare[i] = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

	leaf = f->leaf_r | ((u64)pfn << PAGE_SHIFT) | (writable ? f->leaf_w : 0);
	if (page && !PageReserved(page))
		leaf |= S2_SW_PAGE;

	r = 0;
	spin_lock(&vm->arch.mmu_lock);
	if (vm->arch.mmu_inv_count || vm->arch.mmu_seq != seq) {
		/* The page may be on its way out: let the guest fault again. */
		spin_unlock(&vm->arch.mmu_lock);
		goto out_put;
	}
	pt = s2_walk(vm, gfn, spare, NULL);
	if (!pt) {
		spin_unlock(&vm->arch.mmu_lock);
		r = -ENOMEM;
		goto out_put;
	}
	e = &pt[s2_index(gfn, 1)];
	old = *e;
	/*
	 * Log before the guest can write: a harvest that clears the bit
	 * after this write-protects the entry again (under this lock).
	 */
	if (writable)
		khv_mark_dirty(slot, gfn);
	if (!(old & f->present)) {
		WRITE_ONCE(*e, leaf);
		vm->arch.s2_pages++;
	} else if ((old & S2_PA_MASK) != (leaf & S2_PA_MASK) ||
		   (writable && !(old & f->leaf_w))) {
		/*
		 * A read-only mapping a write needs upgraded (or, in theory, a
		 * different frame): replace it, and forget the old one.
		 */
		s2_leaf_dirty(f, old);
		WRITE_ONCE(*e, leaf);
		if ((old & S2_PA_MASK) != (leaf & S2_PA_MASK))
			khv_request_all(vm, KHV_REQ_TLB_FLUSH);
	}
	/* else another vCPU mapped it meanwhile: keep theirs. */
	spin_unlock(&vm->arch.mmu_lock);

out_put:
	/*
	 * The mapping needs no reference: the notifier zaps it before Linux
	 * can free or move the page.
	 */
	if (page)
		put_page(page);
	for (i = 0; i < S2_MAX_LEVELS - 1; i++)
		if (spare[i])
			free_page((unsigned long)spare[i]);
out:
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}
