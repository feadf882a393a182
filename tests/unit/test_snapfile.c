// SPDX-License-Identifier: MIT
/*
 * The snapshot state file (state/snapfile.c, snapconfig.c) and the
 * assembly's refusals (state/snapshot.c): round trips, every truncation,
 * every flipped byte, wrong magic and version, huge lengths, bad tags,
 * atomic writes, and a save of a VM with a device type that has no
 * save/load yet failing before any file is made.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>

#include "state/snapconfig.h"
#include "state/snapfile.h"
#include "memory/layout.h"
#include "state/snapshot.h"
#include "vmm/vm.h"

/* A file with "config"-like and device sections; the caller frees *buf. */
static void make_file(uint8_t **buf, size_t *len)
{
	struct snap_builder b;
	uint8_t a[5] = { 1, 2, 3, 4, 5 };

	snap_builder_init(&b);
	snap_builder_add(&b, "serial0", 1, a, sizeof(a));
	snap_builder_add(&b, "empty", 7, NULL, 0);
	snap_builder_add(&b, "vcpu1", 2, a, 2);
	assert_int_equal(snap_builder_finish(&b, buf, len), 0);
	snap_builder_release(&b);
}

static int parse_copy(const uint8_t *buf, size_t len, struct snap_file *f, char *why)
{
	uint8_t *copy = malloc(len ? len : 1);

	memcpy(copy, buf, len);
	return snap_parse(copy, len, f, why, SNAP_WHY_LEN);
}

static void test_round_trip(void **state)
{
	const struct snap_section *s;
	struct state_reader r;
	struct snap_file f;
	char why[SNAP_WHY_LEN];
	uint8_t *buf, got[5];
	size_t len;

	(void)state;
	make_file(&buf, &len);
	assert_memory_equal(buf, "HUSKSNAP", 8);
	assert_int_equal(len, SNAP_MIN_LEN + (1 + 7 + 12 + 5) + (1 + 5 + 12) + (1 + 5 + 12 + 2));
	assert_int_equal(parse_copy(buf, len, &f, why), 0);
	assert_int_equal(f.nsections, 3);
	assert_string_equal(f.husk_version, HUSK_VERSION);
	s = snap_find(&f, "serial0");
	assert_non_null(s);
	assert_int_equal(s->version, 1);
	r = snap_section_reader(&f, s);
	sr_bytes(&r, got, 5);
	assert_int_equal(sr_done(&r), 0);
	assert_int_equal(got[4], 5);
	/* a reader bounded to its section: one byte more fails */
	r = snap_section_reader(&f, snap_find(&f, "vcpu1"));
	sr_u32(&r);
	assert_int_equal(r.err, -EINVAL);
	assert_int_equal(snap_find(&f, "empty")->len, 0);
	assert_null(snap_find(&f, "rtc"));
	snap_file_free(&f);
	free(buf);
}

static void test_every_truncation(void **state)
{
	struct snap_file f;
	char why[SNAP_WHY_LEN];
	uint8_t *buf;
	size_t len;

	(void)state;
	make_file(&buf, &len);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(parse_copy(buf, n, &f, why), -EINVAL);
		assert_non_null(strstr(why, "truncated"));
		snap_file_free(&f);
	}
	free(buf);
}

static void test_every_flipped_byte(void **state)
{
	struct snap_file f;
	char why[SNAP_WHY_LEN];
	uint8_t *buf;
	size_t len;

	(void)state;
	make_file(&buf, &len);
	for (size_t i = 0; i < len; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(parse_copy(buf, len, &f, why), -EINVAL);
			snap_file_free(&f);
			buf[i] ^= (uint8_t)(1u << bit);
		}
		/* past the header's own checks, it is the checksum that says so */
		if (i >= 24) {
			buf[i] ^= 0x40;
			parse_copy(buf, len, &f, why);
			assert_string_equal(why, "checksum mismatch (the file is corrupt)");
			snap_file_free(&f);
			buf[i] ^= 0x40;
		}
	}
	free(buf);
}

/* Rewrite a field and fix the checksum, so the check behind it is reached. */
static void patch(uint8_t *buf, size_t len, size_t off, uint64_t v, unsigned n)
{
	uint32_t crc;

	for (unsigned i = 0; i < n; i++)
		buf[off + i] = (uint8_t)(v >> (8 * i));
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)(len - 4));
	for (unsigned i = 0; i < 4; i++)
		buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void expect_why(uint8_t *buf, size_t len, const char *want)
{
	struct snap_file f;
	char why[SNAP_WHY_LEN];

	assert_int_equal(parse_copy(buf, len, &f, why), -EINVAL);
	snap_file_free(&f);
	if (!strstr(why, want))
		fail_msg("wanted \"%s\" in \"%s\"", want, why);
}

static void test_header_refusals(void **state)
{
	uint8_t *buf, *big;
	size_t len;

	(void)state;
	make_file(&buf, &len);
	memcpy(buf, "HUSKSNAQ", 8);
	expect_why(buf, len, "not a husk snapshot (bad magic)");
	memcpy(buf, "HUSKSNAP", 8);
	patch(buf, len, 8, 2, 4);
	expect_why(buf, len, "format version 2, this husk reads version 1");
	patch(buf, len, 8, 1, 4);
	patch(buf, len, 12, 1, 4);
	expect_why(buf, len, "unknown flags 0x1");
	patch(buf, len, 12, 0, 4);
	/* trailing garbage: a file longer than its header says */
	big = calloc(1, len + 3);
	memcpy(big, buf, len);
	expect_why(big, len + 3, "3 bytes of trailing garbage after byte");
	free(big);
	/* more sections than the file holds, fewer than it holds, too many */
	patch(buf, len, 40, 4, 4);
	expect_why(buf, len, "section 3: truncated at byte");
	patch(buf, len, 40, 2, 4);
	expect_why(buf, len, "bytes of garbage after the last section");
	patch(buf, len, 40, 100000, 4);
	expect_why(buf, len, "100000 sections, at most 1024");
	patch(buf, len, 40, 3, 4);
	{
		struct snap_file f;
		char why[SNAP_WHY_LEN];

		assert_int_equal(parse_copy(buf, len, &f, why), 0);	/* patch() is sound */
		snap_file_free(&f);
	}
	free(buf);
}

static void test_section_refusals(void **state)
{
	uint8_t *buf;
	size_t len, first = SNAP_HEADER_LEN;

	(void)state;
	make_file(&buf, &len);
	/* the first section's payload length: huge, and one more than is left */
	patch(buf, len, first + 1 + 7 + 4, 0xffffffffffffffffull, 8);
	expect_why(buf, len, "section \"serial0\": 18446744073709551615 bytes at byte");
	patch(buf, len, first + 1 + 7 + 4, len, 8);
	expect_why(buf, len, "only");
	patch(buf, len, first + 1 + 7 + 4, 5, 8);
	/* tag length 0 and 32, a tag outside [a-z0-9_.-], a duplicate */
	patch(buf, len, first, 0, 1);
	expect_why(buf, len, "tag length 0 (1..31)");
	patch(buf, len, first, 32, 1);
	expect_why(buf, len, "tag length 32 (1..31)");
	patch(buf, len, first, 7, 1);
	patch(buf, len, first + 1, 'S', 1);
	expect_why(buf, len, "the tag is not [a-z0-9_.-]");
	patch(buf, len, first + 1, 0, 1);
	expect_why(buf, len, "the tag is not [a-z0-9_.-]");
	free(buf);
	/* duplicates: the builder refuses them; a hand-made file is refused on parse */
	{
		struct snap_builder b;
		uint8_t *out;
		size_t n;

		snap_builder_init(&b);
		snap_builder_add(&b, "rtc", 1, "x", 1);
		snap_builder_add(&b, "rts", 1, "x", 1);
		assert_int_equal(snap_builder_finish(&b, &out, &n), 0);
		snap_builder_release(&b);
		out[SNAP_HEADER_LEN + 1 + 3 + 12 + 1 + 3] = 'c';
		patch(out, n, 0, 'H', 1);
		expect_why(out, n, "section \"rtc\" appears twice");
		free(out);
		snap_builder_init(&b);
		snap_builder_add(&b, "rtc", 1, "x", 1);
		snap_builder_add(&b, "rtc", 1, "x", 1);
		assert_int_equal(snap_builder_finish(&b, &out, &n), -EINVAL);
		snap_builder_release(&b);
		snap_builder_init(&b);
		snap_builder_add(&b, "Bad tag", 1, "x", 1);
		assert_int_equal(snap_builder_finish(&b, &out, &n), -EINVAL);
		snap_builder_release(&b);
	}
}

static void test_config_round_trip(void **state)
{
	struct husk_config cfg, back;
	struct str_arena arena = { 0 };
	struct state_writer w, w2;
	struct state_reader r;
	char err[256];

	(void)state;
	husk_config_init(&cfg);
	cfg.kernel = "/k";
	cfg.cpus = 3;
	cfg.memory = 128ull << 20;
	cfg.transport = HUSK_VIRTIO_MMIO;
	cfg.ndisks = 1;
	cfg.disks[0] = (struct husk_disk_config){ .path = "/d.img", .id = "root",
						  .readonly = true, .queues = 2 };
	cfg.nnets = 1;
	cfg.nets[0] = (struct husk_net_config){ .tap = "tap0", .fd = -1, .mac = { 2, 0, 0, 0, 0, 9 },
						.mac_set = true, .mtu = 1500 };
	sw_init(&w);
	assert_int_equal(snap_config_save(&cfg, &w, err, sizeof(err)), 0);
	sr_init(&r, w.buf, w.len);
	assert_int_equal(snap_config_load(&r, &back, &arena), 0);
	assert_int_equal(back.cpus, 3);
	assert_true(back.memory == 128ull << 20);
	assert_int_equal(back.transport, HUSK_VIRTIO_MMIO);
	assert_string_equal(back.kernel, "/k");
	assert_null(back.initrd);
	assert_string_equal(back.disks[0].id, "root");
	assert_true(back.disks[0].readonly);
	assert_string_equal(back.nets[0].tap, "tap0");
	assert_int_equal(back.nets[0].fd, -1);
	assert_int_equal(back.nets[0].mac[5], 9);
	/* saved again: byte equal */
	sw_init(&w2);
	assert_int_equal(snap_config_save(&back, &w2, err, sizeof(err)), 0);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.buf, w.buf, w.len);
	/* every truncation is refused, and the output is untouched */
	for (size_t n = 0; n < w.len; n++) {
		back.cpus = 77;
		sr_init(&r, w.buf, n);
		assert_int_equal(snap_config_load(&r, &back, &arena), -EINVAL);
		assert_int_equal(back.cpus, 77);
	}
	/* a bad enum and a huge string length */
	w.buf[4 + 8 + 2] = 9;	/* transport, after hugepages and track_dirty */
	sr_init(&r, w.buf, w.len);
	assert_int_equal(snap_config_load(&r, &back, &arena), -EINVAL);
	assert_non_null(strstr(r.why, "transport 9"));
	w.buf[4 + 8 + 2] = 1;
	memset(w.buf + 4 + 8 + 2 + 1 + 1 + 1 + 1 + 4, 0x7f, 4);	/* the serial spec's length */
	sr_init(&r, w.buf, w.len);
	assert_int_equal(snap_config_load(&r, &back, &arena), -EINVAL);
	assert_non_null(strstr(r.why, "serial: a 2139062143-byte string"));
	/* a NIC handed over as fd=N cannot be restored: refused at save */
	cfg.nets[0].tap = NULL;
	cfg.nets[0].fd = 5;
	sw_release(&w);
	assert_int_equal(snap_config_save(&cfg, &w, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--net fd=5"));
	sw_release(&w);
	sw_release(&w2);
	arena_free(&arena);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/husk-snap-XXXXXX", path[64], err[256];
	struct snap_file f;
	struct stat st;
	uint8_t *buf, zeros[3 * 4096] = { 0 };
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	make_file(&buf, &len);
	assert_int_equal(snap_write_atomic(path, "snapshot", buf, len, 0, err, sizeof(err)), 0);
	assert_int_equal(count_entries(dir), 1);	/* no temp file left */
	assert_int_equal(snap_read_file(path, &f, err, sizeof(err)), 0);
	assert_int_equal(f.nsections, 3);
	snap_file_free(&f);
	/* sparse: the size is right, the zero blocks are holes */
	zeros[4096 + 7] = 1;
	assert_int_equal(snap_write_atomic(path, "mem", zeros, sizeof(zeros), 1, err,
					   sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, sizeof(zeros));
	/* a directory that does not exist: one line, nothing made */
	snprintf(path, sizeof(path), "%s/no/vm.snap", dir);
	assert_int_not_equal(snap_write_atomic(path, "snapshot", buf, len, 0, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(count_entries(dir), 1);
	/* reading: a missing file, a directory, a file that is not a snapshot */
	assert_int_equal(snap_read_file(path, &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "snapshot "));
	assert_int_equal(snap_read_file(dir, &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	assert_int_equal(snap_read_file(path, &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad magic"));
	unlink(path);
	rmdir(dir);
	free(buf);
}

/* A paused VM shell: enough of struct husk_vm for vm_snapshot_save()'s checks. */
static struct husk_vm *fake_vm(void)
{
	struct husk_vm *vm = calloc(1, sizeof(*vm));

	husk_config_init(&vm->cfg);
	vm->kvm.sys_fd = vm->kvm.vm_fd = -1;
	pthread_mutex_init(&vm->pause.lock, NULL);
	vm->pause.paused = true;
	return vm;
}

static int save_nothing(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	(void)vm;
	(void)i;
	sw_u8(w, 0);
	return w->err;
}

static unsigned one_entry(const struct husk_config *cfg)
{
	(void)cfg;
	return 1;
}

/* A device type without save/load, after one that has them. */
static const struct snap_device unsupported_dev[] = {
	{ "first", 1, "a device that saves", one_entry, save_nothing, NULL },
	{ "floppy0", 1, "a floppy drive", one_entry, NULL, NULL },
};
static const struct snap_table unsupported_table = { unsupported_dev, 2 };

static void test_save_unsupported_device(void **state)
{
	char dir[] = "/tmp/husk-snap-XXXXXX", path[64], mem[64], err[256];
	struct husk_vm *vm = fake_vm();

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	snprintf(mem, sizeof(mem), "%s/vm.mem", dir);
	assert_int_equal(vm_snapshot_save_table(&unsupported_table, vm, path, mem, false, err,
						sizeof(err)), -EOPNOTSUPP);
	assert_string_equal(err, "not supported yet: a floppy drive (section \"floppy0\") has no "
			    "snapshot");
	assert_int_equal(count_entries(dir), 0);	/* neither file, no temp file */
	/* the real table: the first section that cannot be read ends it, nothing is left */
	assert_int_equal(vm_snapshot_save(vm, path, mem, false, err, sizeof(err)), -EBADF);
	assert_non_null(strstr(err, "section \"vm\": saving: "));
	assert_int_equal(count_entries(dir), 0);
	/* running, not paused: refused first */
	vm->pause.paused = false;
	assert_int_equal(vm_snapshot_save(vm, path, mem, false, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "must be paused"));
	assert_int_equal(vm_snapshot_save(vm, path, path, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must differ"));
	assert_int_equal(count_entries(dir), 0);
	rmdir(dir);
	pthread_mutex_destroy(&vm->pause.lock);
	free(vm);
}

/* Every table entry: a valid tag, and an entry without save has no load. */
static void test_device_table(void **state)
{
	struct husk_config cfg;
	char err[256];
	int have = 0;

	(void)state;
	for (unsigned k = 0; k < snap_ndevices; k++) {
		const struct snap_device *d = &snap_devices[k];

		assert_true((d->save == NULL) == (d->load == NULL));
		assert_true(strlen(d->tag) < SNAP_TAG_MAX - 3);
		have += d->save != NULL;
	}
	assert_int_equal(have, snap_ndevices);	/* every device type of a VM has its pair */
	husk_config_init(&cfg);
	assert_non_null(snap_devices[0].count);
	(void)err;
}

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* The section version of a fixed tag of the default table (0 for others). */
static uint32_t version_of(const char *tag)
{
	for (unsigned k = 0; k < snap_ndevices; k++)
		if (!strcmp(snap_devices[k].tag, tag))
			return snap_devices[k].version;
	return 0;
}

/* A state file with a config and whatever device sections @tags name. */
static void make_vm_file(const char *path, const char *const *tags, unsigned ntags)
{
	struct husk_config cfg;
	struct snap_builder b;
	struct snap_host h = { .vendor = "GenuineIntel" };
	struct state_writer w;
	char err[256];
	uint8_t *buf;
	size_t len;

	husk_config_init(&cfg);
	cfg.memory = 16 << 20;
	cfg.rng = false;
	snap_builder_init(&b);
	sw_init(&w);
	assert_int_equal(snap_config_save(&cfg, &w, err, sizeof(err)), 0);
	snap_builder_add(&b, "config", SNAP_CONFIG_VERSION, w.buf, w.len);
	sw_release(&w);
	snap_host_save(&h, &w);
	snap_builder_add(&b, "host", SNAP_HOST_VERSION, w.buf, w.len);
	sw_release(&w);
	for (unsigned i = 0; i < ntags; i++)
		snap_builder_add(&b, tags[i], version_of(tags[i]), "", 0);
	assert_int_equal(snap_builder_finish(&b, &buf, &len), 0);
	snap_builder_release(&b);
	write_file(path, buf, len);
	free(buf);
}

static void test_restore_refusals(void **state)
{
	static const char *const unknown[] = { "vm", "floppy0" };
	static const char *const missing[] = { "vm", "serial0" };
	char dir[] = "/tmp/husk-snap-XXXXXX", path[64], mem[64], err[512];
	struct str_arena arena = { 0 };
	struct husk_config cfg;
	struct husk_vm *vm = (struct husk_vm *)1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	snprintf(mem, sizeof(mem), "%s/vm.mem", dir);
	assert_int_equal(vm_snapshot_restore(path, mem, NULL, &arena, &cfg, &vm, err, sizeof(err)),
			 -ENOENT);
	assert_null(vm);
	make_vm_file(path, unknown, 2);
	assert_int_equal(vm_snapshot_restore(path, mem, NULL, &arena, &cfg, &vm, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "section \"floppy0\": unknown (not a device of this VM)"));
	assert_non_null(strstr(err, path));
	make_vm_file(path, missing, 2);
	assert_int_equal(vm_snapshot_restore(path, mem, NULL, &arena, &cfg, &vm, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "section \"pci\" (the PCI bus) is missing"));
	assert_null(vm);
	unlink(path);
	rmdir(dir);
	arena_free(&arena);
}

static void test_mem_load(void **state)
{
	char dir[] = "/tmp/husk-snap-XXXXXX", path[64], err[256];
	struct guest_mem m = { .fd = -1 };
	uint8_t *img = calloc(1, 8 << 20);

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.mem", dir);
	for (size_t i = 0; i < (8u << 20); i += 4096 * 7)
		img[i] = (uint8_t)(i >> 12);
	write_file(path, img, (8u << 20) - 4096);
	assert_int_equal(guest_mem_init(&m, 8 << 20, false, err, sizeof(err)), 0);
	assert_int_equal(snap_mem_load(&m, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "8384512 bytes, the snapshot's VM has 8388608"));
	write_file(path, img, 8u << 20);
	assert_int_equal(snap_mem_load(&m, path, err, sizeof(err)), 0);
	assert_memory_equal(m.hva, img, 8u << 20);
	/* private: the guest's writes do not reach the file */
	m.hva[0] = 0xee;
	guest_mem_destroy(&m);
	{
		FILE *f = fopen(path, "r");

		assert_int_equal(fgetc(f), img[0]);
		fclose(f);
	}
	unlink(path);
	rmdir(dir);
	free(img);
}

static int serial_only_save(struct husk_vm *vm, unsigned i, struct state_writer *w)
{
	(void)i;
	return serial_save(vm->serial, w);
}

static int serial_only_load(struct husk_vm *vm, unsigned i, struct state_reader *r)
{
	(void)i;
	return serial_load(vm->serial, r);
}

static unsigned one_dev(const struct husk_config *cfg)
{
	(void)cfg;
	return 1;
}

/* A VM of only a UART, as the table will be once every device has save/load. */
static const struct snap_device serial_dev[] = {
	{ "serial0", SERIAL_STATE_VERSION, "the 8250 UART", one_dev, serial_only_save,
	  serial_only_load },
};
static const struct snap_table serial_table = { serial_dev, 1 };

/*
 * Save through the assembly (config, host, serial0; RAM to a sparse memory
 * file), then, where /dev/kvm is, restore into a VM built by the VM
 * builder: RAM and the UART's section come back byte-equal; a UART section
 * with a bad value is refused naming it, and nothing is left.
 */
static void test_assembly_round_trip(void **state)
{
	char dir[] = "/tmp/husk-snap-XXXXXX", path[64], mem[64], err[512];
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + sizeof(struct kvm_cpuid_entry2));
	struct console con = { .kind = CONSOLE_NONE, .in_fd = -1, .out_fd = -1 };
	struct irq_line irq = { .vm_fd = -1, .gsi = 4 };
	struct husk_vm *vm = fake_vm(), *back = NULL;
	struct str_arena arena = { 0 };
	struct io_bus *bus = iobus_create("pio");
	struct husk_config cfg;
	struct state_writer w1, w2;
	struct snap_file f;
	uint8_t lcr = 0x9b;
	int kvm;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.snap", dir);
	snprintf(mem, sizeof(mem), "%s/vm.mem", dir);
	vm->cfg.serial = "none";
	vm->cfg.memory = 16 << 20;
	vm->cfg.rng = false;
	cpuid->nent = 1;
	cpuid->entries[0].function = 0;
	vm->kvm.supported = cpuid;
	assert_int_equal(guest_mem_init(&vm->mem, 16 << 20, false, err, sizeof(err)), 0);
	memcpy(vm->mem.hva + (5 << 20) + 3, "guest", 5);
	vm->serial = serial_create(bus, 0x3f8, &irq, &con, -1);
	assert_non_null(vm->serial);
	iobus_write(bus, 0x3fb, &lcr, 1);	/* LCR: something not at reset */
	assert_int_equal(vm_snapshot_save_table(&serial_table, vm, path, mem, false, err, sizeof(err)), 0);
	assert_int_equal(count_entries(dir), 2);
	assert_int_equal(snap_read_file(path, &f, err, sizeof(err)), 0);
	assert_int_equal(f.nsections, 3);
	assert_string_equal(f.sections[0].tag, "config");
	assert_string_equal(f.sections[1].tag, "host");
	assert_string_equal(f.sections[2].tag, "serial0");
	sw_init(&w1);
	serial_save(vm->serial, &w1);
	assert_int_equal(f.sections[2].len, w1.len);
	assert_memory_equal(f.buf + f.sections[2].off, w1.buf, w1.len);
	/* the default table refuses what this one wrote: a UART-only VM does not exist */
	assert_int_equal(vm_snapshot_restore(path, mem, NULL, &arena, &cfg, &back, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "is missing"));
	kvm = access("/dev/kvm", R_OK | W_OK) == 0;
	if (kvm) {
		struct kvm k = { .sys_fd = -1, .vm_fd = -1 };

		/* saved where KVM's CPUID was another (the fake one): refused */
		assert_int_equal(vm_snapshot_restore_table(&serial_table, path, mem, NULL, &arena, &cfg,
							   &back, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "taken where KVM offered other CPUID features"));
		assert_null(back);
		/* saved here: restored */
		assert_int_equal(kvm_open(&k, err, sizeof(err)), 0);
		vm->kvm.supported = k.supported;
		assert_int_equal(vm_snapshot_save_table(&serial_table, vm, path, mem, false, err,
							sizeof(err)), 0);
		vm->kvm.supported = cpuid;
		kvm_close(&k);
		snap_file_free(&f);
		assert_int_equal(snap_read_file(path, &f, err, sizeof(err)), 0);
		if (vm_snapshot_restore_table(&serial_table, path, mem, NULL, &arena, &cfg, &back, err,
					      sizeof(err)))
			fail_msg("restore: %s", err);
		assert_true(cfg.restore);
		assert_true(back->mem.size == vm->mem.size);
		/* RAM comes back as saved, but for a new VM generation ID */
		assert_memory_equal(back->mem.hva, vm->mem.hva, LAYOUT_VMGENID);
		assert_memory_not_equal(back->mem.hva + LAYOUT_VMGENID, vm->mem.hva + LAYOUT_VMGENID,
					LAYOUT_VMGENID_SIZE);
		assert_memory_equal(back->mem.hva + LAYOUT_VMGENID + LAYOUT_VMGENID_SIZE,
				    vm->mem.hva + LAYOUT_VMGENID + LAYOUT_VMGENID_SIZE,
				    vm->mem.size - LAYOUT_VMGENID - LAYOUT_VMGENID_SIZE);
		assert_int_equal(acpi_ged_pending(back->acpi_ged), ACPI_GED_EVT_VMGENID);
		sw_init(&w2);
		serial_save(back->serial, &w2);
		assert_int_equal(w2.len, w1.len);
		assert_memory_equal(w2.buf, w1.buf, w1.len);
		sw_release(&w2);
		husk_vm_destroy(back);
		back = NULL;
		/* a bad value in the UART's section: refused, naming it; no VM */
		f.buf[f.sections[2].off + 12] = 200;	/* rx_head */
		patch(f.buf, f.len, 0, 'H', 1);
		write_file(path, f.buf, f.len);
		assert_int_equal(vm_snapshot_restore_table(&serial_table, path, mem, NULL, &arena, &cfg,
							   &back, err, sizeof(err)), -EINVAL);
		assert_null(back);
		if (!strstr(err, "section \"serial0\": serial: RX FIFO head 200"))
			fail_msg("got: %s", err);
		/* a memory file of another size */
		assert_int_equal(truncate(mem, 4096), 0);
		assert_int_not_equal(vm_snapshot_restore_table(&serial_table, path, mem, NULL, &arena,
							       &cfg, &back, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "4096 bytes, the snapshot's VM has 16777216"));
	}
	snap_file_free(&f);
	sw_release(&w1);
	unlink(path);
	unlink(mem);
	assert_int_equal(count_entries(dir), 0);
	rmdir(dir);
	serial_destroy(vm->serial);
	iobus_destroy(bus);
	guest_mem_destroy(&vm->mem);
	free(cpuid);
	pthread_mutex_destroy(&vm->pause.lock);
	free(vm);
	arena_free(&arena);
	if (!kvm)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_every_flipped_byte),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_section_refusals),
		cmocka_unit_test(test_config_round_trip),
		cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_save_unsupported_device),
		cmocka_unit_test(test_device_table),
		cmocka_unit_test(test_restore_refusals),
		cmocka_unit_test(test_mem_load),
		cmocka_unit_test(test_assembly_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
