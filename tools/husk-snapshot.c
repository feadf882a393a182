// SPDX-License-Identifier: MIT
/*
 * husk-snapshot: work on snapshot files outside a running husk.
 *   husk-snapshot merge BASE_MEM DIFF_MEM
 * merges a Diff snapshot's memory file onto the memory file of the snapshot
 * it is a diff against (state/snapmerge.h); the Diff's state file is then
 * restored with the merged memory file.
 */
#include <stdio.h>
#include <string.h>

#include "state/snapmerge.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: husk-snapshot merge BASE_MEM DIFF_MEM\n"
		"\n"
		"  merge   copy the pages a Diff snapshot's memory file holds (PUT /snapshot/create\n"
		"          with snapshot_type Diff) onto BASE_MEM, the memory file of the snapshot\n"
		"          the Diff is relative to, in place; then restore the Diff's state file\n"
		"          with BASE_MEM. Merge a chain of Diffs oldest first.\n"
		"\n"
		"Exit status: 0 merged, 1 usage or file error.\n");
}

int main(int argc, char **argv)
{
	char err[512];
	uint64_t copied;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "merge")) {
		usage(stderr);
		return 1;
	}
	if (snap_mem_merge(argv[2], argv[3], &copied, err, sizeof(err)) < 0) {
		fprintf(stderr, "husk-snapshot: %s\n", err);
		return 1;
	}
	printf("husk-snapshot: merged %llu KiB of %s onto %s\n",
	       (unsigned long long)(copied >> 10), argv[3], argv[2]);
	return 0;
}
