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
		kfree(old);
	}
out:
	mutex_unlock(&vm->slots_lock);
	return r;
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
	default:
		/* KVM answers unknown VM ioctls with -ENOTTY. */
		return -ENOTTY;
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
