// SPDX-License-Identifier: MIT
/* --watchdog-action: the three actions, the default, and bad values. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/cli.h"

#define ARGV(...) (char *[]){ "husk", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "husk", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) cli_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_default_reset(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k"), 0);
	assert_int_equal(o.cfg.watchdog_action, HUSK_WATCHDOG_RESET);
}

static void test_actions(void **state)
{
	struct cli_options o;
	char err[256] = "";

	(void)state;
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--watchdog-action", "poweroff"), 0);
	assert_int_equal(o.cfg.watchdog_action, HUSK_WATCHDOG_POWEROFF);
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--watchdog-action", "none"), 0);
	assert_int_equal(o.cfg.watchdog_action, HUSK_WATCHDOG_NONE);
	/* the last one wins */
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--watchdog-action", "none",
			       "--watchdog-action", "reset"), 0);
	assert_int_equal(o.cfg.watchdog_action, HUSK_WATCHDOG_RESET);
}

static void test_bad_values(void **state)
{
	static char *const bad[] = { "", "Reset", "reboot", "off", "none ", "1" };
	struct cli_options o;
	char err[256];

	(void)state;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char want[64];

		err[0] = '\0';
		assert_int_equal(PARSE(&o, err, "--kernel", "k", "--watchdog-action", bad[i]),
				 -EINVAL);
		snprintf(want, sizeof(want), "--watchdog-action %s: expected reset, poweroff or none",
			 bad[i]);
		assert_string_equal(err, want);
	}
	assert_int_equal(PARSE(&o, err, "--kernel", "k", "--watchdog-action"), -EINVAL);
	assert_non_null(strstr(err, "--watchdog-action needs a value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_reset),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
