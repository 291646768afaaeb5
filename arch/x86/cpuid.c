// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest's CPUID table: KVM_SET_CPUID2 / KVM_GET_CPUID2, and lookups for
 * the CPUID exit.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <khv/khv.h>

/* KVM's limit on KVM_SET_CPUID2 entries. */
#define KHV_MAX_CPUID_ENTRIES	256

long khv_set_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	struct kvm_cpuid_entry2 *e = NULL;
	struct kvm_cpuid2 c;

	if (copy_from_user(&c, u, sizeof(c)))
		return -EFAULT;
	if (c.nent > KHV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (c.nent) {
		e = vmemdup_user(u->entries, array_size(c.nent, sizeof(*e)));
		if (IS_ERR(e))
			return PTR_ERR(e);
	}
	kvfree(vcpu->arch.cpuid);
	vcpu->arch.cpuid = e;
	vcpu->arch.cpuid_nent = c.nent;
	return 0;
}

long khv_get_cpuid2(struct khv_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	struct kvm_cpuid2 c;
	int n = vcpu->arch.cpuid_nent;

	if (copy_from_user(&c, u, sizeof(c)))
		return -EFAULT;
	if (c.nent < n) {
		/* Tell user space how many there are (KVM does, too). */
		c.nent = n;
		return copy_to_user(&u->nent, &c.nent, sizeof(c.nent)) ?
			-EFAULT : -E2BIG;
	}
	c.nent = n;
	if (copy_to_user(&u->nent, &c.nent, sizeof(c.nent)) ||
	    copy_to_user(u->entries, vcpu->arch.cpuid,
			 array_size(n, sizeof(*vcpu->arch.cpuid))))
		return -EFAULT;
	return 0;
}

const struct kvm_cpuid_entry2 *khv_cpuid_find(struct khv_vcpu *vcpu,
					      u32 function, u32 index)
{
	int i;

	for (i = 0; i < vcpu->arch.cpuid_nent; i++) {
		const struct kvm_cpuid_entry2 *e = &vcpu->arch.cpuid[i];

		if (e->function != function)
			continue;
		if ((e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) &&
		    e->index != index)
			continue;
		return e;
	}
	return NULL;
}
