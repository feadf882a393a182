// SPDX-License-Identifier: MIT
/* Freestanding string and formatting helpers for the test guest. */
#include "testguest.h"

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			break;
	}
	return 0;
}

struct outbuf {
	char *buf;
	size_t size;
	size_t len;
};

static void emit(struct outbuf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

struct spec {
	int width;
	int zero;
	int left;
	int alt;
	int lng;
};

static void emit_padded(struct outbuf *o, const char *s, size_t n,
			const struct spec *sp)
{
	int pad = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!sp->left)
		while (pad-- > 0)
			emit(o, sp->zero ? '0' : ' ');
	while (n--)
		emit(o, *s++);
	if (sp->left)
		while (pad-- > 0)
			emit(o, ' ');
}

static void emit_number(struct outbuf *o, unsigned long long v, int base,
			int neg, const struct spec *sp)
{
	char tmp[24];
	char *p = tmp + sizeof(tmp);
	struct spec s = *sp;

	do {
		*--p = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg || (s.alt && base == 16)) {
		/* the sign or prefix goes before zero padding */
		const char *pre = neg ? "-" : "0x";
		size_t plen = neg ? 1 : 2;

		if (s.zero) {
			emit_padded(o, pre, plen, &(struct spec){ 0 });
			s.width = s.width > (int)plen ? s.width - (int)plen : 0;
		} else {
			p -= plen;
			memcpy(p, pre, plen);
		}
	}
	emit_padded(o, p, tmp + sizeof(tmp) - p, &s);
}

static const char *parse_spec(const char *f, struct spec *sp)
{
	memset(sp, 0, sizeof(*sp));
	for (;; f++) {
		if (*f == '0')
			sp->zero = 1;
		else if (*f == '-')
			sp->left = 1;
		else if (*f == '#')
			sp->alt = 1;
		else
			break;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	while (*f == 'l' || *f == 'z')
		sp->lng++, f++;
	return f;
}

static void format_one(struct outbuf *o, char conv, const struct spec *sp,
		       va_list *ap)
{
	unsigned long long u;
	long long s;
	const char *str;
	char c;

	switch (conv) {
	case 'd':
	case 'i':
		s = sp->lng ? va_arg(*ap, long long) : va_arg(*ap, int);
		emit_number(o, s < 0 ? -(unsigned long long)s : (unsigned long long)s,
			    10, s < 0, sp);
		break;
	case 'u':
	case 'x':
		u = sp->lng ? va_arg(*ap, unsigned long long)
			    : va_arg(*ap, unsigned int);
		emit_number(o, u, conv == 'x' ? 16 : 10, 0, sp);
		break;
	case 'p':
		emit_number(o, (uintptr_t)va_arg(*ap, void *), 16, 0,
			    &(struct spec){ .alt = 1 });
		break;
	case 's':
		str = va_arg(*ap, const char *);
		if (!str)
			str = "(null)";
		emit_padded(o, str, strlen(str), sp);
		break;
	case 'c':
		c = (char)va_arg(*ap, int);
		emit_padded(o, &c, 1, sp);
		break;
	default:
		emit(o, '%');
		emit(o, conv);
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct outbuf o = { buf, size, 0 };
	struct spec sp;
	va_list aq;

	va_copy(aq, ap);
	while (*fmt) {
		if (*fmt != '%') {
			emit(&o, *fmt++);
			continue;
		}
		fmt = parse_spec(fmt + 1, &sp);
		if (!*fmt)
			break;
		format_one(&o, *fmt++, &sp, &aq);
	}
	va_end(aq);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
