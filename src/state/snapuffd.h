/* SPDX-License-Identifier: MIT */
#ifndef HUSK_SNAPUFFD_H
#define HUSK_SNAPUFFD_H

#include <stddef.h>
#include <stdint.h>

#include "memory/guest_mem.h"

/*
 * The Uffd memory backend of a restore (Firecracker's protocol): guest RAM
 * starts empty and registered with a userfaultfd (missing pages); husk
 * connects to the page-fault handler's unix socket at @sock_path and sends
 * it the userfaultfd (SCM_RIGHTS) with the region table as JSON,
 *   [{"base_host_virt_addr":A,"size":S,"offset":O,"page_size":P,"page_size_kib":P/1024}]
 * (one region: husk's guest RAM is one mapping; offset is the place in the
 * snapshot's memory file). The handler then fills every page the guest or
 * husk first touches (UFFDIO_COPY from the memory file, tools/husk-uffd.c).
 * Returns 0 and the userfaultfd in *@uffd (keep it open as long as the VM
 * runs), or -errno with one line in @err.
 */
/*
 * A non-blocking userfaultfd (one KVM's faults reach too) with all of
 * guest RAM registered for missing pages: post-copy migration's.
 */
int snap_uffd_register(struct guest_mem *m, int *uffd, char *err, size_t errlen);
int snap_mem_uffd(struct guest_mem *m, const char *sock_path, int *uffd, char *err,
		  size_t errlen);

/* The JSON region table for @m (malloc'd), as sent; NULL without memory. */
char *snap_uffd_regions(const struct guest_mem *m);

#endif
