/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SNAPMERGE_H
#define HUSK_SNAPMERGE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Merge a Diff snapshot's memory file onto the memory file of the snapshot
 * it is a diff against (vm_snapshot_save with diff): every data extent of
 * @diff (SEEK_DATA / SEEK_HOLE: a Diff holds the changed pages and holes
 * elsewhere) is copied into @base at the same offset, then @base is
 * fsynced. Both must be regular files of the same size, and differ. The
 * Diff's state file then goes with the merged @base. Returns 0 and the
 * bytes copied in *@copied, or -errno with one line in @err; on an error
 * @base may be partly merged (merge into a copy to keep it).
 */
int snap_mem_merge(const char *base, const char *diff, uint64_t *copied, char *err,
		   size_t errlen);

#endif
