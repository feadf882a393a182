// SPDX-License-Identifier: MIT
/*
 * Map RAM above 4 GiB (head.S maps only the first 4 GiB).
 *
 * Runs in ring 3: the page tables are user-writable. New tables are filled
 * completely before they are linked in, so the only writes to live page
 * tables are the links themselves (which a shadow-paging host traps). No
 * TLB flush is needed: the entries we add were not present before.
 */
#include "testguest.h"
#include "virtio.h"

#define PAGE_SIZE	4096ULL
#define PTE_TABLE	0x07ULL		/* present, writable, user */
#define PTE_LARGE	0x87ULL		/* present, writable, user, 2 MiB */
#define GIB_SHIFT	30
#define SLOT_GIB	512ULL		/* GiB per PML4 slot */

uint64_t pt_pool_end;			/* guest-owned memory ends here */
static uint64_t pool_next, pool_limit;

static uint64_t *alloc_table(void)
{
	uint64_t *t;

	if (pool_next + PAGE_SIZE > pool_limit)
		return NULL;
	t = (uint64_t *)(uintptr_t)pool_next;
	pool_next += PAGE_SIZE;
	pt_pool_end = pool_next;
	return t;
}

static uint64_t ram_top(void)
{
	uint64_t top = 0;
	int i;

	for (i = 0; i < boot.nr_map; i++)
		if (boot.map[i].type == 1 &&
		    boot.map[i].addr + boot.map[i].size > top)
			top = boot.map[i].addr + boot.map[i].size;
	return top;
}

/* End of the RAM range holding @addr, or 0. */
static uint64_t ram_end_at(uint64_t addr)
{
	int i;

	for (i = 0; i < boot.nr_map; i++) {
		const struct mem_range *r = &boot.map[i];

		if (r->type == 1 && addr >= r->addr && addr < r->addr + r->size)
			return r->addr + r->size;
	}
	return 0;
}

static uint64_t *new_pd(uint64_t gib)
{
	uint64_t *pd = alloc_table();
	uint64_t base = gib << GIB_SHIFT;
	int i;

	if (!pd)
		return NULL;
	for (i = 0; i < 512; i++)
		pd[i] = (base + ((uint64_t)i << 21)) | PTE_LARGE;
	return pd;
}

/* Fill @pdpt's entries for GiB [first, last); returns -1 when out of pool. */
static int fill_pdpt(uint64_t *pdpt, uint64_t first, uint64_t last)
{
	uint64_t g;

	for (g = first; g < last; g++) {
		uint64_t *pd = new_pd(g);

		if (!pd)
			return -1;
		pdpt[g % SLOT_GIB] = (uintptr_t)pd | PTE_TABLE;
	}
	return 0;
}

static int map_slot(uint64_t slot, uint64_t first, uint64_t last)
{
	uint64_t *pdpt;

	if (slot == 0)
		return fill_pdpt(pdpt_low, first, last);
	pdpt = alloc_table();
	if (!pdpt)
		return -1;
	memset(pdpt, 0, PAGE_SIZE);
	if (fill_pdpt(pdpt, first, last))
		return -1;
	pml4[slot] = (uintptr_t)pdpt | PTE_TABLE;
	return 0;
}

void paging_map_high(void)
{
	uint64_t top = ram_top();
	uint64_t last = (top + (1ULL << GIB_SHIFT) - 1) >> GIB_SHIFT;
	uint64_t g = 4, slot;

	pool_next = ((uintptr_t)_image_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	pt_pool_end = pool_next;
	pool_limit = ram_end_at(pool_next);
	if (last <= 4)
		return;
	if (last > SLOT_GIB * 512) {
		printf("paging: RAM ends at %#llx, beyond what we map\n",
		       (unsigned long long)top);
		last = SLOT_GIB * 512;
	}
	for (slot = 0; g < last; slot++) {
		uint64_t end = (slot + 1) * SLOT_GIB;

		if (end > last)
			end = last;
		if (g < end && map_slot(slot, g, end)) {
			printf("paging: out of room for page tables at %llu GiB\n",
			       (unsigned long long)g);
			return;
		}
		if (g < end)
			g = end;
	}
}

/* A page directory mapping GiB @gib with uncached 2 MiB user pages. */
static uint64_t *new_pd_uncached(uint64_t gib)
{
	uint64_t *pd = new_pd(gib);
	int i;

	if (pd)
		for (i = 0; i < 512; i++)
			pd[i] |= 0x18;		/* PWT | PCD */
	return pd;
}

/*
 * Identity-map [phys, phys + size) for device registers. A GiB that is
 * not mapped yet gets a new, filled, uncached page directory (linked last);
 * a GiB that is already mapped (the first 4 GiB, RAM) is used as it is.
 * Returns the address to use, or NULL when out of page-table room.
 */
void *map_mmio(uint64_t phys, uint64_t size)
{
	uint64_t g, last = (phys + size - 1) >> GIB_SHIFT;

	if (!size || phys + size < phys || last >= SLOT_GIB * 512)
		return NULL;
	for (g = phys >> GIB_SHIFT; g <= last; g++) {
		uint64_t slot = g / SLOT_GIB, *pdpt, *pd;

		if (!pml4[slot]) {
			pdpt = alloc_table();
			if (!pdpt)
				return NULL;
			memset(pdpt, 0, PAGE_SIZE);
			pd = new_pd_uncached(g);
			if (!pd)
				return NULL;
			pdpt[g % SLOT_GIB] = (uintptr_t)pd | PTE_TABLE;
			pml4[slot] = (uintptr_t)pdpt | PTE_TABLE;
			continue;
		}
		pdpt = (uint64_t *)(uintptr_t)(pml4[slot] & ~0xfffULL);
		if (pdpt[g % SLOT_GIB])
			continue;
		pd = new_pd_uncached(g);
		if (!pd)
			return NULL;
		pdpt[g % SLOT_GIB] = (uintptr_t)pd | PTE_TABLE;
	}
	return (void *)(uintptr_t)phys;
}

/* Zeroed, page-aligned guest memory for rings and buffers (never freed). */
void *dma_alloc(uint64_t size)
{
	uint64_t n = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	void *p;

	if (!pool_next || pool_next + n > pool_limit || pool_next + n < pool_next)
		return NULL;
	p = (void *)(uintptr_t)pool_next;
	pool_next += n;
	pt_pool_end = pool_next;
	memset(p, 0, n);
	return p;
}
