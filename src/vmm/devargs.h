/* SPDX-License-Identifier: MIT */
#ifndef HUSK_DEVARGS_H
#define HUSK_DEVARGS_H

#include <stddef.h>

#include "husk/husk.h"

/*
 * Device option strings, "key=value,key=value", as --disk (and --net)
 * take them. @arg is the caller's copy: it is split in place and the
 * config keeps pointers into it. Returns 0, or -EINVAL with one line in
 * @err that starts with @flag and the option string.
 */
int devargs_parse_disk(const char *flag, char *arg, struct husk_disk_config *d,
		       char *err, size_t errlen);
/*
 * --net tap=NAME|fd=N[,id=NAME][,mac=MAC][,queues=N][,mtu=N][,engine=E]: @nc->fd is -1
 * unless fd= was given; mac_set says whether mac= was.
 */
int devargs_parse_net(const char *flag, char *arg, struct husk_net_config *nc,
		      char *err, size_t errlen);
/*
 * --balloon amount_mib=N[,deflate_on_oom=on|off][,stats_polling_interval_s=N]
 * [,free_page_reporting=on|off]: Firecracker's balloon keys.
 */
int devargs_parse_balloon(const char *flag, char *arg, struct husk_balloon_config *bc,
			  char *err, size_t errlen);

#endif
