// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "vmm/cli.h"

#define ARGV(...) (char *[]){ "husk", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "husk", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_defaults(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k"), 0);
	assert_string_equal(o.cfg.kernel, "k");
	assert_null(o.cfg.initrd);
	assert_string_equal(o.cfg.cmdline, "");
	assert_int_equal(o.cfg.cpus, 1);
	assert_int_equal(o.cfg.memory, 256ULL << 20);
	assert_string_equal(o.cfg.serial, "stdio");
	assert_false(o.cfg.hugepages);
	assert_true(o.cfg.rng);
	assert_int_equal(o.log_level, LOG_INFO);
	assert_int_equal(o.action, CLI_RUN);
	assert_int_equal(o.cfg.shutdown_timeout, HUSK_DEFAULT_SHUTDOWN_TIMEOUT);
}

static void test_disks(void **state)
{
	struct cli_options o;
	char err[256] = "";
	const struct husk_disk_config *d;

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--disk", "path=/a.img",
			       "--disk", "path=/b.img,ro=on,direct=on,id=data-1,serial=S123,"
			       "queues=4,engine=sync,poll_us=0", "--virtio-transport", "mmio"), 0);
	assert_int_equal(o.cfg.ndisks, 2);
	assert_int_equal(o.cfg.transport, HUSK_VIRTIO_MMIO);
	d = &o.cfg.disks[0];
	assert_string_equal(d->path, "/a.img");
	assert_false(d->readonly);
	assert_null(d->id);
	assert_int_equal(d->queues, 0);
	assert_int_equal(d->engine, HUSK_BLK_ENGINE_AUTO);
	assert_false(d->poll_set);			/* the default */
	d = &o.cfg.disks[1];
	assert_string_equal(d->path, "/b.img");
	assert_true(d->readonly && d->direct);
	assert_string_equal(d->id, "data-1");
	assert_string_equal(d->serial, "S123");
	assert_int_equal(d->queues, 4);
	assert_int_equal(d->engine, HUSK_BLK_ENGINE_SYNC);
	assert_true(d->poll_set);
	assert_int_equal(d->poll_us, 0);		/* polling off */
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,poll_us=1001"), 0);
	assert_non_null(strstr(err, "poll_us=1001: expected 0 to 1000"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,poll_us=-5"), 0);
	cli_free(&o);

	assert_int_not_equal(PARSE(&o, err, "--disk", "ro=on"), 0);
	assert_string_equal(err, "--disk ro=on: path=FILE is required");
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,colour=red"), 0);
	assert_non_null(strstr(err, "--disk path=/a,colour=red: unknown key 'colour'"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,ro=maybe"), 0);
	assert_non_null(strstr(err, "ro=maybe: expected on or off"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,queues=0"), 0);
	assert_non_null(strstr(err, "queues=0: expected 1 to 16"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,serial=123456789012345678901"), 0);
	assert_non_null(strstr(err, "at most 20 bytes"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "path=/a,id=a b"), 0);
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--disk", "/a.img"), 0);
	assert_non_null(strstr(err, "expected key=value"));
	cli_free(&o);
	assert_int_not_equal(PARSE(&o, err, "--virtio-transport", "usb"), 0);
	assert_string_equal(err, "--virtio-transport usb: expected pci or mmio");
	cli_free(&o);
}

static void test_shutdown_timeout(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--shutdown-timeout", "0"), 0);
	assert_int_equal(o.cfg.shutdown_timeout, 0);
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--shutdown-timeout", "30"), 0);
	assert_int_equal(o.cfg.shutdown_timeout, 30);
	assert_int_not_equal(PARSE(&o, err, "--shutdown-timeout", "soon"), 0);
	assert_non_null(strstr(err, "--shutdown-timeout soon"));
	assert_int_not_equal(PARSE(&o, err, "--shutdown-timeout", "3601"), 0);
	assert_non_null(strstr(err, "from 0 to 3600"));
}

static void test_rng(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--no-rng"), 0);
	assert_false(o.cfg.rng);
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--no-rng", "--rng"), 0);
	assert_true(o.cfg.rng);
}

static void test_all_flags(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "vmlinuz", "--initrd", "rd.img",
			       "--cmdline", "console=ttyS0 quiet", "--cpus", "4",
			       "--memory", "1G", "--hugepages", "--serial", "file:/tmp/x",
			       "--log-level", "debug"), 0);
	assert_string_equal(o.cfg.kernel, "vmlinuz");
	assert_string_equal(o.cfg.initrd, "rd.img");
	assert_string_equal(o.cfg.cmdline, "console=ttyS0 quiet");
	assert_int_equal(o.cfg.cpus, 4);
	assert_int_equal(o.cfg.memory, 1ULL << 30);
	assert_true(o.cfg.hugepages);
	assert_string_equal(o.cfg.serial, "file:/tmp/x");
	assert_int_equal(o.log_level, LOG_DEBUG);
}

static void test_equals_form_and_help(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel=k", "--memory=512M"), 0);
	assert_int_equal(o.cfg.memory, 512ULL << 20);
	assert_int_equal(PARSE(&o, err, "--help"), 0);
	assert_int_equal(o.action, CLI_HELP);
	assert_int_equal(PARSE(&o, err, "--version"), 0);
	assert_int_equal(o.action, CLI_VERSION);
}

static void expect_error(int ret, const char *err, const char *needle)
{
	assert_int_not_equal(ret, 0);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
	assert_null(strchr(err, '\n'));
}

static void test_errors(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	expect_error(PARSE(&o, err, "--cpus", "abc"), err, "--cpus abc");
	expect_error(PARSE(&o, err, "--cpus", "0"), err, "from 1 to 254");
	expect_error(PARSE(&o, err, "--cpus", "255"), err, "--cpus 255");
	expect_error(PARSE(&o, err, "--cpus", "-1"), err, "--cpus -1");
	expect_error(PARSE(&o, err, "--cpus", ""), err, "--cpus");
	expect_error(PARSE(&o, err, "--memory", "abc"), err, "--memory abc");
	expect_error(PARSE(&o, err, "--memory", "12Q"), err, "--memory 12Q");
	expect_error(PARSE(&o, err, "--log-level", "loud"), err, "--log-level loud");
	expect_error(PARSE(&o, err, "--frobnicate"), err, "--frobnicate");
	expect_error(PARSE(&o, err, "--kernel"), err, "--kernel needs a value");
	expect_error(PARSE(&o, err, "--kernel", "k", "extra"), err, "'extra'");
}

/* --restore: with its memory file, without a VM configuration, resumable. */
static void test_restore_flags(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume"), 0);
	assert_string_equal(o.restore_path, "s");
	assert_string_equal(o.restore_mem, "m");
	assert_true(o.resume);
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--api-sock", "a"), 0);
	assert_false(o.resume);
	cli_options_free(&o);
	expect_error(PARSE(&o, err, "--restore", "s", "--resume"), err,
		     "--restore s: --restore-mem MEM (its memory file) is required");
	expect_error(PARSE(&o, err, "--restore-mem", "m"), err, "--restore-mem: only with --restore");
	expect_error(PARSE(&o, err, "--resume"), err, "--resume: only with --restore");
	expect_error(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume", "--kernel",
			   "k"), err, "--kernel cannot be given with it");
	expect_error(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume", "--disk",
			   "path=/d"), err, "--disk cannot be given with it");
	cli_options_free(&o);	/* the --disk copy */
	expect_error(PARSE(&o, err, "--restore", "s", "--restore-mem", "m"), err,
		     "give --resume, or --api-sock PATH");
	/* what a clone changes: taps, images, read-only, the console, the clock */
	assert_int_equal(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume",
			       "--restore-net", "net0=tap7", "--restore-disk", "disk0=/c.img,ro=on",
			       "--restore-disk", "data=/d.img", "--restore-disk", "logs=ro=off",
			       "--serial", "file:/tmp/c", "--clock-realtime"), 0);
	assert_int_equal(o.nrestore_nets, 1);
	assert_string_equal(o.restore_nets[0].id, "net0");
	assert_string_equal(o.restore_nets[0].value, "tap7");
	assert_int_equal(o.nrestore_disks, 3);
	assert_string_equal(o.restore_disks[0].id, "disk0");
	assert_string_equal(o.restore_disks[0].value, "/c.img");
	assert_int_equal(o.restore_disks[0].readonly, 1);
	assert_string_equal(o.restore_disks[1].value, "/d.img");
	assert_int_equal(o.restore_disks[1].readonly, -1);
	assert_null(o.restore_disks[2].value);
	assert_int_equal(o.restore_disks[2].readonly, 0);
	assert_true(o.serial_set && o.clock_realtime);
	cli_options_free(&o);
	expect_error(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume",
			   "--restore-net", "tap7"), err, "--restore-net tap7: expected ID=TAP");
	expect_error(PARSE(&o, err, "--restore", "s", "--restore-mem", "m", "--resume",
			   "--restore-disk", "d=/x,ro=yes"), err, "ro=yes: expected on or off");
	expect_error(PARSE(&o, err, "--restore-net", "net0=t"), err,
		     "--restore-net: only with --restore");
	expect_error(PARSE(&o, err, "--clock-realtime"), err,
		     "--clock-realtime: only with --restore");
}

/* Numbers are digits only, sizes digits and one K/M/G/T; errors echo what was typed. */
static void test_strict_numbers(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	expect_error(PARSE(&o, err, "--cpus", " 2"), err, "--cpus ' 2': expected a number");
	expect_error(PARSE(&o, err, "--cpus", "+2"), err, "--cpus +2: expected a number");
	expect_error(PARSE(&o, err, "--cpus", "2 "), err, "--cpus '2 ': expected");
	expect_error(PARSE(&o, err, "--shutdown-timeout", "-0"), err, "--shutdown-timeout -0");
	expect_error(PARSE(&o, err, "--memory", "512MB"), err, "--memory 512MB: expected a number");
	expect_error(PARSE(&o, err, "--memory", "512MiB"), err, "--memory 512MiB: expected");
	expect_error(PARSE(&o, err, "--memory", " 2G"), err, "--memory ' 2G': expected");
	expect_error(PARSE(&o, err, "--memory", "+1G"), err, "--memory +1G: expected");
	expect_error(PARSE(&o, err, "--memory", "1GG"), err, "--memory 1GG: expected");
	expect_error(PARSE(&o, err, "--memory", "G"), err, "--memory G: expected");
	assert_string_equal((PARSE(&o, err, "--memory", "4M"), err),
			    "--memory 4M: must be between 8M and 1T");
	assert_string_equal((PARSE(&o, err, "--memory", "2T"), err),
			    "--memory 2T: must be between 8M and 1T");
	assert_string_equal((PARSE(&o, err, "--memory", "8195K"), err),
			    "--memory 8195K: must be a multiple of 4K");
	expect_error(PARSE(&o, err, "--kernel", "k", "--disk", "path=x,queues= 2"), err,
		     "queues= 2: expected");
	expect_error(PARSE(&o, err, "--kernel", "k", "--disk", "path=x,poll_us=+1"), err,
		     "poll_us=+1: expected");
	expect_error(PARSE(&o, err, "--kernel", "k", "--net", "tap=t,mtu=+1500"), err,
		     "mtu=+1500: expected");
	expect_error(PARSE(&o, err, "--kernel", "k", "--net", "fd= 3"), err, "fd= 3: expected");
	assert_int_equal(PARSE(&o, err, "--memory", "8m", "--cpus", "007"), 0);
	assert_int_equal(o.cfg.memory, 8ull << 20);
	assert_int_equal(o.cfg.cpus, 7);
	assert_int_equal(PARSE(&o, err, "--memory", "1t"), 0);
	assert_int_equal(o.cfg.memory, 1ull << 40);
}

static void test_on_reboot(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k"), 0);
	assert_false(o.reboot_restart);			/* a reboot ends husk */
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--on-reboot", "restart"), 0);
	assert_true(o.reboot_restart);
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--on-reboot", "restart", "--on-reboot",
			       "exit"), 0);
	assert_false(o.reboot_restart);
	expect_error(PARSE(&o, err, "--on-reboot", "pause"), err,
		     "--on-reboot pause: expected exit or restart");
}

static void test_reparse_resets_state(void **state)
{
	struct cli_options o;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "a", "--cpus", "2"), 0);
	assert_int_equal(PARSE(&o, err, "--kernel", "b"), 0);
	assert_string_equal(o.cfg.kernel, "b");
	assert_int_equal(o.cfg.cpus, 1);
}

/* Firecracker's launch flags (cli_firecracker.c): as Firecracker, or one clear refusal. */
static void test_firecracker_flags(void **state)
{
	char path[] = "/tmp/husk-test-cli-XXXXXX";
	struct cli_options o;
	char err[256] = "";
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "{\"boot-source\":{\"kernel_image_path\":\"/vmlinux\"},"
		   "\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":128}}");
	fclose(f);
	assert_int_equal(PARSE(&o, err, "--config-file", path, "--api-sock", "/tmp/x.sock",
			       "--level", "Debug", "--log-path", "/tmp/l.log", "--show-level",
			       "--show-log-origin", "--boot-timer", "--http-api-max-payload-size",
			       "51200", "--id", "vm-1", "--no-seccomp"), 0);
	assert_string_equal(o.config_path, path);
	assert_string_equal(o.cfg.kernel, "/vmlinux");
	assert_int_equal(o.cfg.cpus, 2);
	assert_int_equal(o.log_level, LOG_DEBUG);
	assert_string_equal(o.orch.log_file, "/tmp/l.log");
	assert_true(o.orch.show_level && o.orch.show_origin);
	assert_int_equal(o.orch.api_max_body, 51200);
	assert_string_equal(o.orch.api_sock, "/tmp/x.sock");
	cli_options_free(&o);
	/* --no-api: the socket is not served (Firecracker ignores --api-sock then) */
	assert_int_equal(PARSE(&o, err, "--no-api", "--config-file", path, "--api-sock", "/x"), 0);
	assert_null(o.orch.api_sock);
	cli_options_free(&o);
	assert_int_equal(PARSE(&o, err, "--no-api", "--kernel", "k"), -EINVAL);
	assert_string_equal(err, "--no-api: the VM must come from --config-file (or --config)");
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--level", "Loud"), -EINVAL);
	assert_string_equal(err, "--level Loud: expected Error, Warning, Info, Debug, Trace or Off");
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--http-api-max-payload-size", "10"),
			 -EINVAL);
	assert_non_null(strstr(err, "expected 1024 to"));
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--metadata", "/m.json"), -EINVAL);
	assert_non_null(strstr(err, "MMDS"));
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--seccomp-filter", "/f.bpf"), -EINVAL);
	assert_non_null(strstr(err, "--no-seccomp"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_flags),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_disks),
		cmocka_unit_test(test_shutdown_timeout),
		cmocka_unit_test(test_equals_form_and_help),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_restore_flags),
		cmocka_unit_test(test_strict_numbers),
		cmocka_unit_test(test_on_reboot),
		cmocka_unit_test(test_reparse_resets_state),
		cmocka_unit_test(test_firecracker_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
