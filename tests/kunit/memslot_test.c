// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: memslot validation, overlap and lookup (virt/memslot.c).
 *
 * The code under test is compiled into this module (see the #include below),
 * so the suite runs without khv.ko and drives a bare slot set.
 */
#include <kunit/test.h>
#include <linux/random.h>

#include "../../virt/memslot.c"

#define PG		PAGE_SIZE
#define HVA		0x10000000UL
#define MAX_GFN		(1ULL << 40)

static struct kvm_userspace_memory_region mr(u32 slot, u32 flags, u64 gpa,
					     u64 size, unsigned long hva)
{
	return (struct kvm_userspace_memory_region) {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = hva,
	};
}

/* check + commit, freeing the replaced slot at once (no readers here). */
static int set(struct khv_memslots *s, struct kvm_userspace_memory_region m)
{
	struct khv_memslot *old;
	int change = khv_memslot_check(s, &m, MAX_GFN, &old);

	if (change < 0)
		return change;
	old = khv_memslot_commit(s, &m, change, old);
	if (IS_ERR(old))
		return PTR_ERR(old);
	khv_memslot_free(old);
	return change;
}

/* Each case gets a fresh, empty set in test->priv. */
static int slots_init(struct kunit *test)
{
	struct khv_memslots *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	khv_memslots_init(s);
	test->priv = s;
	return 0;
}

static void slots_exit(struct kunit *test)
{
	khv_memslots_destroy(test->priv);
	kfree(test->priv);
}

static struct khv_memslots *new_slots(struct kunit *test)
{
	return test->priv;
}

static void memslot_invalid(struct kunit *test)
{
	struct khv_memslots *s = new_slots(test);

	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 1u << 2, 0, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 1, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0, PG + 1, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0, PG, HVA + 1)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(KHV_USER_MEM_SLOTS, 0, 0, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(1u << 16, 0, 0, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, -PG, 2 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0, (KHV_MEM_MAX_NR_PAGES + 1) * PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, MAX_GFN * PG, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, (MAX_GFN - 1) * PG, 2 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, KHV_MR_CREATE, set(s, mr(0, 0, (MAX_GFN - 1) * PG, PG, HVA)));
	/* Deleting what is not there. */
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(1, 0, 0, 0, 0)));
	KUNIT_EXPECT_EQ(test, 1ULL, s->nr_pages);
}

static void memslot_lookup_bounds(struct kunit *test)
{
	struct khv_memslots *s = new_slots(test);
	struct khv_memslot *m;

	KUNIT_ASSERT_EQ(test, KHV_MR_CREATE, set(s, mr(3, 0, 0x10000, 4 * PG, HVA)));
	m = khv_memslot_by_gfn(s, 0x10);
	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_EXPECT_EQ(test, 3, m->id);
	KUNIT_EXPECT_EQ(test, 0x10ULL, m->base_gfn);
	KUNIT_EXPECT_EQ(test, 4ULL, m->npages);
	KUNIT_EXPECT_PTR_EQ(test, m, khv_memslot_by_gfn(s, 0x13));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_gfn(s, 0x14));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_gfn(s, 0xf));
	KUNIT_EXPECT_PTR_EQ(test, m, khv_memslot_by_id(s, 3));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_id(s, 2));
}

static void memslot_overlap(struct kunit *test)
{
	struct khv_memslots *s = new_slots(test);

	KUNIT_ASSERT_EQ(test, KHV_MR_CREATE, set(s, mr(0, 0, 4 * PG, 4 * PG, HVA)));
	/* Every way of touching [4, 8): inside, over each edge, around. */
	KUNIT_EXPECT_EQ(test, -EEXIST, set(s, mr(1, 0, 5 * PG, PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EEXIST, set(s, mr(1, 0, 2 * PG, 3 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EEXIST, set(s, mr(1, 0, 7 * PG, 3 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EEXIST, set(s, mr(1, 0, 0, 16 * PG, HVA)));
	/* Adjacent on both sides is fine. */
	KUNIT_EXPECT_EQ(test, KHV_MR_CREATE, set(s, mr(1, 0, 0, 4 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, KHV_MR_CREATE, set(s, mr(2, 0, 8 * PG, 4 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, 12ULL, s->nr_pages);
}

static void memslot_change(struct kunit *test)
{
	struct khv_memslots *s = new_slots(test);
	struct khv_memslot *before;
	u64 gen;

	KUNIT_ASSERT_EQ(test, KHV_MR_CREATE, set(s, mr(0, 0, 0x100000, 4 * PG, HVA)));
	gen = s->generation;
	KUNIT_EXPECT_EQ(test, KHV_MR_NONE, set(s, mr(0, 0, 0x100000, 4 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, gen, s->generation);
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0x100000, 8 * PG, HVA)));
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0x100000, 4 * PG, HVA + PG)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			set(s, mr(0, KVM_MEM_READONLY, 0x100000, 4 * PG, HVA)));

	/* Flags only: a new slot object replaces the old one. */
	before = khv_memslot_by_id(s, 0);
	KUNIT_EXPECT_EQ(test, KHV_MR_FLAGS_ONLY,
			set(s, mr(0, KVM_MEM_LOG_DIRTY_PAGES, 0x100000, 4 * PG, HVA)));
	KUNIT_EXPECT_PTR_NE(test, before, khv_memslot_by_id(s, 0));
	KUNIT_EXPECT_PTR_EQ(test, khv_memslot_by_id(s, 0), khv_memslot_by_gfn(s, 0x100));
	KUNIT_EXPECT_EQ(test, (u32)KVM_MEM_LOG_DIRTY_PAGES, khv_memslot_by_gfn(s, 0x103)->flags);
	KUNIT_EXPECT_GT(test, s->generation, gen);

	/* Move by two pages, over part of its own range. */
	KUNIT_EXPECT_EQ(test, KHV_MR_MOVE, set(s, mr(0, 0, 0x102000, 4 * PG, HVA)));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_gfn(s, 0x101));
	KUNIT_EXPECT_NOT_NULL(test, khv_memslot_by_gfn(s, 0x102));
	KUNIT_EXPECT_NOT_NULL(test, khv_memslot_by_gfn(s, 0x105));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_gfn(s, 0x106));
	KUNIT_EXPECT_EQ(test, 4ULL, s->nr_pages);

	KUNIT_EXPECT_EQ(test, KHV_MR_DELETE, set(s, mr(0, 0, 0, 0, 0)));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_gfn(s, 0x103));
	KUNIT_EXPECT_NULL(test, khv_memslot_by_id(s, 0));
	KUNIT_EXPECT_EQ(test, 0ULL, s->nr_pages);
	KUNIT_EXPECT_EQ(test, -EINVAL, set(s, mr(0, 0, 0, 0, 0)));
}

#define NR_RANDOM	512
#define SPACE		(NR_RANDOM * 8)

/* Random slots against a flat reference map of the same guest space. */
static void memslot_random(struct kunit *test)
{
	struct khv_memslots *s = new_slots(test);
	s16 *ref = kunit_kcalloc(test, SPACE, sizeof(*ref), GFP_KERNEL);
	int created = 0, i, g;

	KUNIT_ASSERT_NOT_NULL(test, ref);
	for (g = 0; g < SPACE; g++)
		ref[g] = -1;
	for (i = 0; i < NR_RANDOM * 4 && created < NR_RANDOM; i++) {
		u32 base = get_random_u32() % SPACE;
		u32 n = 1 + get_random_u32() % 8;
		bool free_range = true;
		int r;

		if (base + n > SPACE)
			continue;
		for (g = base; free_range && g < base + n; g++)
			free_range = ref[g] < 0;
		r = set(s, mr(created, 0, (u64)base * PG, (u64)n * PG, HVA));
		KUNIT_ASSERT_EQ(test, free_range ? KHV_MR_CREATE : -EEXIST, r);
		if (!free_range)
			continue;
		for (g = base; g < base + n; g++)
			ref[g] = created;
		created++;
	}
	/* Delete every third slot. */
	for (i = 0; i < created; i += 3) {
		KUNIT_ASSERT_EQ(test, KHV_MR_DELETE, set(s, mr(i, 0, 0, 0, 0)));
		for (g = 0; g < SPACE; g++)
			if (ref[g] == i)
				ref[g] = -1;
	}
	for (g = 0; g < SPACE; g++) {
		struct khv_memslot *m = khv_memslot_by_gfn(s, g);

		if (ref[g] < 0) {
			KUNIT_EXPECT_NULL(test, m);
			continue;
		}
		KUNIT_EXPECT_NOT_NULL(test, m);
		if (m)
			KUNIT_EXPECT_EQ(test, ref[g], (s16)m->id);
	}
	kunit_info(test, "%d slots, %d deleted", created, (created + 2) / 3);
}

static struct kunit_case khv_memslot_cases[] = {
	KUNIT_CASE(memslot_invalid),
	KUNIT_CASE(memslot_lookup_bounds),
	KUNIT_CASE(memslot_overlap),
	KUNIT_CASE(memslot_change),
	KUNIT_CASE(memslot_random),
	{}
};

static struct kunit_suite khv_memslot_suite = {
	.name = "khv_memslot",
	.init = slots_init,
	.exit = slots_exit,
	.test_cases = khv_memslot_cases,
};
kunit_test_suite(khv_memslot_suite);

MODULE_DESCRIPTION("khv: KUnit tests of memslot logic");
MODULE_LICENSE("GPL");
