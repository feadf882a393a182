/* SPDX-License-Identifier: MIT */
#ifndef HUSK_GUEST_MEM_H
#define HUSK_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest RAM: one memfd, mapped once into husk (contiguous host view), and
 * exposed to the guest as up to two regions (below the MMIO hole, above
 * 4 GiB). Every guest-physical access made by husk goes through
 * gpa_to_hva(), which checks that the whole range lies inside one region.
 */
#define GUEST_MEM_MAX_REGIONS 2

struct guest_mem_region {
	uint64_t gpa;		/* guest physical start */
	uint64_t size;		/* bytes */
	uint64_t offset;	/* offset in the memfd and in hva */
};

struct guest_mem {
	int fd;			/* memfd, -1 when not created */
	uint8_t *hva;		/* host mapping of the whole memfd */
	uint64_t size;		/* total RAM bytes */
	bool hugepages;
	bool file_private;	/* hva is a private mapping of another file (a restore) */
	uint64_t *dirty;	/* pages the VMM wrote, one bit per 4 KiB (NULL: not tracked) */
	int uffd;		/* a restore's userfaultfd (Uffd backend), -1: none */
	unsigned nregions;
	struct guest_mem_region regions[GUEST_MEM_MAX_REGIONS];
};

/* Compute the regions for @size bytes of RAM (no allocation). */
int guest_mem_plan(struct guest_mem *m, uint64_t size);

/* Allocate the memfd and map it. On failure, fills @err and returns -errno. */
int guest_mem_init(struct guest_mem *m, uint64_t size, bool hugepages, char *err, size_t errlen);
void guest_mem_destroy(struct guest_mem *m);

/* Host pointer for [gpa, gpa + len), or NULL if any byte is not guest RAM. */
void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Zero [gpa, gpa + len) of guest RAM. The whole pages inside are dropped
 * rather than written where the backing allows it (a hole punched in the
 * memfd, fresh anonymous pages), so a large zeroed range costs the host no
 * memory. Returns 0, or -EFAULT when any byte is not RAM.
 */
int guest_mem_zero(struct guest_mem *m, uint64_t gpa, uint64_t len);

/*
 * Give the whole pages inside [hva, hva + len) back to the host (a balloon
 * inflating, free page reporting): a hole punched in the memfd, or
 * MADV_DONTNEED on anonymous RAM and on a restore's private file mapping
 * (whose pages then read as the snapshot file's again). Nothing is written;
 * the pages count as changed for dirty tracking. Returns the bytes given
 * back, 0 when the backing cannot (huge pages) or the range holds no whole
 * page; -EFAULT when it is not inside guest RAM. Any thread.
 */
int64_t guest_mem_discard(const struct guest_mem *m, void *hva, uint64_t len);

/*
 * Dirty tracking of the VMM's own writes into guest RAM (devices filling
 * buffers, used rings): KVM's dirty log sees only the guest's writes.
 * guest_mem_dirty_start() allocates the bitmap (one bit per 4 KiB page of
 * the memfd, both regions); guest_mem_mark_dirty() marks the pages of a
 * host range inside guest RAM (any thread, lock-free; a no-op when not
 * tracking; mark after writing: a page marked before it is written can be
 * taken, sent and then changed unseen); guest_mem_dirty_take() ORs the marked pages into @out
 * (guest_mem_dirty_words() words) and clears them.
 */
int guest_mem_dirty_start(struct guest_mem *m);
/* The bitmap when the VMM's writes are tracked, else NULL (any thread). */
static inline uint64_t *guest_mem_tracking(const struct guest_mem *m)
{
	return __atomic_load_n(&m->dirty, __ATOMIC_ACQUIRE);
}
size_t guest_mem_dirty_words(const struct guest_mem *m);
void guest_mem_mark_dirty(const struct guest_mem *m, const void *hva, uint64_t len);
void guest_mem_dirty_take(const struct guest_mem *m, uint64_t *out);

/*
 * A restore's userfaultfd lets go of guest RAM (UFFDIO_UNREGISTER): faults
 * waiting for a page-fault handler that is gone complete with zero pages,
 * so the vCPUs stuck on them can stop. For a VM that is being stopped.
 */
void guest_mem_uffd_release(struct guest_mem *m);

/* End (exclusive) of the RAM region below 4 GiB. */
uint64_t guest_mem_low_end(const struct guest_mem *m);

/* Parse "256M", "1G", "65536K", "1048576" (bytes). Returns 0 or -EINVAL/-ERANGE. */
int parse_size(const char *s, uint64_t *out);

#endif
