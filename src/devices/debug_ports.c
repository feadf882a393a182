// SPDX-License-Identifier: MIT
/*
 * husk's debug ports (see memory/layout.h). The debug-exit and test-MSI
 * ports exist only with DEBUG_PORTS_TEST (--test-devices): a guest must not
 * be able to pick husk's exit status or send arbitrary MSIs by default.
 *  PORT_DEBUG_EXIT  (4 ports) a write of v stops the VM with exit status
 *                   v & 0xff; reads return 0.
 *  PORT_BOOT_MARKER (4 ports) the first write logs the time since husk
 *                   started (CLOCK_MONOTONIC), once per boot.
 *  PORT_TEST_MSI    (4 ports) a write of (dest_apic_id << 8) | vector
 *                   sends that MSI (fixed delivery, edge) with
 *                   KVM_SIGNAL_MSI; with no VM fd (unit tests) the message
 *                   is only recorded.
 * Any access size at any of the 4 ports is accepted: the value is what was
 * written, zero-extended, wherever it lands.
 */
#include "devices/devices.h"
#include "core/bytes.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "core/log.h"
#include "memory/layout.h"

#define DEBUG_PORT_WIDTH	4
#define MSI_ADDR_BASE		0xfee00000u
#define MSI_ADDR_DEST_SHIFT	12

/* Guest-visible state: plain data, saved and restored as a whole. */
struct debug_ports_state {
	uint8_t marker_seen;
	uint32_t msi_count;		/* MSIs the guest asked for */
	uint32_t last_msi_addr;
	uint32_t last_msi_data;
};

struct debug_ports {
	pthread_mutex_t lock;
	struct debug_ports_state st;
	struct io_bus *pio;
	struct stop_hook stop;
	int vm_fd;
	uint64_t start_ns;
	unsigned registered;	/* bit i: debug_port_table[i] is on the bus */
};

/* The value written: its bytes, little-endian, zero-extended to 32 bits. */
static uint32_t debug_value(const uint8_t *data, uint32_t len)
{
	return (uint32_t)le_get(data, len < DEBUG_PORT_WIDTH ? len : DEBUG_PORT_WIDTH);
}

static void debug_read_zero(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void debug_exit_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_ports *d = opaque;

	(void)offset;
	if (!len)
		return;
	stop_hook_request(&d->stop, STOP_DEBUG_EXIT, (int)(debug_value(data, len) & 0xff));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void boot_marker_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_ports *d = opaque;
	uint64_t now = now_ns(), ns;
	bool first;

	(void)offset;
	(void)data;
	if (!len)
		return;
	pthread_mutex_lock(&d->lock);
	first = !d->st.marker_seen;
	d->st.marker_seen = 1;
	pthread_mutex_unlock(&d->lock);
	if (!first)
		return;
	ns = now > d->start_ns ? now - d->start_ns : 0;
	pr_info("guest boot marker after %llu.%03llu ms",
		(unsigned long long)(ns / 1000000), (unsigned long long)(ns / 1000 % 1000));
}

static int debug_signal_msi(struct debug_ports *d, uint32_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = addr,
		.address_hi = 0,
		.data = data,
	};

	if (d->vm_fd < 0)
		return 0;
	if (ioctl(d->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
		return -errno;
	return 0;
}

static void test_msi_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_ports *d = opaque;
	uint32_t v = debug_value(data, len);
	uint32_t dest = (v >> 8) & 0xff, vector = v & 0xff;
	uint32_t addr = MSI_ADDR_BASE | dest << MSI_ADDR_DEST_SHIFT;
	int ret;

	(void)offset;
	pthread_mutex_lock(&d->lock);
	d->st.msi_count++;
	d->st.last_msi_addr = addr;
	d->st.last_msi_data = vector;
	pthread_mutex_unlock(&d->lock);
	ret = debug_signal_msi(d, addr, vector);
	if (ret)
		pr_debug("test msi: vector 0x%x to apic %u: %s", vector, dest, strerror(-ret));
}

static const struct io_region_ops debug_exit_ops = {
	.read = debug_read_zero,
	.write = debug_exit_write,
};

static const struct io_region_ops boot_marker_ops = {
	.read = debug_read_zero,
	.write = boot_marker_write,
};

static const struct io_region_ops test_msi_ops = {
	.read = debug_read_zero,
	.write = test_msi_write,
};

static const struct {
	uint16_t port;
	const struct io_region_ops *ops;
	const char *name;
	unsigned flag;		/* 0: always there; else only with that flag */
} debug_port_table[] = {
	{ PORT_DEBUG_EXIT, &debug_exit_ops, "debug-exit", DEBUG_PORTS_TEST },
	{ PORT_BOOT_MARKER, &boot_marker_ops, "boot-marker", 0 },
	{ PORT_TEST_MSI, &test_msi_ops, "test-msi", DEBUG_PORTS_TEST },
};

#define NR_DEBUG_PORTS (int)(sizeof(debug_port_table) / sizeof(debug_port_table[0]))

static void debug_ports_unregister(struct debug_ports *d)
{
	for (int i = 0; i < NR_DEBUG_PORTS; i++)
		if (d->registered & (1u << i))
			iobus_unregister(d->pio, debug_port_table[i].port);
	d->registered = 0;
}

struct debug_ports *debug_ports_create(struct io_bus *pio, const struct stop_hook *stop,
				       int vm_fd, uint64_t start_ns, unsigned flags)
{
	struct debug_ports *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return NULL;
	d->pio = pio;
	if (stop)
		d->stop = *stop;
	d->vm_fd = vm_fd;
	d->start_ns = start_ns;
	ret = pthread_mutex_init(&d->lock, NULL);
	if (ret) {
		free(d);
		errno = ret;
		return NULL;
	}
	for (int i = 0; i < NR_DEBUG_PORTS; i++) {
		if (debug_port_table[i].flag && !(flags & debug_port_table[i].flag))
			continue;
		ret = iobus_register(pio, debug_port_table[i].port, DEBUG_PORT_WIDTH,
				     debug_port_table[i].ops, d, debug_port_table[i].name);
		if (ret) {
			debug_ports_unregister(d);
			pthread_mutex_destroy(&d->lock);
			free(d);
			errno = -ret;
			return NULL;
		}
		d->registered |= 1u << i;
	}
	return d;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void debug_ports_destroy(struct debug_ports *d)
{
	if (!d)
		return;
	debug_ports_unregister(d);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* Saved state (core/statebuf.h), field by field. */
int debug_ports_save(struct debug_ports *d, struct state_writer *w)
{
	struct debug_ports_state st;

	pthread_mutex_lock(&d->lock);
	st = d->st;
	pthread_mutex_unlock(&d->lock);
	sw_bool(w, st.marker_seen);
	sw_u32(w, st.msi_count);
	sw_u32(w, st.last_msi_addr);
	sw_u32(w, st.last_msi_data);
	return w->err;
}

/* The last test MSI is one test_msi_write() can send: a vector, a destination. */
int debug_ports_load(struct debug_ports *d, struct state_reader *r)
{
	struct debug_ports_state st;

	st.marker_seen = sr_bool(r);
	st.msi_count = sr_u32(r);
	st.last_msi_addr = sr_u32(r);
	st.last_msi_data = sr_u32(r);
	if (sr_done(r))
		return r->err;
	if (st.last_msi_data > 0xff)
		return sr_fail(r, "debug ports: last test MSI data 0x%x is not a vector",
			       st.last_msi_data);
	if (st.last_msi_addr ? (st.last_msi_addr & ~(0xffu << MSI_ADDR_DEST_SHIFT)) !=
				       MSI_ADDR_BASE
			     : st.last_msi_data != 0)
		return sr_fail(r, "debug ports: last test MSI address 0x%x, data 0x%x",
			       st.last_msi_addr, st.last_msi_data);
	pthread_mutex_lock(&d->lock);
	d->st = st;
	pthread_mutex_unlock(&d->lock);
	return 0;
}
