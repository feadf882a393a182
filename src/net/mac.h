/* SPDX-License-Identifier: MIT */
#ifndef HUSK_NET_MAC_H
#define HUSK_NET_MAC_H

#include <stdint.h>

#define NET_MAC_STRLEN	18	/* "52:54:00:12:34:56" and its NUL */

/*
 * A stable default MAC for NIC @index of the VM identified by @seed (the VM
 * id, or any string that stays the same across restarts): FNV-1a over the
 * seed and the index, with the locally administered bit set and the
 * multicast bit clear. Returns 0, or -EINVAL when @seed is NULL.
 */
int net_default_mac(const char *seed, unsigned index, uint8_t mac[6]);

/*
 * Parse exactly "xx:xx:xx:xx:xx:xx" (hex digits, either case). Returns 0,
 * -EINVAL on anything else, -EADDRNOTAVAIL for a multicast (or broadcast) or
 * all-zero address, which no NIC may use as its own. @mac is written only on
 * success.
 */
int net_parse_mac(const char *s, uint8_t mac[6]);

/* "52:54:00:12:34:56" into @buf (NET_MAC_STRLEN bytes). Returns @buf. */
char *net_format_mac(const uint8_t mac[6], char buf[NET_MAC_STRLEN]);

#endif
