// SPDX-License-Identifier: MIT
/*
 * The virtio-rng check: on the first entropy device (either transport),
 * read 64 bytes by polling the used ring, then 64 bytes by interrupt
 * (MSI-X or the IOAPIC pin). The bytes must arrive and not all be equal.
 */
#include "virtio.h"

#define RNG_BYTES	64
#define RNG_TIMEOUT_US	5000000

static int rng_read(struct virtq *vq, uint8_t *buf, char *why)
{
	uint32_t got = 0, id, len;
	int tries = 0;

	while (got < RNG_BYTES) {
		uint64_t a = (uintptr_t)buf + got;
		uint32_t l = RNG_BYTES - got;

		if (++tries > 64 || virtq_add(vq, &a, &l, 1, 1) < 0) {
			snprintf(why, WHY_LEN, "%u of %u bytes after %d requests",
				 got, RNG_BYTES, tries - 1);
			return -1;
		}
		virtq_kick(vq);
		if (virtq_wait(vq, &id, &len, RNG_TIMEOUT_US)) {
			snprintf(why, WHY_LEN, "no completion in %d s (%s)",
				 RNG_TIMEOUT_US / 1000000, vq->vec < 0 ? "polling" : "interrupt");
			return -1;
		}
		if (len > l) {
			snprintf(why, WHY_LEN, "device used %u bytes of a %u-byte buffer", len, l);
			return -1;
		}
		got += len;
	}
	return 0;
}

static int all_equal(const uint8_t *b, int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (b[i] != b[0])
			return 0;
	return 1;
}

static int rng_round(struct virtio_dev *d, uint8_t *buf, int irq, char *why)
{
	struct virtq vq;
	uint64_t feat, irqs;
	int vec = irq ? VEC_VIRTIO_BASE : -1;

	if (virtio_start(d, 1ULL << VIRTIO_F_EVENT_IDX, &feat, why))
		return -1;
	if (d->ops->irq_setup(d, vec, why) ||
	    virtq_init(&vq, d, 0, VQ_MAX_SIZE, vec, !!(feat & (1ULL << VIRTIO_F_EVENT_IDX)), why))
		return -1;
	virtio_driver_ok(d);
	irqs = irq ? irq_count[vec] : 0;
	memset(buf, 0, RNG_BYTES);
	if (rng_read(&vq, buf, why))
		return -1;
	if (irq && irq_count[vec] == irqs) {
		snprintf(why, WHY_LEN, "interrupt mode: no interrupt on vector %#x", vec);
		return -1;
	}
	if (all_equal(buf, RNG_BYTES)) {
		snprintf(why, WHY_LEN, "%d bytes all %#x", RNG_BYTES, buf[0]);
		return -1;
	}
	printf("virtio-rng: %s, %s%s: %02x%02x%02x%02x..., %llu interrupts\n",
	       d->where, irq ? "interrupt" : "polling",
	       vq.event_idx ? " event-idx" : "", buf[0], buf[1], buf[2], buf[3],
	       (unsigned long long)(irq ? irq_count[vec] - irqs : 0));
	return 0;
}

int check_virtio_rng(char *why)
{
	static uint8_t *buf;
	struct virtio_dev d;
	int rc;

	if (virtio_find(VIRTIO_ID_RNG, 0, &d)) {
		snprintf(why, WHY_LEN, "no virtio entropy device (PCI 1af4:1044 or virtio-mmio)");
		return -1;
	}
	if (!buf && !(buf = dma_alloc(RNG_BYTES))) {
		snprintf(why, WHY_LEN, "out of memory");
		return -1;
	}
	rc = rng_round(&d, buf, 0, why);
	if (!rc)
		rc = rng_round(&d, buf, 1, why);
	virtio_stop(&d);
	return rc;
}
