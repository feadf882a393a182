// SPDX-License-Identifier: MIT
/* Command line: "key=value" words separated by spaces. */
#include "testguest.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* Copy the value of the last "key=..." word into @val. 0 if found. */
int cmdline_get(const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;
	int found = -1;

	while (*p) {
		const char *w = p;

		while (*p && !is_space(*p))
			p++;
		if ((size_t)(p - w) > klen && !strncmp(w, key, klen) &&
		    w[klen] == '=') {
			size_t n = p - w - klen - 1;

			if (n >= len)
				n = len - 1;
			memcpy(val, w + klen + 1, n);
			val[n] = '\0';
			found = 0;
		}
		while (is_space(*p))
			p++;
	}
	return found;
}

int parse_uint(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return -1;
		for (; *s; s++) {
			int d;

			if (*s >= '0' && *s <= '9')
				d = *s - '0';
			else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
				d = (*s | 0x20) - 'a' + 10;
			else
				return -1;
			v = v * 16 + d;
		}
	} else {
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v = v * 10 + (*s - '0');
		}
	}
	*out = v;
	return 0;
}

/* "256M", "1G", "512K", "4096" (bytes). */
int parse_size(const char *s, uint64_t *out)
{
	char num[32];
	size_t n = strlen(s);
	int shift = 0;

	if (!n || n >= sizeof(num))
		return -1;
	switch (s[n - 1] | 0x20) {
	case 'k': shift = 10; n--; break;
	case 'm': shift = 20; n--; break;
	case 'g': shift = 30; n--; break;
	case 't': shift = 40; n--; break;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	if (parse_uint(num, out))
		return -1;
	*out <<= shift;
	return 0;
}
