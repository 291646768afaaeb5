// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memslot sets: validation of KVM_SET_USER_MEMORY_REGION requests and the
 * two indexes over the slots. See include/khv/memslot.h for the locking.
 *
 * Nothing here knows about VMs: the KUnit suite in tests/kunit/ drives these
 * functions on a bare set.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <khv/memslot.h>

void khv_memslots_init(struct khv_memslots *slots)
{
	mt_init_flags(&slots->by_gfn, MT_FLAGS_USE_RCU);
	xa_init(&slots->by_id);
	slots->nr_pages = 0;
	slots->generation = 0;
}

void khv_memslots_destroy(struct khv_memslots *slots)
{
	struct khv_memslot *s;
	unsigned long id;

	xa_for_each(&slots->by_id, id, s)
		khv_memslot_free(s);
	xa_destroy(&slots->by_id);
	mtree_destroy(&slots->by_gfn);
	slots->nr_pages = 0;
}

void khv_memslot_free(struct khv_memslot *s)
{
	if (s && s->owns_bitmap)
		kvfree(s->dirty_bitmap);
	kfree(s);
}

struct khv_memslot *khv_memslot_by_gfn(struct khv_memslots *slots, u64 gfn)
{
	struct khv_memslot *s;

	rcu_read_lock();
	s = mtree_load(&slots->by_gfn, gfn);
	rcu_read_unlock();
	return s;
}

struct khv_memslot *khv_memslot_by_id(struct khv_memslots *slots, u16 id)
{
	return xa_load(&slots->by_id, id);
}

/* Is any slot other than @id in [start, end)? */
static bool khv_memslot_overlaps(const struct khv_memslots *slots, u16 id,
				 u64 start, u64 end)
{
	struct maple_tree *mt = (struct maple_tree *)&slots->by_gfn;
	unsigned long index = start;
	struct khv_memslot *s;
	bool found = false;

	rcu_read_lock();
	while ((s = mt_find(mt, &index, end - 1))) {
		if (s->id != id) {
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

int khv_memslot_check(const struct khv_memslots *slots,
		      const struct kvm_userspace_memory_region *mem,
		      u64 max_gfn, struct khv_memslot **old)
{
	u16 as_id = mem->slot >> 16, id = (u16)mem->slot;
	u64 base_gfn, npages;
	struct khv_memslot *o;

	*old = NULL;
	if (mem->flags & ~KHV_MEM_FLAGS_VALID)
		return -EINVAL;
	/* One address space: no SMM (KVM_CAP_MULTI_ADDRESS_SPACE is 0). */
	if (as_id || id >= KHV_USER_MEM_SLOTS)
		return -EINVAL;
	if (!PAGE_ALIGNED(mem->memory_size) ||
	    !PAGE_ALIGNED(mem->guest_phys_addr) ||
	    !PAGE_ALIGNED(mem->userspace_addr))
		return -EINVAL;
	if (mem->userspace_addr != untagged_addr(mem->userspace_addr) ||
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	npages = mem->memory_size >> PAGE_SHIFT;
	if (npages > KHV_MEM_MAX_NR_PAGES)
		return -EINVAL;
	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;

	o = xa_load((struct xarray *)&slots->by_id, id);
	*old = o;
	if (!npages)
		return o ? KHV_MR_DELETE : -EINVAL;

	if (o) {
		/* Only the guest address and the flags of a slot can change. */
		if (mem->userspace_addr != o->userspace_addr ||
		    npages != o->npages ||
		    ((mem->flags ^ o->flags) & KVM_MEM_READONLY))
			return -EINVAL;
		if (base_gfn == o->base_gfn)
			return mem->flags == o->flags ? KHV_MR_NONE :
							KHV_MR_FLAGS_ONLY;
	}
	/* KVM checks the overlap before the guest-physical limit. */
	if (khv_memslot_overlaps(slots, id, base_gfn, base_gfn + npages))
		return -EEXIST;
	if (base_gfn + npages > max_gfn)
		return -EINVAL;
	return o ? KHV_MR_MOVE : KHV_MR_CREATE;
}

/*
 * A new slot; with dirty logging it takes @old's bitmap if @old logs too
 * (a move keeps the bits, as KVM), else gets a clear one.
 */
static struct khv_memslot *
khv_memslot_new(const struct kvm_userspace_memory_region *mem,
		struct khv_memslot *old)
{
	struct khv_memslot *s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);

	if (!s)
		return NULL;
	s->id = (u16)mem->slot;
	s->base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	s->npages = mem->memory_size >> PAGE_SHIFT;
	s->userspace_addr = mem->userspace_addr;
	s->flags = mem->flags;
	if (!(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return s;
	if (old && old->dirty_bitmap) {
		s->dirty_bitmap = old->dirty_bitmap;
		return s;
	}
	s->dirty_bitmap = kvzalloc(khv_dirty_bitmap_bytes(s), GFP_KERNEL_ACCOUNT);
	if (!s->dirty_bitmap) {
		kfree(s);
		return NULL;
	}
	s->owns_bitmap = true;
	return s;
}

static int khv_memslot_index(struct khv_memslots *slots, struct khv_memslot *s)
{
	return mtree_store_range(&slots->by_gfn, s->base_gfn,
				 khv_memslot_end(s) - 1, s, GFP_KERNEL_ACCOUNT);
}

static void khv_memslot_unindex(struct khv_memslots *slots,
				struct khv_memslot *s)
{
	mtree_erase(&slots->by_gfn, s->base_gfn);
}

struct khv_memslot *khv_memslot_commit(struct khv_memslots *slots,
				       const struct kvm_userspace_memory_region *mem,
				       enum khv_memslot_change change,
				       struct khv_memslot *old)
{
	struct khv_memslot *s = NULL;
	int r;

	if (change == KHV_MR_NONE)
		return NULL;

	if (change != KHV_MR_DELETE) {
		s = khv_memslot_new(mem, old);
		if (!s)
			return ERR_PTR(-ENOMEM);
		/* Reserve the id entry first: the only step that can fail late. */
		if (!old) {
			r = xa_insert(&slots->by_id, s->id, s, GFP_KERNEL_ACCOUNT);
			if (r)
				goto err_free;
		}
	}

	switch (change) {
	case KHV_MR_CREATE:
		r = khv_memslot_index(slots, s);
		if (r) {
			xa_erase(&slots->by_id, s->id);
			goto err_free;
		}
		slots->nr_pages += s->npages;
		break;
	case KHV_MR_DELETE:
		khv_memslot_unindex(slots, old);
		xa_erase(&slots->by_id, old->id);
		slots->nr_pages -= old->npages;
		break;
	case KHV_MR_MOVE:
		/*
		 * Unpublish the old range first: a reader never sees the slot
		 * at both addresses.
		 */
		khv_memslot_unindex(slots, old);
		r = khv_memslot_index(slots, s);
		if (r) {
			/* Restore the old range: the nodes it used are free. */
			WARN_ON_ONCE(khv_memslot_index(slots, old));
			goto err_free;
		}
		xa_store(&slots->by_id, s->id, s, GFP_KERNEL_ACCOUNT);
		break;
	case KHV_MR_FLAGS_ONLY:
		/* Same range: replacing the entry cannot need more nodes. */
		r = khv_memslot_index(slots, s);
		if (r)
			goto err_free;
		xa_store(&slots->by_id, s->id, s, GFP_KERNEL_ACCOUNT);
		break;
	default:
		WARN_ON_ONCE(1);
		r = -EINVAL;
		goto err_free;
	}
	if (s && old && s->dirty_bitmap == old->dirty_bitmap && old->owns_bitmap) {
		/* Readers of the old slot may still mark it: it stays valid. */
		old->owns_bitmap = false;
		s->owns_bitmap = true;
	}
	slots->generation++;
	return old;

err_free:
	khv_memslot_free(s);
	return ERR_PTR(r);
}
