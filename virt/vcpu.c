// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPUs: creation, the vCPU fd, its mmap (struct kvm_run and the PIO data
 * page) and its ioctls.
 *
 * A vCPU belongs to its VM: closing a vCPU fd drops a VM reference, and the
 * vCPU itself is freed with the VM, as in KVM. Every vCPU ioctl holds
 * vcpu->mutex, so one thread at a time acts on a vCPU.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include <khv/khv.h>
#include <khv/vendor.h>

static vm_fault_t khv_vcpu_fault(struct vm_fault *vmf)
{
	struct khv_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = virt_to_page(vcpu->run);
	else if (vmf->pgoff == KHV_PIO_PAGE_OFFSET)
		page = virt_to_page(vcpu->pio_data);
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct khv_vcpu_vm_ops = {
	.fault = khv_vcpu_fault,
};

static int khv_vcpu_mmap(struct file *file, struct vm_area_struct *vma)
{
	vma->vm_ops = &khv_vcpu_vm_ops;
	return 0;
}

static long khv_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct khv_vcpu *vcpu = filp->private_data;
	long r;

	if (!khv_vm_caller_ok(vcpu->vm))
		return -EIO;
	if (_IOC_TYPE(ioctl) != KVMIO)
		return -EINVAL;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	r = khv_arch_vcpu_ioctl(vcpu, ioctl, arg);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static int khv_vcpu_release(struct inode *inode, struct file *filp)
{
	struct khv_vcpu *vcpu = filp->private_data;

	khv_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations khv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= khv_vcpu_release,
	.unlocked_ioctl	= khv_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= khv_vcpu_mmap,
	.llseek		= noop_llseek,
};

/* Frees a vCPU; the VM is being destroyed and nothing else can reach it. */
void khv_vcpu_destroy(struct khv_vcpu *vcpu)
{
	const struct khv_vendor_ops *ops = vcpu->vm->ops;

	if (ops->vcpu_free)
		ops->vcpu_free(vcpu);
	khv_arch_vcpu_free(vcpu);
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
}

static struct khv_vcpu *khv_vcpu_alloc(struct khv_vm *vm, u32 id)
{
	const struct khv_vendor_ops *ops = vm->ops;
	struct khv_vcpu *vcpu;

	vcpu = kzalloc(max(ops->vcpu_size, sizeof(*vcpu)), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->vcpu_id = id;
	mutex_init(&vcpu->mutex);
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run || !vcpu->pio_data)
		goto err;
	if (khv_arch_vcpu_create(vcpu))
		goto err;
	if (ops->vcpu_create && ops->vcpu_create(vcpu))
		goto err_arch;
	return vcpu;
err_arch:
	khv_arch_vcpu_free(vcpu);
err:
	free_page((unsigned long)vcpu->pio_data);
	free_page((unsigned long)vcpu->run);
	kfree(vcpu);
	return NULL;
}

/**
 * khv_create_vcpu - KVM_CREATE_VCPU
 * @vm: the VM
 * @id: the vCPU id user space chose (below KVM_CAP_MAX_VCPU_ID, unique)
 *
 * Returns the vCPU fd. At most KHV_MAX_VCPUS vCPUs per VM (-EINVAL beyond,
 * as KVM), a taken id is -EEXIST.
 */
int khv_create_vcpu(struct khv_vm *vm, unsigned long id)
{
	struct khv_vcpu *vcpu, *other;
	char name[24];
	unsigned long i;
	u32 idx;
	int r;

	if (id >= KHV_MAX_VCPU_IDS)
		return -EINVAL;

	/* Reserve a place first, so the allocation runs without vm->lock. */
	mutex_lock(&vm->lock);
	if (vm->created_vcpus >= KHV_MAX_VCPUS) {
		mutex_unlock(&vm->lock);
		return -EINVAL;
	}
	vm->created_vcpus++;
	mutex_unlock(&vm->lock);

	vcpu = khv_vcpu_alloc(vm, id);
	if (!vcpu) {
		r = -ENOMEM;
		goto err_unreserve;
	}

	mutex_lock(&vm->lock);
	xa_for_each(&vm->vcpus, i, other) {
		if (other->vcpu_id == id) {
			r = -EEXIST;
			goto err_unlock;
		}
	}
	r = xa_alloc(&vm->vcpus, &idx, vcpu, xa_limit_31b, GFP_KERNEL_ACCOUNT);
	if (r)
		goto err_unlock;
	vcpu->vcpu_idx = idx;

	/* The fd's reference on the VM; dropped by the fd's release. */
	khv_vm_get(vm);
	snprintf(name, sizeof(name), "khv-vcpu:%lu", id);
	r = anon_inode_getfd(name, &khv_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		xa_erase(&vm->vcpus, idx);
		mutex_unlock(&vm->lock);
		/* Not the last reference: the caller's VM fd holds one. */
		khv_vm_put(vm);
		khv_vcpu_destroy(vcpu);
		goto err_unreserve;
	}
	atomic_inc(&vm->online_vcpus);
	mutex_unlock(&vm->lock);
	return r;

err_unlock:
	mutex_unlock(&vm->lock);
	khv_vcpu_destroy(vcpu);
err_unreserve:
	mutex_lock(&vm->lock);
	vm->created_vcpus--;
	mutex_unlock(&vm->lock);
	return r;
}
