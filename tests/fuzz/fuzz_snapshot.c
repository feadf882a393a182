// SPDX-License-Identifier: MIT
/*
 * The snapshot state file reader (state/snapfile.c, snapconfig.c): the
 * input is a whole state file. snap_parse() must refuse it or frame every
 * section inside the file; then the "config" and "host" sections go
 * through their loaders and every section through a bounded reader, and
 * "serial0" through serial_load() on a real UART, "vm" and "vcpu0" through
 * the KVM chips' and vCPU state decoders (whose output KVM gets: every
 * length bounded, a state that decodes re-encodes to the same bytes). A
 * 1-in-256 input has its
 * length and checksum fixed first (byte 0 of the input is not part of it),
 * so the fuzzer gets past the checksum and exercises the section parser.
 */
#include <sys/eventfd.h>
#include <zlib.h>

#include "cpu/vcpu_state.h"
#include "devices/devices.h"
#include "devices/kvm_chips.h"
#include "fuzz_helpers.h"
#include "fake_vm_ioctl.h"
#include "state/snapconfig.h"
#include "state/snapfile.h"

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	(void)request;
	(void)arg;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Make the header's length and the trailing CRC right (the rest as given). */
static void fix_frame(uint8_t *buf, size_t len)
{
	if (len < SNAP_MIN_LEN)
		return;
	memcpy(buf, SNAP_MAGIC, 8);
	put_le(buf + 8, SNAP_FORMAT_VERSION, 4);
	put_le(buf + 12, 0, 4);
	put_le(buf + 16, len, 8);
	put_le(buf + len - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(len - 4)), 4);
}

/* What a decoder accepted encodes back to exactly the bytes it read. */
static void same_encoding(const struct state_reader *r, const struct kvm_chips_state *cs,
			  const struct vcpu_state *vs)
{
	struct state_writer w;

	sw_init(&w);
	if (cs)
		kvm_chips_write(cs, &w);
	else
		vcpu_state_write(vs, &w);
	if (w.err || w.len != r->len || memcmp(w.buf, r->p, r->len))
		__builtin_trap();
	sw_release(&w);
}

static void load_sections(const struct snap_file *f)
{
	struct irq_line irq = { .vm_fd = FAKE_VM_FD, .gsi = 4 };
	struct console con = { .kind = CONSOLE_NONE, .in_fd = -1, .out_fd = -1 };
	struct str_arena arena = { 0 };
	struct husk_config cfg;
	struct snap_host h;
	struct io_bus *bus;
	int wake;

	for (unsigned i = 0; i < f->nsections; i++) {
		const struct snap_section *s = &f->sections[i];
		struct state_reader r = snap_section_reader(f, s);

		if (s->off + s->len > f->len - 4 || s->off < SNAP_HEADER_LEN)
			__builtin_trap();	/* a section outside the file */
		if (!strcmp(s->tag, "config")) {
			if (snap_config_load(&r, &cfg, &arena) == 0 &&
			    (cfg.cpus < 1 || cfg.ndisks > HUSK_MAX_DISKS || cfg.nnets > HUSK_MAX_NETS))
				__builtin_trap();
		} else if (!strcmp(s->tag, "host")) {
			snap_host_load(&r, &h);
		} else if (!strcmp(s->tag, "serial0")) {
			bus = iobus_create("pio");
			wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
			if (bus && wake >= 0) {
				struct serial *u = serial_create(bus, 0x3f8, &irq, &con, wake);

				if (u) {
					serial_load(u, &r);
					serial_destroy(u);
				}
			}
			if (bus)
				iobus_destroy(bus);
			if (wake >= 0)
				close(wake);
		} else if (!strcmp(s->tag, "vm")) {
			struct kvm_chips_state cs;

			if (kvm_chips_read(&r, &cs) == 0)
				same_encoding(&r, &cs, NULL);
		} else if (!strcmp(s->tag, "vcpu0")) {
			struct vcpu_state *vs = malloc(sizeof(*vs));

			if (vs && vcpu_state_read(&r, vs) == 0) {
				if (vs->nmsrs > VCPU_STATE_MAX_MSRS || vs->xsave_len > VCPU_STATE_MAX_XSAVE ||
				    vs->xcrs.nr_xcrs > KVM_MAX_XCRS)
					__builtin_trap();
				same_encoding(&r, NULL, vs);
			}
			free(vs);
		} else {
			while (!r.err)	/* every byte readable, none beyond */
				sr_u8(&r);
			if (r.off != r.len)
				__builtin_trap();
		}
	}
	arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[SNAP_WHY_LEN];
	struct snap_file f;
	bool fix = size && data[0] == 0xfe;
	uint8_t *buf;

	if (fix) {
		data++;
		size--;
	}
	if (size > (1u << 20))
		return 0;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fix)
		fix_frame(buf, size);
	if (snap_parse(buf, size, &f, why, sizeof(why)) == 0)
		load_sections(&f);
	else if (!why[0] || strchr(why, '\n'))
		__builtin_trap();	/* every refusal is one line */
	snap_file_free(&f);
	return 0;
}
