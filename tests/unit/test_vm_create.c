// SPDX-License-Identifier: MIT
/*
 * husk_vm_create() with bad configs, over and over: every failure leaves
 * the process's fds as they were (fd 0 included: a VM context that started
 * with fds at 0 closed stdin, which under the API is the next connection),
 * leaves no --serial file it created, and a good config still works after.
 */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "husk/husk.h"

#define ROUNDS 20

struct fixture {
	char dir[64];
	char kernel[128];
};

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A 64-bit ELF kernel with one PT_LOAD at 16 MiB: enough for boot_load(). */
static void write_kernel(const char *path)
{
	static const uint8_t code[16] = { 0xf4, 0xeb, 0xfd };	/* hlt; jmp hlt */
	Elf64_Ehdr e = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB,
			     EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = 0x1000000, .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(e),
		.e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1,
	};
	Elf64_Phdr p = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000,
		.p_vaddr = 0x1000000, .p_paddr = 0x1000000, .p_filesz = sizeof(code),
		.p_memsz = sizeof(code), .p_align = 0x1000,
	};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &e, sizeof(e), 0), sizeof(e));
	assert_int_equal(pwrite(fd, &p, sizeof(p), sizeof(e)), sizeof(p));
	assert_int_equal(pwrite(fd, code, sizeof(code), 0x1000), sizeof(code));
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/husk-test-vm-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->kernel, sizeof(f->kernel), "%s/kernel.elf", f->dir);
	write_kernel(f->kernel);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->kernel);
	rmdir(f->dir);	/* fails, and the test with it, when something was left */
	free(f);
	return 0;
}

static bool have_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void base_config(struct fixture *f, struct husk_config *cfg)
{
	husk_config_init(cfg);
	cfg->kernel = f->kernel;
	cfg->memory = 64ull << 20;
	cfg->cpus = 1;
	cfg->serial = "none";
	cfg->rng = false;
}

/* Create with @cfg @rounds times; every one must fail and change no fd. */
static void expect_failures(const struct husk_config *cfg, const char *want)
{
	unsigned before = count_fds();
	struct husk_vm *vm;
	char err[512];

	for (int i = 0; i < ROUNDS; i++) {
		err[0] = '\0';
		assert_true(husk_vm_create(cfg, &vm, err, sizeof(err)) < 0);
		assert_null(vm);
		if (!strstr(err, want))
			fail_msg("error '%s' lacks '%s'", err, want);
		assert_true(fcntl(STDIN_FILENO, F_GETFD) >= 0);	/* fd 0 not closed */
		assert_int_equal(count_fds(), before);
	}
}

static void test_failures_leak_nothing(void **state)
{
	struct fixture *f = *state;
	struct husk_config cfg;
	char missing[160];

	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	base_config(f, &cfg);
	cfg.kernel = NULL;
	expect_failures(&cfg, "--kernel is required");

	base_config(f, &cfg);
	cfg.kernel = missing;
	expect_failures(&cfg, "No such file or directory");

	base_config(f, &cfg);
	cfg.disks[0] = (struct husk_disk_config){ .path = missing, .id = "d" };
	cfg.ndisks = 1;
	expect_failures(&cfg, "No such file or directory");

	/* a disk without an id gets disk0 in the VM's copy, not in ours */
	base_config(f, &cfg);
	cfg.disks[0] = (struct husk_disk_config){ .path = missing };
	cfg.ndisks = 1;
	expect_failures(&cfg, missing);
	assert_null(cfg.disks[0].id);
}

/* A failure after --serial file:PATH was opened: the file husk created goes too. */
static void test_serial_file_removed(void **state)
{
	struct fixture *f = *state;
	struct husk_config cfg;
	char spec[192], missing[160];
	struct husk_vm *vm;
	char err[512];

	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	snprintf(spec, sizeof(spec), "file:%s/console.log", f->dir);
	base_config(f, &cfg);
	cfg.serial = spec;
	cfg.disks[0] = (struct husk_disk_config){ .path = missing };
	cfg.ndisks = 1;
	expect_failures(&cfg, missing);
	assert_int_equal(access(spec + 5, F_OK), -1);
	/*
	 * A failure past the console: no /dev/kvm, or a vCPU count KVM cannot
	 * have. Where KVM allows it, the VM is made and the file stays.
	 */
	base_config(f, &cfg);
	cfg.serial = spec;
	cfg.cpus = HUSK_MAX_CPUS;
	if (husk_vm_create(&cfg, &vm, err, sizeof(err)) == 0) {
		husk_vm_destroy(vm);
		assert_int_equal(unlink(spec + 5), 0);	/* the host allows that many */
		return;
	}
	assert_int_equal(access(spec + 5, F_OK), -1);
}

/* Failures, then a good config: it is created, and destroying it frees every fd. */
static void test_good_after_failures(void **state)
{
	struct fixture *f = *state;
	struct husk_config cfg;
	struct husk_vm *vm;
	char err[512], missing[160];
	unsigned before;

	if (!have_kvm())
		skip();
	snprintf(missing, sizeof(missing), "%s/missing", f->dir);
	base_config(f, &cfg);
	cfg.disks[0] = (struct husk_disk_config){ .path = missing };
	cfg.ndisks = 1;
	expect_failures(&cfg, missing);
	base_config(f, &cfg);
	before = count_fds();
	for (int i = 0; i < 3; i++) {
		if (husk_vm_create(&cfg, &vm, err, sizeof(err)) < 0)
			fail_msg("husk_vm_create: %s", err);
		husk_vm_destroy(vm);
		assert_int_equal(count_fds(), before);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_leak_nothing),
		cmocka_unit_test(test_serial_file_removed),
		cmocka_unit_test(test_good_after_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
