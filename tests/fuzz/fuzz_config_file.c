// SPDX-License-Identifier: MIT
/*
 * The JSON config file (vmm/config_file.c): `husk --config FILE`. The
 * first input byte picks how it is read: odd, config_file_load() on the
 * rest as a file; even, config_parse_json() on the rest as a buffer of
 * exactly its length (no terminating NUL), then config_apply_document()
 * and, when it applies, config_machine_to_json(). Applying writes nothing
 * outside the config (no files opened), so any input is safe to run.
 */
#include <json-c/json.h>

#include "vmm/config_file.h"
#include "fuzz_helpers.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void check_msg(const char *msg, size_t len, bool want)
{
	size_t n = strnlen(msg, len);

	if (n == len || (want && (n == 0 || strchr(msg, '\n'))))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	bool as_file = fuzz_u8(&in) & 1;
	struct husk_config cfg;
	struct orch_options orch = {0};
	enum log_level level = LOG_INFO;
	struct str_arena arena = {0};
	struct config_target t = { .cfg = &cfg, .orch = &orch, .log_level = &level,
				   .arena = &arena };
	struct json_object *root, *machine;
	char err[512], path[64];
	size_t len;
	const uint8_t *text = fuzz_rest(&in, &len);
	int ret, fd;

	husk_config_init(&cfg);
	memset(err, 0x5a, sizeof(err));
	err[0] = '\0';
	if (as_file) {
		fd = fuzz_memfd(text, len, path, sizeof(path));
		ret = config_file_load(path, &t, err, sizeof(err));
		check_msg(err, sizeof(err), ret != 0);
		close(fd);
	} else {
		char *copy = fuzz_dup(text, len);

		root = config_parse_json(copy, len, err, sizeof(err));
		free(copy);
		check_msg(err, sizeof(err), root == NULL);
		if (root) {
			memset(err, 0x5a, sizeof(err));
			err[0] = '\0';
			ret = config_apply_document(root, &t, err, sizeof(err));
			check_msg(err, sizeof(err), ret != 0);
			json_object_put(root);
		}
	}
	machine = config_machine_to_json(&cfg);
	if (!machine)
		__builtin_trap();
	(void)json_object_to_json_string(machine);
	json_object_put(machine);
	arena_free(&arena);
	return 0;
}
