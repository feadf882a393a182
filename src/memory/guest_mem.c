// SPDX-License-Identifier: MIT
#include "memory/guest_mem.h"
#include "memory/layout.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/memfd.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#define HUGEPAGE_SIZE MIB(2)

int guest_mem_plan(struct guest_mem *m, uint64_t size)
{
	uint64_t low = size < LAYOUT_LOW_RAM_MAX ? size : LAYOUT_LOW_RAM_MAX;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->uffd = -1;
	m->size = size;
	m->regions[0] = (struct guest_mem_region){ .gpa = 0, .size = low, .offset = 0 };
	m->nregions = 1;
	if (size > low) {
		m->regions[1] = (struct guest_mem_region){
			.gpa = LAYOUT_HIGH_RAM_BASE, .size = size - low, .offset = low,
		};
		m->nregions = 2;
	}
	return 0;
}

static uint64_t hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %llu", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int check_hugepages(uint64_t size, char *err, size_t errlen)
{
	uint64_t need = size / HUGEPAGE_SIZE, have;

	if (size % HUGEPAGE_SIZE) {
		snprintf(err, errlen, "--hugepages: --memory must be a multiple of 2M");
		return -EINVAL;
	}
	have = hugepages_free();
	if (have < need) {
		snprintf(err, errlen,
			 "--hugepages: %llu free 2M huge pages, %llu needed "
			 "(reserve them with: echo %llu > /proc/sys/vm/nr_hugepages)",
			 (unsigned long long)have, (unsigned long long)need,
			 (unsigned long long)need);
		return -ENOMEM;
	}
	return 0;
}

int guest_mem_init(struct guest_mem *m, uint64_t size, bool hugepages, char *err, size_t errlen)
{
	unsigned flags = MFD_CLOEXEC;
	int ret;

	guest_mem_plan(m, size);
	m->hugepages = hugepages;
	if (hugepages) {
		ret = check_hugepages(size, err, errlen);
		if (ret)
			return ret;
		flags |= MFD_HUGETLB | MFD_HUGE_2MB;
	}
	m->fd = memfd_create("husk-guest-ram", flags);
	if (m->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "guest memory: memfd_create: %s", strerror(errno));
		return ret;
	}
	if (ftruncate(m->fd, (off_t)size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "--memory %llu bytes: %s", (unsigned long long)size,
			 strerror(errno));
		goto fail;
	}
	/* huge pages are reserved at mmap (no MAP_NORESERVE): a later fault cannot fail */
	m->hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
		      MAP_SHARED | (hugepages ? 0 : MAP_NORESERVE), m->fd, 0);
	if (m->hva == MAP_FAILED) {
		ret = -errno;
		m->hva = NULL;
		snprintf(err, errlen, "--memory %llu bytes: mmap: %s", (unsigned long long)size,
			 strerror(errno));
		goto fail;
	}
	if (!hugepages)
		madvise(m->hva, size, MADV_HUGEPAGE);	/* THP when the host allows it */
	return 0;
fail:
	close(m->fd);
	m->fd = -1;
	return ret;
}

void guest_mem_destroy(struct guest_mem *m)
{
	free(m->dirty);
	m->dirty = NULL;
	if (m->hva)
		munmap(m->hva, m->size);
	if (m->uffd >= 0)
		close(m->uffd);		/* after the unmap: no fault can wait on it */
	m->uffd = -1;
	if (m->fd >= 0)
		close(m->fd);
	m->hva = NULL;
	m->fd = -1;
}

void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nregions; i++) {
		const struct guest_mem_region *r = &m->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		if (!m->hva)
			return NULL;
		return m->hva + r->offset + (gpa - r->gpa);
	}
	return NULL;
}

/* Drop the pages of [p, p + len) (page-aligned); false when the backing cannot. */
static bool drop_pages(struct guest_mem *m, uint8_t *p, uint64_t len)
{
	if (m->hugepages || m->file_private)
		return false;
	if (m->fd < 0)		/* anonymous private RAM (tests): fresh pages read as zero */
		return madvise(p, len, MADV_DONTNEED) == 0;
	return fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 (off_t)(p - m->hva), (off_t)len) == 0;
}

int guest_mem_zero(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const uint64_t page = 4096, worth = 16 * page;
	uint8_t *p = gpa_to_hva(m, gpa, len);
	uint64_t head, body;

	if (!len)
		return 0;
	if (!p)
		return -EFAULT;
	head = ((page - ((uintptr_t)p & (page - 1))) & (page - 1));
	if (len < head + worth) {
		memset(p, 0, len);
		return 0;
	}
	body = (len - head) & ~(page - 1);
	memset(p, 0, head);
	if (!drop_pages(m, p + head, body))
		memset(p + head, 0, body);
	memset(p + head + body, 0, len - head - body);
	return 0;
}

int64_t guest_mem_discard(const struct guest_mem *m, void *hva, uint64_t len)
{
	const uint64_t page = 4096;
	uint8_t *p = hva;
	uint64_t off, start, end;
	int ret;

	if (!m->hva || p < m->hva || (uint64_t)(p - m->hva) > m->size ||
	    len > m->size - (uint64_t)(p - m->hva))
		return -EFAULT;
	off = (uint64_t)(p - m->hva);
	start = (off + page - 1) & ~(page - 1);
	end = (off + len) & ~(page - 1);
	if (end <= start || m->hugepages)
		return 0;
	if (m->fd >= 0 && !m->file_private)
		ret = fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				(off_t)start, (off_t)(end - start));
	else
		ret = madvise(m->hva + start, end - start, MADV_DONTNEED);
	if (ret < 0)
		return -errno;
	guest_mem_mark_dirty(m, m->hva + start, end - start);
	return (int64_t)(end - start);
}

void guest_mem_uffd_release(struct guest_mem *m)
{
	struct uffdio_range r = { .start = (uintptr_t)m->hva, .len = m->size };

	if (m->uffd >= 0 && m->hva)
		ioctl(m->uffd, UFFDIO_UNREGISTER, &r);
}

size_t guest_mem_dirty_words(const struct guest_mem *m)
{
	return (size_t)((m->size / 4096 + 63) / 64);
}

int guest_mem_dirty_start(struct guest_mem *m)
{
	uint64_t *bm;

	if (guest_mem_tracking(m))
		return 0;
	bm = calloc(guest_mem_dirty_words(m), sizeof(uint64_t));
	if (!bm)
		return -ENOMEM;
	/* a live migration starts tracking while device threads write guest RAM */
	__atomic_store_n(&m->dirty, bm, __ATOMIC_RELEASE);
	return 0;
}

void guest_mem_mark_dirty(const struct guest_mem *m, const void *hva, uint64_t len)
{
	const uint8_t *p = hva;
	uint64_t first, last, *dirty;

	if (!m || !(dirty = guest_mem_tracking(m)) || !len || p < m->hva || (uint64_t)(p - m->hva) >= m->size)
		return;
	first = (uint64_t)(p - m->hva) / 4096;
	last = ((uint64_t)(p - m->hva) + len - 1) / 4096;
	if (last >= m->size / 4096)
		last = m->size / 4096 - 1;
	for (uint64_t pg = first; pg <= last; pg++)
		__atomic_fetch_or(&dirty[pg / 64], 1ull << (pg % 64), __ATOMIC_RELAXED);
}

void guest_mem_dirty_take(const struct guest_mem *m, uint64_t *out)
{
	uint64_t *dirty = guest_mem_tracking(m);

	if (!dirty)
		return;
	for (size_t i = 0, n = guest_mem_dirty_words(m); i < n; i++)
		out[i] |= __atomic_exchange_n(&dirty[i], 0, __ATOMIC_RELAXED);
}

uint64_t guest_mem_low_end(const struct guest_mem *m)
{
	return m->regions[0].gpa + m->regions[0].size;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'i' || *end == 'I')	/* accept 256MiB */
		end++;
	if ((*end == 'b' || *end == 'B'))
		end++;
	if (*end != '\0')
		return -EINVAL;
	if (shift && v > (~0ULL >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}
