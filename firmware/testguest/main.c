// SPDX-License-Identifier: MIT
/*
 * Ring-3 main program of the test guest: boot marker, command line, the
 * checks named by tests=, a summary line, and the exit code on port 0xf4
 * (husk --test-devices); without that port it powers off through ACPI.
 */
#include "testguest.h"
#include "virtio.h"
#include "net.h"

#define DEFAULT_TESTS	"serial,bootparams,e820,smp,irq,msi,memory"
#define TESTS_MAX	1024

struct check {
	const char *name;
	int (*fn)(char *why);
};

static volatile int expect_fault;

/* "exception": a deliberate #GP (non-canonical read) must come back here. */
static int check_exception(char *why)
{
	expect_fault = 1;
	(void)*(volatile uint64_t *)0x8000000000000000ULL;
	expect_fault = 0;
	snprintf(why, WHY_LEN, "non-canonical read did not fault");
	return -1;
}

static const struct check checks[] = {
	{ "serial", check_serial },
	{ "bootparams", check_bootparams },
	{ "e820", check_e820 },
	{ "smp", check_smp },
	{ "irq", check_irq },
	{ "msi", check_msi },
	{ "memory", check_memory },
	{ "exception", check_exception },	/* not in the default list */
	{ "ticker", check_ticker },		/* nor is the ticker (benchmarks) */
	{ "virtio-rng", check_virtio_rng },	/* nor are the virtio checks */
	{ "virtio-blk", check_virtio_blk },
	{ "virtio-blk-ro", check_virtio_blk_ro },
	{ "blk-bench", check_blk_bench },
	{ "virtio-net", check_virtio_net },
	{ "virtio-net-mq", check_virtio_net_mq },
	{ "net-bench", check_net_bench },
	{ "virtio-balloon", check_virtio_balloon },
};

static struct jmp_ctx check_ctx;
static volatile int in_check;
static char why[WHY_LEN];
static char tests[TESTS_MAX];
static int passed, failed, skipped;

void user_main(uint64_t kind, uint64_t info) __attribute__((noreturn));
void fault_resume(void) __attribute__((noreturn));

static void sti(void)
{
	sys_call(SYS_STI);
}

/* hold=MS: stay up MS milliseconds after the summary (benchmarks sample the VMM meanwhile). */
static void hold(void)
{
	char val[32];
	uint64_t ms;

	if (!cmdline_get("hold", val, sizeof(val)) && !parse_uint(val, &ms))
		delay_us(ms * 1000);
}

/*
 * The verdict goes to the debug-exit port (husk --test-devices, QEMU's
 * isa-debug-exit). Without one the write goes nowhere: then power off
 * through husk's ACPI sleep control register (husk exits 0; the summary
 * line is the verdict), and halt if even that did not stop the VM.
 */
static void __attribute__((noreturn)) finish(void)
{
	char val[16];

	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	hold();
	/* finish=reset: reboot (i8042 pulse) instead (husk --on-reboot restart tests) */
	if (!cmdline_get("finish", val, sizeof(val)) && !strncmp(val, "reset", sizeof(val))) {
		printf("rebooting\n");
		outb(0x64, 0xfe);
	}
	outl(PORT_DEBUG_EXIT, failed ? 1 : 0);
	printf("no debug-exit port (husk --test-devices gives the verdict as the exit "
	       "status): powering off\n");
	outb(PORT_ACPI_SLEEP_CTL, ACPI_SLP_EN | ACPI_S5_SLP_TYP << ACPI_SLP_TYP_SHIFT);
	for (;;)	/* stop in ring 0 */
		sys_call(SYS_HALT);
}

static void explain_fault(void)
{
	snprintf(why, WHY_LEN, "exception %llu (error %#llx) at rip %#llx, cr2 %#llx",
		 (unsigned long long)fault_vec, (unsigned long long)fault_err,
		 (unsigned long long)fault_rip, (unsigned long long)fault_cr2);
}

/* Ring 0 sends exceptions here, on the fault stack, interrupts off. */
void fault_resume(void)
{
	sti();
	explain_fault();
	if (in_check && expect_fault && fault_vec == 13) {
		expect_fault = 0;
		printf("exception: #GP at rip %#llx caught in ring 0\n",
		       (unsigned long long)fault_rip);
		ctx_restore(&check_ctx, 2);
	}
	if (in_check)
		ctx_restore(&check_ctx, 1);
	printf("fail boot: %s\n", why);
	failed++;
	finish();
}

static const struct check *find_check(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!strncmp(checks[i].name, name, strlen(checks[i].name) + 1))
			return &checks[i];
	return NULL;
}

static void run_check(const char *name)
{
	static const struct check *c;
	static int rc;

	c = find_check(name);
	why[0] = '\0';
	if (!c) {
		rc = -1;
		snprintf(why, WHY_LEN, "unknown test");
	} else if ((rc = ctx_save(&check_ctx)) == 0) {
		in_check = 1;
		rc = c->fn(why);
	} else {
		/* from fault_resume: 2 = an expected fault, else why is set */
		rc = rc == 2 ? 0 : -1;
	}
	in_check = 0;
	if (rc == CHECK_SKIP) {
		printf("skip %s: %s\n", name, why);
		skipped++;
	} else if (rc) {
		printf("fail %s: %s\n", name, why[0] ? why : "failed");
		failed++;
	} else {
		printf("ok %s\n", name);
		passed++;
	}
}

static void run_checks(void)
{
	char *p = tests, *name;

	if (cmdline_get("tests", tests, sizeof(tests)))
		memcpy(tests, DEFAULT_TESTS, sizeof(DEFAULT_TESTS));
	while (*p) {
		name = p;
		while (*p && *p != ',')
			p++;
		if (*p)
			*p++ = '\0';
		if (*name)
			run_check(name);
	}
}

void user_main(uint64_t kind, uint64_t info)
{
	outb(PORT_BOOT_MARKER, BOOT_MARKER_MAGIC);
	memset(_bss_start, 0, _bss_end - _bss_start);
	serial_init();
	printf("boot-marker\n");
	idt_init();
	lapic_init();
	sti();
	time_init();
	boot_collect((enum boot_kind)kind, info);
	paging_map_high();
	serial_puts("cmdline: ");
	serial_puts(cmdline);	/* may exceed printf's buffer */
	serial_puts("\n");
	run_checks();
	finish();
}
