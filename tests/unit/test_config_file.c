// SPDX-License-Identifier: MIT
/* The JSON config: Firecracker's example, husk's keys, and a table of bad inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "vmm/cli.h"
#include "vmm/config_file.h"

/* Firecracker's documented example (tests/framework/vm_config.json), as is. */
static const char fc_example[] =
	"{\n"
	"  \"boot-source\": {\n"
	"    \"kernel_image_path\": \"vmlinux.bin\",\n"
	"    \"boot_args\": \"console=ttyS0 reboot=k panic=1 pci=off\",\n"
	"    \"initrd_path\": null\n"
	"  },\n"
	"  \"drives\": [\n"
	"    {\n"
	"      \"drive_id\": \"rootfs\",\n"
	"      \"partuuid\": null,\n"
	"      \"is_root_device\": true,\n"
	"      \"cache_type\": \"Unsafe\",\n"
	"      \"is_read_only\": false,\n"
	"      \"path_on_host\": \"bionic.rootfs.ext4\",\n"
	"      \"io_engine\": \"Sync\",\n"
	"      \"rate_limiter\": null,\n"
	"      \"socket\": null\n"
	"    }\n"
	"  ],\n"
	"  \"machine-config\": {\n"
	"    \"vcpu_count\": 2,\n"
	"    \"mem_size_mib\": 1024,\n"
	"    \"smt\": false,\n"
	"    \"track_dirty_pages\": false,\n"
	"    \"huge_pages\": \"None\"\n"
	"  },\n"
	"  \"cpu-config\": null,\n"
	"  \"balloon\": null,\n"
	"  \"network-interfaces\": [],\n"
	"  \"vsock\": null,\n"
	"  \"logger\": null,\n"
	"  \"metrics\": null,\n"
	"  \"mmds-config\": null,\n"
	"  \"entropy\": null\n"
	"}\n";

struct fixture {
	struct husk_config cfg;
	struct orch_options orch;
	enum log_level level;
	struct str_arena arena;
	struct config_target t;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	husk_config_init(&f->cfg);
	f->level = LOG_INFO;
	f->t = (struct config_target){ .cfg = &f->cfg, .orch = &f->orch, .log_level = &f->level,
				       .arena = &f->arena };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	arena_free(&f->arena);
	free(f);
	return 0;
}

static int apply(struct fixture *f, const char *text)
{
	char why[256];
	struct json_object *root = config_parse_json(text, strlen(text), why, sizeof(why));
	int ret;

	if (!root) {
		snprintf(f->err, sizeof(f->err), "%s", why);
		return -1;
	}
	ret = config_apply_document(root, &f->t, f->err, sizeof(f->err));
	json_object_put(root);
	return ret;
}

static void test_firecracker_example(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply(f, fc_example), 0);
	assert_string_equal(f->cfg.kernel, "vmlinux.bin");
	assert_null(f->cfg.initrd);
	assert_string_equal(f->cfg.cmdline, "console=ttyS0 reboot=k panic=1 pci=off");
	assert_int_equal(f->cfg.cpus, 2);
	assert_int_equal(f->cfg.memory, 1024ULL << 20);
	assert_false(f->cfg.hugepages);
	assert_int_equal(f->cfg.ndisks, 1);
	assert_string_equal(f->cfg.disks[0].id, "rootfs");
	assert_string_equal(f->cfg.disks[0].path, "bionic.rootfs.ext4");
	assert_false(f->cfg.disks[0].readonly);
	assert_int_equal(f->cfg.disks[0].engine, HUSK_BLK_ENGINE_SYNC);
	assert_int_equal(f->cfg.nnets, 0);
}

static void test_all_sections(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(apply(f,
		"{\"boot-source\":{\"kernel_image_path\":\"k\",\"initrd_path\":\"i\"},"
		"\"machine-config\":{\"vcpu_count\":4,\"mem_size_mib\":64,\"huge_pages\":\"2M\"},"
		"\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a.img\",\"is_read_only\":true,"
		"\"io_engine\":\"Async\"},{\"drive_id\":\"b\",\"path_on_host\":\"b.img\"}],"
		"\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
		"\"guest_mac\":\"06:00:AC:10:00:02\"}],"
		"\"logger\":{\"log_path\":\"l.log\",\"level\":\"Debug\",\"show_level\":true},"
		"\"metrics\":{\"metrics_path\":\"m.json\"},"
		"\"entropy\":{},"
		"\"husk\":{\"serial\":\"none\",\"rng\":false,\"shutdown_timeout\":3,"
		"\"virtio_transport\":\"mmio\",\"log_format\":\"json\",\"events\":\"e\"}}"), 0);
	assert_string_equal(f->cfg.initrd, "i");
	assert_int_equal(f->cfg.cpus, 4);
	assert_int_equal(f->cfg.memory, 64ULL << 20);
	assert_true(f->cfg.hugepages);
	assert_int_equal(f->cfg.ndisks, 2);
	assert_true(f->cfg.disks[0].readonly);
	assert_int_equal(f->cfg.disks[0].engine, HUSK_BLK_ENGINE_URING);
	assert_string_equal(f->cfg.disks[1].path, "b.img");
	assert_int_equal(f->cfg.nnets, 1);
	assert_string_equal(f->cfg.nets[0].tap, "tap0");
	assert_true(f->cfg.nets[0].mac_set);
	assert_int_equal(f->cfg.nets[0].mac[0], 0x06);
	assert_int_equal(f->cfg.nets[0].mac[3], 0x10);
	assert_int_equal(f->cfg.nets[0].fd, -1);
	assert_string_equal(f->orch.log_file, "l.log");
	assert_int_equal(f->level, LOG_DEBUG);
	assert_true(f->orch.show_level);
	assert_string_equal(f->cfg.metrics_path, "m.json");
	/* "entropy" turns the rng on, "husk" (later in the document) off again */
	assert_false(f->cfg.rng);
	assert_string_equal(f->cfg.serial, "none");
	assert_int_equal(f->cfg.shutdown_timeout, 3);
	assert_int_equal(f->cfg.transport, HUSK_VIRTIO_MMIO);
	assert_int_equal(f->orch.log_format, LOG_FORMAT_JSON);
	assert_string_equal(f->orch.events_path, "e");
}

static const struct bad_case {
	const char *json;
	const char *message;	/* the whole error */
} bad_cases[] = {
	{ "[]", "expected a JSON object at the top level" },
	{ "{\"boot-source\":", "invalid JSON: unexpected end of input" },
	{ "{} {}", "invalid JSON: text after the end of the document" },
	{ "{\"bogus\":1}", "bogus: unknown key" },
	{ "{\"boot-source\":{}}", "boot-source.kernel_image_path: required" },
	{ "{\"boot-source\":null}", "boot-source: expected an object" },
	{ "{\"boot-source\":[]}", "boot-source: expected an object" },
	{ "{\"boot-source\":{\"kernel_image_path\":1}}",
	  "boot-source.kernel_image_path: expected string" },
	{ "{\"boot-source\":{\"kernel_image_path\":\"k\",\"boot_args\":true}}",
	  "boot-source.boot_args: expected string" },
	{ "{\"boot-source\":{\"kernel_image_path\":\"k\",\"kernel\":\"x\"}}",
	  "boot-source.kernel: unknown key" },
	{ "{\"machine-config\":{\"vcpu_count\":\"2\"}}", "machine-config.vcpu_count: expected an integer" },
	{ "{\"machine-config\":{\"vcpu_count\":0}}",
	  "machine-config.vcpu_count: expected an integer from 1 to 254" },
	{ "{\"machine-config\":{\"vcpu_count\":2.5}}", "machine-config.vcpu_count: expected an integer" },
	{ "{\"machine-config\":{\"mem_size_mib\":4}}",
	  "machine-config.mem_size_mib: expected an integer from 8 to 1048576" },
	{ "{\"machine-config\":{\"mem_size_mib\":-1}}",
	  "machine-config.mem_size_mib: expected an integer from 8 to 1048576" },
	{ "{\"machine-config\":{\"smt\":true}}",
	  "machine-config.smt: true is not supported (husk presents one thread per core)" },
	{ "{\"machine-config\":{\"smt\":\"no\"}}", "machine-config.smt: expected boolean" },
	{ "{\"machine-config\":{\"track_dirty_pages\":1}}",
	  "machine-config.track_dirty_pages: expected boolean" },
	{ "{\"machine-config\":{\"huge_pages\":\"1G\"}}",
	  "machine-config.huge_pages: expected \"None\" or \"2M\"" },
	{ "{\"machine-config\":{\"cpu_template\":\"T2\"}}",
	  "machine-config.cpu_template: not supported yet (only null is accepted)" },
	{ "{\"machine-config\":{\"vcpus\":1}}", "machine-config.vcpus: unknown key" },
	{ "{\"drives\":{}}", "drives: expected array" },
	{ "{\"drives\":[1]}", "drives[0]: expected an object" },
	{ "{\"drives\":[{\"path_on_host\":\"a\"}]}", "drives[0].drive_id: required" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\"},{\"drive_id\":\"b\",\"path_on_host\":7}]}",
	  "drives[1].path_on_host: expected string" },
	{ "{\"drives\":[{\"drive_id\":\"a\"}]}", "drives[0].path_on_host: required" },
	{ "{\"drives\":[{\"drive_id\":\"a b\",\"path_on_host\":\"a\"}]}",
	  "drives[0].drive_id: only letters, digits, '_' and '-' are allowed" },
	{ "{\"drives\":[{\"drive_id\":\"\",\"path_on_host\":\"a\"}]}",
	  "drives[0].drive_id: expected 1 to 64 characters" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"is_read_only\":1}]}",
	  "drives[0].is_read_only: expected boolean" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"cache_type\":\"None\"}]}",
	  "drives[0].cache_type: expected \"Unsafe\" or \"Writeback\"" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"io_engine\":\"uring\"}]}",
	  "drives[0].io_engine: expected \"Sync\" or \"Async\"" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"rate_limiter\":[]}]}",
	  "drives[0].rate_limiter: expected an object (a RateLimiter) or null" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"rate_limiter\":{\"ops\":{\"size\":1}}}]}",
	  "drives[0].rate_limiter.ops: refill_time is required" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"rate_limiter\":{\"ops\":{\"size\":1,\"refill_time\":1,\"x\":1}}}]}",
	  "drives[0].rate_limiter.ops.x: unknown key" },
	{ "{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\",\"size\":1}]}",
	  "drives[0].size: unknown key" },
	{ "{\"network-interfaces\":[{\"iface_id\":\"e\"}]}",
	  "network-interfaces[0].host_dev_name: required" },
	{ "{\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"zz\"}]}",
	  "network-interfaces[0].guest_mac: expected a unicast MAC such as \"06:00:ac:10:00:02\"" },
	{ "{\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"01:00:00:00:00:01\"}]}",
	  "network-interfaces[0].guest_mac: expected a unicast MAC such as \"06:00:ac:10:00:02\"" },
	{ "{\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"a-very-long-tap-name\"}]}",
	  "network-interfaces[0].host_dev_name: expected 1 to 15 characters" },
	{ "{\"network-interfaces\":[{\"iface_id\":\"e\",\"host_dev_name\":\"t\",\"rx_rate_limiter\":{\"bandwidth\":{\"size\":-1,\"refill_time\":1}}}]}",
	  "network-interfaces[0].rx_rate_limiter.bandwidth.size: expected an integer >= 0" },
	{ "{\"logger\":{\"level\":\"Loud\"}}",
	  "logger.level: expected Error, Warning, Info, Debug, Trace or Off" },
	{ "{\"logger\":{\"log_path\":false}}", "logger.log_path: expected string" },
	{ "{\"logger\":{\"colour\":true}}", "logger.colour: unknown key" },
	{ "{\"metrics\":{}}", "metrics.metrics_path: required" },
	{ "{\"metrics\":{\"metrics_path\":1}}", "metrics.metrics_path: expected string" },
	{ "{\"balloon\":{\"amount_mib\":1}}", "balloon.deflate_on_oom: required" },
	{ "{\"balloon\":{\"amount_mib\":-1,\"deflate_on_oom\":true}}",
	  "balloon.amount_mib: expected 0 to 16777215" },
	{ "{\"balloon\":{\"amount_mib\":1,\"deflate_on_oom\":true,\"free_page_hinting\":true}}",
	  "balloon.free_page_hinting: free page hinting is not supported (free_page_reporting is)" },
	{ "{\"balloon\":{\"amount_mib\":1,\"deflate_on_oom\":true,\"x\":1}}",
	  "balloon.x: unknown key" },
	{ "{\"balloon\":[]}", "balloon: expected an object (a Balloon)" },
	{ "{\"vsock\":{}}", "vsock: not supported yet (only null is accepted)" },
	{ "{\"entropy\":{\"rate_limiter\":{}}}",
	  "entropy.rate_limiter: not supported yet (only null is accepted)" },
	{ "{\"husk\":{\"rng\":\"yes\"}}", "husk.rng: expected boolean" },
	{ "{\"husk\":{\"shutdown_timeout\":3601}}",
	  "husk.shutdown_timeout: expected an integer from 0 to 3600" },
	{ "{\"husk\":{\"virtio_transport\":\"isa\"}}", "husk.virtio_transport: expected \"pci\" or \"mmio\"" },
	{ "{\"husk\":{\"log_format\":\"xml\"}}", "husk.log_format: expected \"text\" or \"json\"" },
	{ "{\"husk\":{\"serial\":null}}", "husk.serial: expected a value, not null" },
	{ "{\"husk\":{\"turbo\":true}}", "husk.turbo: unknown key" },
};

static void test_bad_inputs(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct husk_config before = f->cfg;

		f->err[0] = '\0';
		if (apply(f, bad_cases[i].json) == 0)
			fail_msg("accepted: %s", bad_cases[i].json);
		if (strcmp(f->err, bad_cases[i].message) != 0)
			fail_msg("%s\n  said:     %s\n  expected: %s", bad_cases[i].json, f->err,
				 bad_cases[i].message);
		f->cfg = before;
	}
}

static void test_machine_all_or_nothing(void **state)
{
	struct fixture *f = *state;

	assert_int_not_equal(apply(f, "{\"machine-config\":{\"vcpu_count\":3,\"smt\":true}}"), 0);
	assert_int_equal(f->cfg.cpus, HUSK_DEFAULT_CPUS);
}

static void test_put_drive_replaces_by_id(void **state)
{
	struct fixture *f = *state;
	char why[128];
	const char *ta = "{\"drive_id\":\"d\",\"path_on_host\":\"1\"}";
	const char *tb = "{\"drive_id\":\"d\",\"path_on_host\":\"2\"}";
	struct json_object *a = config_parse_json(ta, strlen(ta), why, sizeof(why));
	struct json_object *b = config_parse_json(tb, strlen(tb), why, sizeof(why));

	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(config_apply_drive(a, &f->t, "", "d", f->err, sizeof(f->err)), 0);
	assert_int_equal(config_apply_drive(b, &f->t, "", "d", f->err, sizeof(f->err)), 0);
	assert_int_equal(f->cfg.ndisks, 1);
	assert_string_equal(f->cfg.disks[0].path, "2");
	assert_int_not_equal(config_apply_drive(a, &f->t, "", "other", f->err, sizeof(f->err)), 0);
	assert_string_equal(f->err, "drive_id: 'd' does not match the id 'other' in the path");
	json_object_put(a);
	json_object_put(b);
}

static int put_json(int (*fn)(struct json_object *, struct config_target *, const char *,
			     const char *, char *, size_t),
		    struct fixture *f, const char *id, const char *text)
{
	char why[128];
	struct json_object *o = config_parse_json(text, strlen(text), why, sizeof(why));
	int ret;

	assert_non_null(o);
	ret = fn(o, &f->t, "", id, f->err, sizeof(f->err));
	json_object_put(o);
	return ret;
}

/*
 * is_root_device: the root drive goes first (/dev/vda) whatever order the
 * client PUTs in (the go-sdk puts it last); a second root is refused.
 */
static void test_root_drive_goes_first(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(put_json(config_apply_drive, f, "data",
				  "{\"drive_id\":\"data\",\"path_on_host\":\"d.img\"}"), 0);
	assert_int_equal(put_json(config_apply_drive, f, "scratch",
				  "{\"drive_id\":\"scratch\",\"path_on_host\":\"s.img\"}"), 0);
	assert_int_equal(put_json(config_apply_drive, f, "rootfs",
				  "{\"drive_id\":\"rootfs\",\"path_on_host\":\"r.img\","
				  "\"is_root_device\":true,\"is_read_only\":true}"), 0);
	assert_int_equal(f->cfg.ndisks, 3);
	assert_string_equal(f->cfg.disks[0].id, "rootfs");
	assert_true(f->cfg.disks[0].root && f->cfg.disks[0].readonly);
	assert_string_equal(f->cfg.disks[1].id, "data");
	assert_string_equal(f->cfg.disks[2].id, "scratch");
	assert_int_equal(put_json(config_apply_drive, f, "other",
				  "{\"drive_id\":\"other\",\"path_on_host\":\"o.img\","
				  "\"is_root_device\":true}"), -EINVAL);
	assert_string_equal(f->err, "is_root_device: drive 'rootfs' is the root device already");
	assert_int_equal(f->cfg.ndisks, 3);
	/* the root drive PUT again stays the root, and first */
	assert_int_equal(put_json(config_apply_drive, f, "rootfs",
				  "{\"drive_id\":\"rootfs\",\"path_on_host\":\"r2.img\","
				  "\"is_root_device\":true}"), 0);
	assert_string_equal(f->cfg.disks[0].path, "r2.img");
	assert_int_equal(f->cfg.ndisks, 3);
}

/* PUT /boot-source replaces the last one: an initrd or boot_args left out is gone. */
static void test_boot_source_replaces(void **state)
{
	struct fixture *f = *state;
	char why[128];
	const char *a = "{\"kernel_image_path\":\"k1\",\"initrd_path\":\"i1\",\"boot_args\":\"x=1\"}";
	const char *b = "{\"kernel_image_path\":\"k2\",\"initrd_path\":null}";
	struct json_object *oa = config_parse_json(a, strlen(a), why, sizeof(why));
	struct json_object *ob = config_parse_json(b, strlen(b), why, sizeof(why));

	assert_int_equal(config_apply_boot_source(oa, &f->t, "", f->err, sizeof(f->err)), 0);
	assert_string_equal(f->cfg.initrd, "i1");
	assert_int_equal(config_apply_boot_source(ob, &f->t, "", f->err, sizeof(f->err)), 0);
	assert_string_equal(f->cfg.kernel, "k2");
	assert_null(f->cfg.initrd);
	assert_string_equal(f->cfg.cmdline, "");
	json_object_put(oa);
	json_object_put(ob);
}

/* --disk path=X / --net tap=T without id=: a PUT compares with disk0 / net0, no crash. */
static void test_put_next_to_cli_devices_without_id(void **state)
{
	struct fixture *f = *state;

	f->cfg.disks[0] = (struct husk_disk_config){ .path = "cli.img" };
	f->cfg.ndisks = 1;
	f->cfg.nets[0] = (struct husk_net_config){ .tap = "tap-cli", .fd = -1 };
	f->cfg.nnets = 1;
	assert_int_equal(put_json(config_apply_drive, f, "x",
				  "{\"drive_id\":\"x\",\"path_on_host\":\"x.img\"}"), 0);
	assert_int_equal(f->cfg.ndisks, 2);
	assert_null(f->cfg.disks[0].id);
	assert_int_equal(put_json(config_apply_drive, f, "disk0",
				  "{\"drive_id\":\"disk0\",\"path_on_host\":\"y.img\"}"), 0);
	assert_int_equal(f->cfg.ndisks, 2);	/* the command line's disk0, replaced */
	assert_string_equal(f->cfg.disks[0].path, "y.img");
	assert_int_equal(put_json(config_apply_net, f, "n",
				  "{\"iface_id\":\"n\",\"host_dev_name\":\"tap-n\"}"), 0);
	assert_int_equal(f->cfg.nnets, 2);
	assert_int_equal(put_json(config_apply_net, f, "net0",
				  "{\"iface_id\":\"net0\",\"host_dev_name\":\"tap-m\"}"), 0);
	assert_int_equal(f->cfg.nnets, 2);
	assert_string_equal(f->cfg.nets[0].tap, "tap-m");
}

static void test_machine_put_requires_keys(void **state)
{
	struct fixture *f = *state;
	char why[128];
	struct json_object *o = config_parse_json("{\"vcpu_count\":2}", 16, why, sizeof(why));

	assert_int_not_equal(config_apply_machine(o, &f->t, "", true, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->err, "mem_size_mib: required");
	assert_int_equal(config_apply_machine(o, &f->t, "", false, f->err, sizeof(f->err)), 0);
	assert_int_equal(f->cfg.cpus, 2);
	json_object_put(o);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/husk-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_flags_override_config(void **state)
{
	char *path = write_temp(fc_example);
	char *argv[] = { "husk", "--cpus", "3", "--config", path, "--cmdline", "quiet", NULL };
	struct cli_options o;
	char err[512] = "";

	(void)state;
	assert_int_equal(cli_parse(7, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.cfg.kernel, "vmlinux.bin");
	assert_int_equal(o.cfg.cpus, 3);		/* the flag, wherever it stands */
	assert_string_equal(o.cfg.cmdline, "quiet");
	assert_int_equal(o.cfg.memory, 1024ULL << 20);	/* the file */
	cli_options_free(&o);
	unlink(path);
	free(path);
}

static void test_config_file_errors(void **state)
{
	char *path = write_temp("{\"drives\":[{\"drive_id\":\"a\",\"path_on_host\":\"a\"},"
				"{\"drive_id\":\"b\",\"path_on_host\":1}]}");
	char *argv[] = { "husk", "--config", path, NULL };
	char *missing[] = { "husk", "--config=/nonexistent/vm.json", NULL };
	struct cli_options o;
	char err[512] = "", want[600];

	(void)state;
	assert_int_not_equal(cli_parse(3, argv, &o, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "--config %s: drives[1].path_on_host: expected string", path);
	assert_string_equal(err, want);
	cli_options_free(&o);
	assert_int_not_equal(cli_parse(2, missing, &o, err, sizeof(err)), 0);
	assert_string_equal(err, "--config /nonexistent/vm.json: No such file or directory");
	cli_options_free(&o);
	{
		char *dir[] = { "husk", "--config", "/tmp", NULL };
		char *nokernel = write_temp("{\"machine-config\":{\"vcpu_count\":1,"
					    "\"mem_size_mib\":64}}");
		char *nk[] = { "husk", "--config", nokernel, NULL };
		char *nk_api[] = { "husk", "--config", nokernel, "--api-sock", "s", NULL };

		assert_int_not_equal(cli_parse(3, dir, &o, err, sizeof(err)), 0);
		assert_string_equal(err, "--config /tmp: Is a directory");
		cli_options_free(&o);
		assert_int_not_equal(cli_parse(3, nk, &o, err, sizeof(err)), 0);
		snprintf(want, sizeof(want), "--config %s: boot-source.kernel_image_path is required",
			 nokernel);
		assert_string_equal(err, want);
		cli_options_free(&o);
		/* with the API the kernel may come later */
		assert_int_equal(cli_parse(5, nk_api, &o, err, sizeof(err)), 0);
		cli_options_free(&o);
		unlink(nokernel);
		free(nokernel);
	}
	unlink(path);
	free(path);
}

static void test_orchestration_flags(void **state)
{
	char *argv[] = { "husk", "--api-sock", "/run/a.sock", "--log-file", "l", "--log-format",
			 "json", "--metrics", "m", "--events", "e", NULL };
	char *bad[] = { "husk", "--log-format", "yaml", NULL };
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(cli_parse(11, argv, &o, err, sizeof(err)), 0);
	assert_string_equal(o.orch.api_sock, "/run/a.sock");
	assert_string_equal(o.orch.log_file, "l");
	assert_int_equal(o.orch.log_format, LOG_FORMAT_JSON);
	assert_string_equal(o.cfg.metrics_path, "m");
	assert_string_equal(o.orch.events_path, "e");
	assert_int_not_equal(cli_parse(3, bad, &o, err, sizeof(err)), 0);
	assert_string_equal(err, "--log-format yaml: expected text or json");
}

/*
 * A key or value with a control character (a JSON "\n" escape) is echoed
 * in the error; the message must still be one line (fuzz_config_file).
 */
static void test_error_is_one_line(void **state)
{
	struct fixture *f = *state;

	assert_int_not_equal(apply(f, "{\"machine-config\":{\"vcpu_co\\nunt\":\"two\"}}"), 0);
	assert_null(strchr(f->err, '\n'));
	assert_string_equal(f->err, "machine-config.vcpu_co?unt: unknown key");
	assert_int_not_equal(apply(f, "{\"drives\":[{\"drive_id\":\"a\\r\\u0001b\"}]}"), 0);
	assert_null(strchr(f->err, '\r'));
	assert_null(strchr(f->err, '\1'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_firecracker_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machine_all_or_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_drive_replaces_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_drive_goes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_boot_source_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_next_to_cli_devices_without_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_machine_put_requires_keys, setup, teardown),
		cmocka_unit_test(test_flags_override_config),
		cmocka_unit_test(test_config_file_errors),
		cmocka_unit_test_setup_teardown(test_error_is_one_line, setup, teardown),
		cmocka_unit_test(test_orchestration_flags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
