// SPDX-License-Identifier: MIT
/* MAC addresses: the derived default, parsing and formatting. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/mac.h"

#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

#define MAC_MULTICAST	0x01	/* bit 0 of byte 0 */
#define MAC_LOCAL	0x02	/* bit 1 of byte 0: locally administered */

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return h;
}

int net_default_mac(const char *seed, unsigned index, uint8_t mac[6])
{
	uint8_t idx[4] = { index & 0xff, (index >> 8) & 0xff,
			   (index >> 16) & 0xff, (index >> 24) & 0xff };
	uint64_t h;

	if (!seed)
		return -EINVAL;
	h = fnv1a(FNV64_OFFSET, seed, strlen(seed));
	/* a separator so that ("ab", 1) and ("a", ...) cannot collide by concatenation */
	h = fnv1a(h, "", 1);
	h = fnv1a(h, idx, sizeof(idx));
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & ~MAC_MULTICAST) | MAC_LOCAL);
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t out[6];
	int any = 0;

	if (!s || strlen(s) != NET_MAC_STRLEN - 1)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hex_digit(p[0]), lo = hex_digit(p[1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (i < 5 && p[2] != ':')
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
		any |= out[i];
	}
	if ((out[0] & MAC_MULTICAST) || !any)
		return -EADDRNOTAVAIL;
	memcpy(mac, out, sizeof(out));
	return 0;
}

char *net_format_mac(const uint8_t mac[6], char buf[NET_MAC_STRLEN])
{
	snprintf(buf, NET_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}
