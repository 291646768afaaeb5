// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest memory as the instruction emulator and string I/O see it: guest
 * physical accesses through the memslots (the VMM's user memory), and
 * linear addresses translated with the guest's own page tables.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uaccess.h>

#include <khv/khv.h>
#include <khv/vendor.h>
#include <khv/x86_walk.h>

/*
 * User address of a guest-physical range within one page; NULL if no
 * memslot backs it (MMIO) or a write hits a read-only slot. Caller holds
 * the VM's SRCU read lock.
 */
static void __user *khv_gpa_to_hva(struct khv_vm *vm, u64 gpa, bool write)
{
	struct khv_memslot *s = khv_memslot_by_gfn(&vm->slots, gpa >> PAGE_SHIFT);

	if (!s || (write && (s->flags & KVM_MEM_READONLY)))
		return NULL;
	/* The caller writes right after, under the same SRCU section. */
	if (write)
		khv_mark_dirty(s, gpa >> PAGE_SHIFT);
	return (void __user *)(s->userspace_addr +
			       (gpa - (s->base_gfn << PAGE_SHIFT)));
}

/*
 * Copy to or from guest-physical memory. Returns 0, 1 if (part of) the
 * range is not guest RAM (the caller treats it as MMIO: ranges are split
 * per page by the callers, so "part" does not happen), or -EFAULT if the
 * VMM's memory behind a slot is not there.
 */
int khv_gpa_rw(struct khv_vcpu *vcpu, u64 gpa, void *buf, unsigned int len,
	       bool write)
{
	struct khv_vm *vm = vcpu->vm;
	void __user *hva;
	int idx, r = 0;

	if (WARN_ON_ONCE(offset_in_page(gpa) + len > PAGE_SIZE))
		return -EINVAL;
	idx = srcu_read_lock(&vm->srcu);
	hva = khv_gpa_to_hva(vm, gpa, write);
	if (!hva)
		r = 1;
	else if (write ? copy_to_user(hva, buf, len) : copy_from_user(buf, hva, len))
		r = -EFAULT;
	srcu_read_unlock(&vm->srcu, idx);
	return r;
}
EXPORT_SYMBOL_GPL(khv_gpa_rw);

static int khv_walk_read_pte(void *ctx, u64 gpa, u64 *val, unsigned int size)
{
	*val = 0;
	return khv_gpa_rw(ctx, gpa, val, size, false) ? -EFAULT : 0;
}

/* Atomically update a guest page-table entry (accessed/dirty bits). */
static int khv_walk_cmpxchg_pte(void *ctx, u64 gpa, u64 old, u64 new,
				unsigned int size)
{
	struct khv_vcpu *vcpu = ctx;
	struct khv_vm *vm = vcpu->vm;
	struct page *page;
	void __user *hva;
	bool ok;
	void *p;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	hva = khv_gpa_to_hva(vm, gpa, true);
	if (!hva || get_user_pages_unlocked((unsigned long)hva, 1, &page,
					    FOLL_WRITE) != 1) {
		srcu_read_unlock(&vm->srcu, idx);
		return -EFAULT;
	}
	srcu_read_unlock(&vm->srcu, idx);
	p = kmap_local_page(page) + offset_in_page(hva);
	if (size == 8)
		ok = try_cmpxchg64((u64 *)p, &old, new);
	else
		ok = cmpxchg((u32 *)p, (u32)old, (u32)new) == (u32)old;
	kunmap_local(p);
	set_page_dirty_lock(page);
	put_page(page);
	return ok ? 0 : -EAGAIN;
}

static const struct khv_walk_ops khv_guest_walk_ops = {
	.read_pte	= khv_walk_read_pte,
	.cmpxchg_pte	= khv_walk_cmpxchg_pte,
};

/**
 * khv_translate - guest linear address to guest physical
 * @vcpu: the vCPU, whose paging controls are in @sregs
 * @sregs: the vCPU's current control registers
 * @gva: linear address
 * @access: KHV_ACC_*
 * @gpa: the result
 * @err: #PF error code when the result is KHV_WALK_FAULT
 *
 * Returns 0, KHV_WALK_FAULT, KHV_WALK_NONCANONICAL or -errno.
 */
int khv_translate(struct khv_vcpu *vcpu, const struct kvm_sregs *sregs,
		  u64 gva, u32 access, u64 *gpa, u32 *err)
{
	struct khv_walk_mode m = {
		.cr0 = sregs->cr0, .cr3 = sregs->cr3, .cr4 = sregs->cr4,
		.efer = sregs->efer, .rflags = vcpu->arch.rflags,
		.cpl = sregs->ss.dpl,
		.maxphyaddr = boot_cpu_data.x86_phys_bits,
		.amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD,
	};
	struct khv_walk_result res;
	int r;

	r = khv_walk(&m, gva, access, &khv_guest_walk_ops, vcpu, &res);
	*gpa = res.gpa;
	*err = res.error_code;
	return r;
}

/**
 * khv_linear_rw - copy to or from guest linear memory that is RAM
 * @vcpu: the vCPU
 * @sregs: its control registers
 * @la: linear address (segment base already added)
 * @buf: data
 * @len: bytes, may cross pages
 * @access: KHV_ACC_* (KHV_ACC_WRITE for a write)
 * @err: #PF error code when the result is KHV_WALK_FAULT
 * @fault_la: then, the linear address that faulted
 *
 * Returns 0; KHV_WALK_FAULT (inject #PF); KHV_MEM_NOT_RAM when a page is
 * not RAM (nothing was copied from that page on); KHV_WALK_NONCANONICAL;
 * or -errno.
 */
int khv_linear_rw(struct khv_vcpu *vcpu, const struct kvm_sregs *sregs,
		  u64 la, void *buf, unsigned int len, u32 access, u32 *err,
		  u64 *fault_la)
{
	bool paging = sregs->cr0 & X86_CR0_PG;
	bool write = access & KHV_ACC_WRITE;

	while (len) {
		unsigned int chunk = min_t(unsigned int, len,
					   PAGE_SIZE - offset_in_page(la));
		u64 gpa;
		int r;

		if (paging) {
			r = khv_translate(vcpu, sregs, la, access, &gpa, err);
			if (r) {
				*fault_la = la;
				return r;
			}
		} else {
			gpa = (u32)la;
		}
		r = khv_gpa_rw(vcpu, gpa, buf, chunk, write);
		if (r)
			return r > 0 ? KHV_MEM_NOT_RAM : r;
		la += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}
