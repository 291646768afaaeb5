// SPDX-License-Identifier: GPL-2.0-only
/*
 * VMs: creation, the VM fd and its ioctls, lifetime.
 *
 * A VM is an anonymous-inode fd. It lives until its last user is gone: the
 * VM fd holds one reference and each vCPU fd another, so fds can be closed
 * in any order and the process can die at any point. Every ioctl on a VM or
 * vCPU fd checks that the caller's mm is the creator's (-EIO otherwise), as
 * KVM does: a VM's memory is the creator's address space.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include <khv/khv.h>
#include <khv/vendor.h>

bool khv_vm_caller_ok(const struct khv_vm *vm)
{
	return vm->mm == current->mm;
}

void khv_vm_get(struct khv_vm *vm)
{
	refcount_inc(&vm->users);
}

static void khv_vm_destroy(struct khv_vm *vm)
{
	const struct khv_vendor_ops *ops = vm->ops;
	struct khv_vcpu *vcpu;
	unsigned long i;

	/* No notifier callback may run (and kick vCPUs) past this point. */
	khv_s2_detach(vm);
	xa_for_each(&vm->vcpus, i, vcpu)
		khv_vcpu_destroy(vcpu);
	xa_destroy(&vm->vcpus);
	if (ops->vm_destroy)
		ops->vm_destroy(vm);
	khv_s2_destroy(vm);
	/* No reader is left: nothing can hold the SRCU read lock any more. */
	khv_memslots_destroy(&vm->slots);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);
	kfree(vm);

	mutex_lock(&khv_lock);
	khv_hw_put();
	mutex_unlock(&khv_lock);
	module_put(ops->owner);
}

void khv_vm_put(struct khv_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		khv_vm_destroy(vm);
}

static int khv_vm_set_memory_region(struct khv_vm *vm,
				    const struct kvm_userspace_memory_region *mem)
{
	struct khv_memslot *old;
	int change, r;

	mutex_lock(&vm->slots_lock);
	r = change = khv_memslot_check(&vm->slots, mem, vm->max_gfn, &old);
	if (change < 0)
		goto out;
	old = khv_memslot_commit(&vm->slots, mem, change, old);
	if (IS_ERR(old)) {
		r = PTR_ERR(old);
		goto out;
	}
	r = 0;
	if (old) {
		/* Readers may still use the old slot until a grace period. */
		synchronize_srcu_expedited(&vm->srcu);
		/*
		 * Only now can no fault be installing from the old slot: unmap
		 * what it had mapped (a flags change keeps the mappings).
		 */
		if (change != KHV_MR_FLAGS_ONLY)
			khv_s2_zap(vm, old->base_gfn, old->npages);
		khv_memslot_free(old);
	}
	if (change == KHV_MR_FLAGS_ONLY && (mem->flags & KVM_MEM_LOG_DIRTY_PAGES)) {
		struct khv_memslot *s = khv_memslot_by_id(&vm->slots, (u16)mem->slot);

		/*
		 * Logging starts: no fault can map from the unlogged slot any
		 * more (grace period above), so write-protecting what is mapped
		 * now makes the guest's next write to every page fault.
		 */
		if (vm->arch.dirty_log_manual & KVM_DIRTY_LOG_INITIALLY_SET)
			bitmap_set(s->dirty_bitmap, 0, s->npages);
		khv_s2_write_protect(vm, s->base_gfn, khv_memslot_end(s));
	} else if (change == KHV_MR_CREATE && (mem->flags & KVM_MEM_LOG_DIRTY_PAGES) &&
		   (vm->arch.dirty_log_manual & KVM_DIRTY_LOG_INITIALLY_SET)) {
		struct khv_memslot *s = khv_memslot_by_id(&vm->slots, (u16)mem->slot);

		bitmap_set(s->dirty_bitmap, 0, s->npages);
	}
out:
	mutex_unlock(&vm->slots_lock);
	return r;
}

/* The logged slot a dirty-log ioctl names, or an ERR_PTR as KVM. */
static struct khv_memslot *khv_dirty_log_slot(struct khv_vm *vm, u32 slot)
{
	struct khv_memslot *s;

	/* KVM knows two address spaces on x86; khv has only the first. */
	if ((slot >> 16) >= 2 || (u16)slot >= KHV_USER_MEM_SLOTS)
		return ERR_PTR(-EINVAL);
	s = (slot >> 16) ? NULL : khv_memslot_by_id(&vm->slots, (u16)slot);
	if (!s || !s->dirty_bitmap)
		return ERR_PTR(-ENOENT);
	return s;
}

/*
 * KVM_GET_DIRTY_LOG. Without manual protection the bits are taken (each
 * word swapped with 0), their pages write-protected and every TLB flushed
 * before the bitmap reaches user space: a write the bitmap does not show
 * either happened before the copy user space makes next, or faults and is
 * in the next harvest.
 */
static int khv_get_dirty_log(struct khv_vm *vm, struct kvm_dirty_log *log)
{
	unsigned long *bm, *buf, n, i;
	struct khv_memslot *s;
	int r;

	mutex_lock(&vm->slots_lock);
	s = khv_dirty_log_slot(vm, log->slot);
	if (IS_ERR(s)) {
		r = PTR_ERR(s);
		goto out;
	}
	bm = s->dirty_bitmap;
	n = khv_dirty_bitmap_bytes(s);
	if (vm->arch.dirty_log_manual) {
		r = copy_to_user(log->dirty_bitmap, bm, n) ? -EFAULT : 0;
		goto out;
	}
	buf = kvzalloc(n, GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!buf)
		goto out;
	for (i = 0; i < n / sizeof(long); i++) {
		if (!READ_ONCE(bm[i]))
			continue;
		buf[i] = xchg(&bm[i], 0);
		khv_s2_write_protect_mask(vm, s->base_gfn + i * BITS_PER_LONG,
					  buf[i]);
	}
	r = copy_to_user(log->dirty_bitmap, buf, n) ? -EFAULT : 0;
	kvfree(buf);
out:
	mutex_unlock(&vm->slots_lock);
	return r;
}

/* KVM_CLEAR_DIRTY_LOG: clear the given bits and re-protect their pages. */
static int khv_clear_dirty_log(struct khv_vm *vm, struct kvm_clear_dirty_log *log)
{
	unsigned long *bm, *buf, n, i, w;
	struct khv_memslot *s;
	int r;

	if ((log->slot >> 16) >= 2 || (u16)log->slot >= KHV_USER_MEM_SLOTS)
		return -EINVAL;
	if (log->first_page & 63)
		return -EINVAL;
	mutex_lock(&vm->slots_lock);
	s = khv_dirty_log_slot(vm, log->slot);
	if (IS_ERR(s)) {
		r = PTR_ERR(s);
		goto out;
	}
	r = -EINVAL;
	if (log->first_page > s->npages ||
	    log->num_pages > s->npages - log->first_page ||
	    (log->num_pages < s->npages - log->first_page && (log->num_pages & 63)))
		goto out;
	bm = s->dirty_bitmap;
	n = ALIGN(log->num_pages, BITS_PER_LONG) / 8;
	r = 0;
	if (!n)
		goto out;
	buf = kvmalloc(n, GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!buf)
		goto out;
	r = -EFAULT;
	if (copy_from_user(buf, log->dirty_bitmap, n))
		goto out_free;
	w = log->first_page / BITS_PER_LONG;
	for (i = 0; i < n / sizeof(long); i++) {
		unsigned long mask = buf[i];

		if (!mask)
			continue;
		/* Only bits that were set need their page protected again. */
		mask &= atomic_long_fetch_andnot(mask, (atomic_long_t *)&bm[w + i]);
		if (mask)
			khv_s2_write_protect_mask(vm, s->base_gfn +
						  (w + i) * BITS_PER_LONG, mask);
	}
	r = 0;
out_free:
	kvfree(buf);
out:
	mutex_unlock(&vm->slots_lock);
	return r;
}

static int khv_vm_enable_cap(struct khv_vm *vm, const struct kvm_enable_cap *cap)
{
	u64 allowed = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;

	switch (cap->cap) {
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		if (cap->args[0] & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)
			allowed |= KVM_DIRTY_LOG_INITIALLY_SET;
		if (cap->flags || (cap->args[0] & ~allowed))
			return -EINVAL;
		mutex_lock(&vm->slots_lock);
		vm->arch.dirty_log_manual = cap->args[0];
		mutex_unlock(&vm->slots_lock);
		return 0;
	default:
		return -EINVAL;
	}
}

static long khv_vm_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	struct khv_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	if (!khv_vm_caller_ok(vm))
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return khv_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region mem;

		if (copy_from_user(&mem, argp, sizeof(mem)))
			return -EFAULT;
		return khv_vm_set_memory_region(vm, &mem);
	}
	case KVM_CHECK_EXTENSION:
		return khv_check_extension(vm, arg);
	case KVM_GET_DIRTY_LOG: {
		struct kvm_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return khv_get_dirty_log(vm, &log);
	}
	case KVM_CLEAR_DIRTY_LOG: {
		struct kvm_clear_dirty_log log;

		if (copy_from_user(&log, argp, sizeof(log)))
			return -EFAULT;
		return khv_clear_dirty_log(vm, &log);
	}
	case KVM_ENABLE_CAP: {
		struct kvm_enable_cap cap;

		if (copy_from_user(&cap, argp, sizeof(cap)))
			return -EFAULT;
		return khv_vm_enable_cap(vm, &cap);
	}
	default:
		/* KVM answers unknown VM ioctls with -ENOTTY. */
		return khv_arch_vm_ioctl(vm, ioctl, arg);
	}
}

static int khv_vm_release(struct inode *inode, struct file *filp)
{
	khv_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations khv_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= khv_vm_release,
	.unlocked_ioctl	= khv_vm_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct khv_vm *khv_vm_alloc(const struct khv_vendor_ops *ops)
{
	struct khv_vm *vm;

	vm = kzalloc(max(ops->vm_size, sizeof(*vm)), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return NULL;
	vm->ops = ops;
	vm->mm = current->mm;
	mmgrab(vm->mm);
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	mutex_init(&vm->slots_lock);
	xa_init_flags(&vm->vcpus, XA_FLAGS_ALLOC);
	atomic_set(&vm->online_vcpus, 0);
	khv_memslots_init(&vm->slots);
	/* Guest-physical addresses are limited to the host's MAXPHYADDR. */
	vm->max_gfn = 1ULL << (boot_cpu_data.x86_phys_bits - PAGE_SHIFT);
	if (init_srcu_struct(&vm->srcu))
		goto err_mm;
	if (khv_s2_init(vm))
		goto err_srcu;
	return vm;

err_srcu:
	cleanup_srcu_struct(&vm->srcu);
err_mm:
	mmdrop(vm->mm);
	kfree(vm);
	return NULL;
}

/**
 * khv_create_vm - KVM_CREATE_VM: a new VM and its fd
 * @type: machine type; x86 knows only 0
 */
int khv_create_vm(unsigned long type)
{
	const struct khv_vendor_ops *ops;
	struct khv_vm *vm;
	struct file *file;
	int fd, r;

	if (type)
		return -EINVAL;

	/* Pin the backend and switch the hardware on, or fail. */
	mutex_lock(&khv_lock);
	ops = khv_vendor;
	if (!ops || !try_module_get(ops->owner)) {
		mutex_unlock(&khv_lock);
		return -ENODEV;
	}
	r = khv_hw_get(ops);
	mutex_unlock(&khv_lock);
	if (r)
		goto err_module;

	r = -ENOMEM;
	vm = khv_vm_alloc(ops);
	if (!vm)
		goto err_hw;
	if (ops->vm_init) {
		r = ops->vm_init(vm);
		if (r)
			goto err_free;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		r = fd;
		goto err_vendor;
	}
	file = anon_inode_getfile("khv-vm", &khv_vm_fops, vm, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		r = PTR_ERR(file);
		goto err_vendor;
	}
	/* From here on the VM belongs to the fd: its release frees it. */
	fd_install(fd, file);
	return fd;

err_vendor:
	if (ops->vm_destroy)
		ops->vm_destroy(vm);
err_free:
	khv_s2_destroy(vm);
	khv_memslots_destroy(&vm->slots);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);
	kfree(vm);
err_hw:
	mutex_lock(&khv_lock);
	khv_hw_put();
	mutex_unlock(&khv_lock);
err_module:
	module_put(ops->owner);
	return r;
}
