// SPDX-License-Identifier: MIT
/*
 * Boot information: copy the command line and memory map out of the
 * loader's hvm_start_info or boot_params, and the bootparams/e820 checks.
 */
#include "testguest.h"

#define CMDLINE_MAX		0x10000
#define PVH_MAGIC		0x336ec578
#define ADDR_LIMIT		LAYOUT_LOW_RAM_MAX	/* pointers we follow */

/* hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h) */
struct pvh_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct pvh_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* struct boot_params offsets (Documentation/arch/x86/zero-page.rst) */
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_BOOT_FLAG		0x1fe
#define BP_HEADER		0x202
#define BP_VERSION		0x206
#define BP_TYPE_OF_LOADER	0x210
#define BP_LOADFLAGS		0x211
#define BP_CMD_LINE_PTR		0x228
#define BP_E820_TABLE		0x2d0
#define BP_SIZE			0x1000

struct boot_info boot;
char cmdline[CMDLINE_MAX];
static uint8_t info_copy[BP_SIZE];	/* the zero page or start info */

static int addr_ok(uint64_t addr, uint64_t len)
{
	return addr && addr < ADDR_LIMIT && len <= ADDR_LIMIT - addr;
}

static void copy_cmdline(uint64_t addr)
{
	const char *src = (const char *)(uintptr_t)addr;
	size_t n = 0;

	boot.cmdline_addr = addr;
	if (!addr_ok(addr, 1))
		return;
	while (n < CMDLINE_MAX - 1 && addr + n < ADDR_LIMIT && src[n]) {
		cmdline[n] = src[n];
		n++;
	}
	cmdline[n] = '\0';
	boot.cmdline_truncated = n == CMDLINE_MAX - 1 && src[n];
}

static void add_range(uint64_t addr, uint64_t size, uint32_t type)
{
	struct mem_range *r;

	if (boot.nr_map >= E820_MAX)
		return;
	r = &boot.map[boot.nr_map++];
	r->addr = addr;
	r->size = size;
	r->type = type;
}

static void collect_pvh(uint64_t info)
{
	const struct pvh_start_info *si = (const void *)(uintptr_t)info;
	const struct pvh_memmap_entry *e;
	uint32_t i;

	memcpy(info_copy, si, sizeof(*si));
	copy_cmdline(si->cmdline_paddr);
	boot.rsdp = si->rsdp_paddr;
	if (si->version < 1 || !addr_ok(si->memmap_paddr,
					(uint64_t)si->memmap_entries * sizeof(*e)))
		return;
	e = (const void *)(uintptr_t)si->memmap_paddr;
	for (i = 0; i < si->memmap_entries; i++)
		add_range(e[i].addr, e[i].size, e[i].type);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void collect_zero_page(uint64_t info)
{
	const uint8_t *bp = info_copy;
	int i, n;

	memcpy(info_copy, (const void *)(uintptr_t)info, BP_SIZE);
	copy_cmdline(get32(bp + BP_CMD_LINE_PTR) |
		     (uint64_t)get32(bp + BP_EXT_CMD_LINE_PTR) << 32);
	n = bp[BP_E820_ENTRIES];
	for (i = 0; i < n && i < E820_MAX; i++) {
		const uint8_t *e = bp + BP_E820_TABLE + i * 20;

		add_range(get64(e), get64(e + 8), get32(e + 16));
	}
}

void boot_collect(enum boot_kind kind, uint64_t info)
{
	boot.kind = kind;
	boot.info_addr = info;
	if (!addr_ok(info, BP_SIZE))
		return;
	if (kind == BOOT_PVH)
		collect_pvh(info);
	else
		collect_zero_page(info);
}

const char *boot_kind_name(enum boot_kind kind)
{
	switch (kind) {
	case BOOT_PVH: return "pvh";
	case BOOT_LINUX64: return "linux64";
	case BOOT_LINUX32: return "linux32";
	case BOOT_REALMODE: return "realmode";
	}
	return "unknown";
}

static int check_cmdline(char *why)
{
	size_t i;

	if (!boot.cmdline_addr) {
		snprintf(why, WHY_LEN, "no command line pointer");
		return -1;
	}
	if (!addr_ok(boot.cmdline_addr, 1)) {
		snprintf(why, WHY_LEN, "command line at %#llx is outside RAM",
			 (unsigned long long)boot.cmdline_addr);
		return -1;
	}
	if (boot.cmdline_truncated) {
		snprintf(why, WHY_LEN, "command line longer than %d bytes",
			 CMDLINE_MAX - 1);
		return -1;
	}
	for (i = 0; cmdline[i]; i++) {
		if ((cmdline[i] < 0x20 && cmdline[i] != '\t') ||
		    (unsigned char)cmdline[i] > 0x7e) {
			snprintf(why, WHY_LEN, "byte %#x at %zu of the command line",
				 (unsigned char)cmdline[i], i);
			return -1;
		}
	}
	return 0;
}

static int check_pvh_info(char *why)
{
	const struct pvh_start_info *si = (const void *)info_copy;

	if (si->magic != PVH_MAGIC) {
		snprintf(why, WHY_LEN, "start info magic %#x", si->magic);
		return -1;
	}
	if (si->version < 1) {
		snprintf(why, WHY_LEN, "start info version %u, need 1",
			 si->version);
		return -1;
	}
	if (!si->memmap_entries || !si->memmap_paddr) {
		snprintf(why, WHY_LEN, "start info has no memory map");
		return -1;
	}
	printf("bootparams: start info v%u, %u memmap entries, rsdp %#llx\n",
	       si->version, si->memmap_entries,
	       (unsigned long long)si->rsdp_paddr);
	return 0;
}

static int check_zero_page(char *why)
{
	const uint8_t *bp = info_copy;
	unsigned version = bp[BP_VERSION] | bp[BP_VERSION + 1] << 8;

	if (memcmp(bp + BP_HEADER, "HdrS", 4)) {
		snprintf(why, WHY_LEN, "no HdrS signature in the zero page");
		return -1;
	}
	if ((bp[BP_BOOT_FLAG] | bp[BP_BOOT_FLAG + 1] << 8) != 0xaa55) {
		snprintf(why, WHY_LEN, "boot_flag is not 0xaa55");
		return -1;
	}
	if (version < 0x20c) {
		snprintf(why, WHY_LEN, "protocol version %#x < 0x20c", version);
		return -1;
	}
	if (!bp[BP_TYPE_OF_LOADER]) {
		snprintf(why, WHY_LEN, "type_of_loader is 0");
		return -1;
	}
	if (!(bp[BP_LOADFLAGS] & 1)) {
		snprintf(why, WHY_LEN, "loadflags %#x lack LOADED_HIGH",
			 bp[BP_LOADFLAGS]);
		return -1;
	}
	if (!bp[BP_E820_ENTRIES] || bp[BP_E820_ENTRIES] > E820_MAX) {
		snprintf(why, WHY_LEN, "e820_entries is %u", bp[BP_E820_ENTRIES]);
		return -1;
	}
	printf("bootparams: protocol %#x, loader %#x, %u e820 entries\n",
	       version, bp[BP_TYPE_OF_LOADER], bp[BP_E820_ENTRIES]);
	return 0;
}

int check_bootparams(char *why)
{
	printf("bootparams: %s entry, info at %#llx, cmdline at %#llx\n",
	       boot_kind_name(boot.kind), (unsigned long long)boot.info_addr,
	       (unsigned long long)boot.cmdline_addr);
	if (!addr_ok(boot.info_addr, BP_SIZE)) {
		snprintf(why, WHY_LEN, "boot info pointer %#llx is bad",
			 (unsigned long long)boot.info_addr);
		return -1;
	}
	if (check_cmdline(why))
		return -1;
	if (boot.kind == BOOT_PVH)
		return check_pvh_info(why);
	return check_zero_page(why);
}

static const char *type_name(uint32_t type)
{
	switch (type) {
	case 1: return "ram";
	case 2: return "reserved";
	case 3: return "acpi";
	case 4: return "nvs";
	case 5: return "unusable";
	}
	return "other";
}

/* The map husk builds for @mem bytes (src/memory/layout.h). */
static int expected_map(uint64_t mem, struct mem_range *m)
{
	uint64_t low_end = mem < LAYOUT_LOW_RAM_MAX ? mem : LAYOUT_LOW_RAM_MAX;
	int n = 0;

	m[n++] = (struct mem_range){ 0, LAYOUT_EBDA_START, 1 };
	m[n++] = (struct mem_range){ LAYOUT_EBDA_START,
				     LAYOUT_LEGACY_HOLE - LAYOUT_EBDA_START, 2 };
	m[n++] = (struct mem_range){ LAYOUT_BIOS_START,
				     LAYOUT_BIOS_END - LAYOUT_BIOS_START, 2 };
	m[n++] = (struct mem_range){ LAYOUT_HIGH_RAM_START,
				     low_end - LAYOUT_HIGH_RAM_START, 1 };
	if (mem > LAYOUT_LOW_RAM_MAX)
		m[n++] = (struct mem_range){ LAYOUT_HIGH_RAM_BASE,
					     mem - LAYOUT_LOW_RAM_MAX, 1 };
	return n;
}

/*
 * The RAM size the map implies: the end of the RAM range at 1 MiB plus the
 * size of the one at 4 GiB (husk's layout); 0 when the map has neither.
 */
static uint64_t map_mem_size(void)
{
	uint64_t low = 0, high = 0;
	int i;

	for (i = 0; i < boot.nr_map; i++) {
		const struct mem_range *g = &boot.map[i];

		if (g->type != 1)
			continue;
		if (g->addr == LAYOUT_HIGH_RAM_START)
			low = g->addr + g->size;
		else if (g->addr == LAYOUT_HIGH_RAM_BASE)
			high = g->size;
	}
	return low ? low + high : 0;
}

/*
 * The map must be exactly husk's layout for expect_mem= (the size given
 * to husk). Without expect_mem= the size is taken from the map itself, so
 * its shape (holes, reserved ranges, the split at 3 GiB) is still checked.
 */
int check_e820(char *why)
{
	struct mem_range want[5];
	char val[32];
	uint64_t mem;
	int i, n;

	for (i = 0; i < boot.nr_map; i++)
		printf("e820: %#llx-%#llx %s\n",
		       (unsigned long long)boot.map[i].addr,
		       (unsigned long long)(boot.map[i].addr + boot.map[i].size),
		       type_name(boot.map[i].type));
	if (cmdline_get("expect_mem", val, sizeof(val))) {
		mem = map_mem_size();
		if (mem < LAYOUT_HIGH_RAM_START) {
			snprintf(why, WHY_LEN, "no RAM range at 1 MiB in the map");
			return -1;
		}
		snprintf(val, sizeof(val), "%lluK", (unsigned long long)(mem >> 10));
		printf("e820: %s of RAM in the map (no expect_mem=: checking its shape)\n",
		       val);
	} else if (parse_size(val, &mem) || mem < LAYOUT_HIGH_RAM_START) {
		snprintf(why, WHY_LEN, "bad expect_mem=%s", val);
		return -1;
	}
	n = expected_map(mem, want);
	for (i = 0; i < n && i < boot.nr_map; i++) {
		const struct mem_range *g = &boot.map[i], *w = &want[i];

		if (g->addr != w->addr || g->size != w->size || g->type != w->type) {
			snprintf(why, WHY_LEN,
				 "entry %d is %#llx-%#llx %s, want %#llx-%#llx %s",
				 i, (unsigned long long)g->addr,
				 (unsigned long long)(g->addr + g->size),
				 type_name(g->type), (unsigned long long)w->addr,
				 (unsigned long long)(w->addr + w->size),
				 type_name(w->type));
			return -1;
		}
	}
	if (boot.nr_map != n) {
		snprintf(why, WHY_LEN, "%d entries, want %d for expect_mem=%s",
			 boot.nr_map, n, val);
		return -1;
	}
	return 0;
}
