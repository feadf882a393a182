// SPDX-License-Identifier: MIT
/*
 * The virtio-mmio v2 transport (virtio 1.2 section 4.2). Devices come from
 * the command line in Linux's form virtio_mmio.device=<size>@<base>:<irq>;
 * their interrupt is a GSI through the IOAPIC. For a level-triggered pin the
 * ring-0 handler acknowledges InterruptStatus before the EOI (mmio_ack[],
 * intr.S), so the line is low again when the IOAPIC looks.
 */
#include "virtio.h"

#define MAGIC		0x74726976	/* "virt" */
#define M_MAGIC		0x000
#define M_VERSION	0x004
#define M_DEVICE	0x008
#define M_DFEAT		0x010
#define M_DFSEL		0x014
#define M_GFEAT		0x020
#define M_GFSEL		0x024
#define M_QSEL		0x030
#define M_QMAX		0x034
#define M_QNUM		0x038
#define M_QREADY	0x044
#define M_QNOTIFY	0x050
#define M_STATUS	0x070
#define M_QDESC		0x080
#define M_QDRIVER	0x090
#define M_QDEVICE	0x0a0
#define M_CONFIG	0x100

#define IOAPIC_BASE	0xfec00000UL
#define IOAPIC_MASKED	(1u << 16)
#define IOAPIC_LEVEL	(1u << 15)

#define R8(b, o)	(*(volatile uint8_t *)((b) + (o)))
#define R16(b, o)	(*(volatile uint16_t *)((b) + (o)))
#define R32(b, o)	(*(volatile uint32_t *)((b) + (o)))

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

void ioapic_route(int gsi, int vec, int level)
{
	ioapic_write(0x11 + 2 * gsi, lapic_id() << 24);
	ioapic_write(0x10 + 2 * gsi, vec | (level ? IOAPIC_LEVEL : 0));
}

void ioapic_mask(int gsi)
{
	ioapic_write(0x10 + 2 * gsi, IOAPIC_MASKED);
}

static uint8_t mmio_get_status(struct virtio_dev *d)
{
	return R32(d->mmio, M_STATUS);
}

static void mmio_set_status(struct virtio_dev *d, uint8_t s)
{
	R32(d->mmio, M_STATUS) = s;
}

static uint64_t mmio_get_features(struct virtio_dev *d)
{
	uint64_t f;

	R32(d->mmio, M_DFSEL) = 0;
	f = R32(d->mmio, M_DFEAT);
	R32(d->mmio, M_DFSEL) = 1;
	return f | (uint64_t)R32(d->mmio, M_DFEAT) << 32;
}

static void mmio_set_features(struct virtio_dev *d, uint64_t f)
{
	R32(d->mmio, M_GFSEL) = 0;
	R32(d->mmio, M_GFEAT) = (uint32_t)f;
	R32(d->mmio, M_GFSEL) = 1;
	R32(d->mmio, M_GFEAT) = f >> 32;
}

static uint32_t mmio_config_read(struct virtio_dev *d, uint32_t off, int width)
{
	if (width == 1)
		return R8(d->mmio, M_CONFIG + off);
	if (width == 2)
		return R16(d->mmio, M_CONFIG + off);
	return R32(d->mmio, M_CONFIG + off);
}

static void mmio_config_write(struct virtio_dev *d, uint32_t off, uint32_t v,
			      int width)
{
	if (width == 1)
		R8(d->mmio, M_CONFIG + off) = v;
	else if (width == 2)
		R16(d->mmio, M_CONFIG + off) = v;
	else
		R32(d->mmio, M_CONFIG + off) = v;
}

static int mmio_num_queues(struct virtio_dev *d)
{
	(void)d;
	return 0;
}

static int mmio_setup_queue(struct virtio_dev *d, int q, uint16_t *size,
			    uint64_t desc, uint64_t avail, uint64_t used, int vec,
			    char *why)
{
	volatile uint8_t *m = d->mmio;
	uint32_t max;

	(void)vec;			/* one interrupt per device */
	R32(m, M_QSEL) = q;
	if (R32(m, M_QREADY)) {
		snprintf(why, WHY_LEN, "%s: queue %d already ready", d->where, q);
		return -1;
	}
	max = R32(m, M_QMAX);
	if (!max) {
		snprintf(why, WHY_LEN, "%s: queue %d does not exist", d->where, q);
		return -1;
	}
	if (*size > max)
		*size = max;
	while (*size & (*size - 1))	/* split rings: a power of 2 */
		*size &= *size - 1;
	R32(m, M_QNUM) = *size;
	R32(m, M_QDESC) = (uint32_t)desc;
	R32(m, M_QDESC + 4) = desc >> 32;
	R32(m, M_QDRIVER) = (uint32_t)avail;
	R32(m, M_QDRIVER + 4) = avail >> 32;
	R32(m, M_QDEVICE) = (uint32_t)used;
	R32(m, M_QDEVICE + 4) = used >> 32;
	R32(m, M_QREADY) = 1;
	return 0;
}

static void mmio_notify(struct virtio_dev *d, int q)
{
	R32(d->mmio, M_QNOTIFY) = q;
}

static int mmio_irq_setup(struct virtio_dev *d, int vec, char *why)
{
	int valid = d->gsi >= 0 && d->gsi <= 23;

	if (vec < 0) {
		if (valid)
			ioapic_mask(d->gsi);
		for (vec = VEC_VIRTIO_BASE; vec <= VEC_VIRTIO_CFG; vec++)
			mmio_ack[vec] = 0;
		return 0;
	}
	if (!valid) {
		snprintf(why, WHY_LEN, "%s: irq %d is not an IOAPIC pin", d->where, d->gsi);
		return -1;
	}
	mmio_ack[vec] = d->level ? d->mmio_phys : 0;
	ioapic_route(d->gsi, vec, d->level);
	return 0;
}

static const struct virtio_ops mmio_ops = {
	.get_status = mmio_get_status,
	.set_status = mmio_set_status,
	.get_features = mmio_get_features,
	.set_features = mmio_set_features,
	.config_read = mmio_config_read,
	.config_write = mmio_config_write,
	.num_queues = mmio_num_queues,
	.setup_queue = mmio_setup_queue,
	.notify = mmio_notify,
	.irq_setup = mmio_irq_setup,
	.name = "virtio-mmio",
};

/* "4K@0xd0000000:5[:id]" -> base, size, irq */
static int parse_device(char *s, uint64_t *base, uint64_t *size, uint64_t *irq)
{
	char *at = s, *colon, *at2;

	while (*at && *at != '@')
		at++;
	if (!*at)
		return -1;
	*at++ = '\0';
	colon = at;
	while (*colon && *colon != ':')
		colon++;
	if (!*colon)
		return -1;
	*colon++ = '\0';
	for (at2 = colon; *at2 && *at2 != ':'; at2++)
		;
	*at2 = '\0';			/* drop a trailing ":id" */
	return parse_size(s, size) || parse_uint(at, base) || parse_uint(colon, irq);
}

/* The @nth virtio_mmio.device= word of the command line, or -1. */
static int cmdline_device(int nth, char *val, size_t len)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline;

	while (*p) {
		const char *w = p;
		size_t n;

		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		n = p - w;
		if (n > sizeof(key) - 1 && !strncmp(w, key, sizeof(key) - 1) && nth-- == 0) {
			n -= sizeof(key) - 1;
			if (n >= len)
				return -1;
			memcpy(val, w + sizeof(key) - 1, n);
			val[n] = '\0';
			return 0;
		}
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
	}
	return -1;
}

int virtio_mmio_find(uint16_t id, int nth, struct virtio_dev *d)
{
	char word[80], val[16];
	uint64_t base, size, irq;
	int i;

	for (i = 0; cmdline_device(i, word, sizeof(word)) == 0; i++) {
		volatile uint8_t *m;

		if (parse_device(word, &base, &size, &irq) || size < 0x100)
			continue;
		m = map_mmio(base, size);
		if (!m || R32(m, M_MAGIC) != MAGIC || R32(m, M_VERSION) != 2 ||
		    R32(m, M_DEVICE) != id || nth-- > 0)
			continue;
		memset(d, 0, sizeof(*d));
		d->ops = &mmio_ops;
		d->device_id = id;
		d->mmio = m;
		d->mmio_phys = base;
		d->gsi = (int)irq;
		d->level = cmdline_get("mmio_irq", val, sizeof(val)) ||
			   strncmp(val, "edge", 5);
		snprintf(d->where, sizeof(d->where), "mmio %#llx irq %d",
			 (unsigned long long)base, d->gsi);
		return 0;
	}
	return -1;
}

/* PCI first, then virtio-mmio: the nth device with @id over both. */
int virtio_find(uint16_t id, int nth, struct virtio_dev *d)
{
	if (virtio_pci_find(id, nth, d) == 0)
		return 0;
	return virtio_mmio_find(id, nth - virtio_pci_count(id), d);
}
