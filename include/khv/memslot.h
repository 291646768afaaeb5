/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest memory slots: which guest-physical ranges are backed by which user
 * addresses of the VMM.
 *
 * A slot set holds two indexes over the same slots:
 *   by_gfn  maple tree (RCU mode): [base_gfn, base_gfn + npages - 1] -> slot,
 *           so lookup by guest frame is O(log n) and overlap checks are one
 *           range search;
 *   by_id   xarray: slot id -> slot.
 *
 * Locking (Documentation/locking.md):
 *   - updates are serialized by the owner's slots_lock (khv_vm.slots_lock);
 *   - readers (vCPUs, the fault path) hold the owner's SRCU read lock across
 *     any use of a slot pointer; the index walks themselves take
 *     rcu_read_lock() inside the helpers below;
 *   - a slot is never modified once published: a change publishes a new
 *     slot and frees the old one only after an SRCU grace period, so a
 *     reader sees the old slot, the new one, or (during a move) none.
 */
#ifndef KHV_MEMSLOT_H
#define KHV_MEMSLOT_H

#include <linux/bitops.h>
#include <linux/kvm.h>
#include <linux/maple_tree.h>
#include <linux/types.h>
#include <linux/xarray.h>

/* KVM's x86 figures: 32767 slots per address space, 3 kept for the kernel. */
#define KHV_USER_MEM_SLOTS	32764
/* Largest slot, in pages (KVM_MEM_MAX_NR_PAGES). */
#define KHV_MEM_MAX_NR_PAGES	((1ULL << 31) - 1)
#define KHV_MEM_FLAGS_VALID	(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)

struct khv_memslot {
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	u32 flags;
	u16 id;
	/*
	 * KVM_MEM_LOG_DIRTY_PAGES: one bit per page, set (atomically) by
	 * whoever lets the guest write a page or writes it for the guest,
	 * harvested under slots_lock. A slot that moves hands its bitmap on
	 * to its successor (owns_bitmap false in the old one).
	 */
	unsigned long *dirty_bitmap;
	bool owns_bitmap;
};

struct khv_memslots {
	struct maple_tree by_gfn;
	struct xarray by_id;
	u64 nr_pages;		/* sum of npages over all slots */
	u64 generation;		/* bumped by every published change */
};

/* What a KVM_SET_USER_MEMORY_REGION call asks for. */
enum khv_memslot_change {
	KHV_MR_NONE,		/* same as the current slot: nothing to do */
	KHV_MR_CREATE,
	KHV_MR_DELETE,
	KHV_MR_MOVE,
	KHV_MR_FLAGS_ONLY,
};

void khv_memslots_init(struct khv_memslots *slots);
/* Frees every slot; no reader may remain. */
void khv_memslots_destroy(struct khv_memslots *slots);

/*
 * Checks a request against the current set and the guest-physical limit
 * (max_gfn: first frame that is out of range). Returns a change, or -EINVAL
 * / -EEXIST as KVM does. *old is set to the slot with that id, if any.
 */
int khv_memslot_check(const struct khv_memslots *slots,
		      const struct kvm_userspace_memory_region *mem,
		      u64 max_gfn, struct khv_memslot **old);

/*
 * Publishes the change the check returned. Returns the slot that readers
 * may still see and that the caller frees after an SRCU grace period (NULL
 * if none), or an ERR_PTR on allocation failure (the set is unchanged).
 */
struct khv_memslot *khv_memslot_commit(struct khv_memslots *slots,
				       const struct kvm_userspace_memory_region *mem,
				       enum khv_memslot_change change,
				       struct khv_memslot *old);

/* Frees a slot no reader can see any more, and the bitmap it owns. */
void khv_memslot_free(struct khv_memslot *s);

static inline unsigned long khv_dirty_bitmap_bytes(const struct khv_memslot *s)
{
	return ALIGN(s->npages, BITS_PER_LONG) / 8;
}

/* Record a guest write to @gfn (in @s); SRCU held. */
static inline void khv_mark_dirty(struct khv_memslot *s, u64 gfn)
{
	if (s->dirty_bitmap)
		set_bit(gfn - s->base_gfn, s->dirty_bitmap);
}

/* Lookups; the caller holds the owner's SRCU read lock or its slots_lock. */
struct khv_memslot *khv_memslot_by_gfn(struct khv_memslots *slots, u64 gfn);
struct khv_memslot *khv_memslot_by_id(struct khv_memslots *slots, u16 id);

static inline u64 khv_memslot_end(const struct khv_memslot *s)
{
	return s->base_gfn + s->npages;
}

#endif /* KHV_MEMSLOT_H */
