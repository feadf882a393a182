// SPDX-License-Identifier: MIT
/* Small helpers of the kernel loader: messages, sizes, file reads. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "boot/boot_internal.h"
#include "memory/layout.h"

int boot_fail(struct boot_ctx *ctx, int ret, const char *fmt, ...)
{
	va_list ap;

	if (ctx->err && ctx->errlen) {
		va_start(ap, fmt);
		vsnprintf(ctx->err, ctx->errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *boot_size_str(uint64_t bytes, char *buf, size_t len)
{
	unsigned long long b = bytes;

	if (b >= GIB(1) && b % GIB(1) == 0)
		snprintf(buf, len, "%llu GiB", b >> 30);
	else if (b >= MIB(1) && b % MIB(1) == 0)
		snprintf(buf, len, "%llu MiB", b >> 20);
	else if (b >= MIB(1))
		snprintf(buf, len, "%.1f MiB", (double)b / (double)MIB(1));
	else if (b >= KIB(1) && b % KIB(1) == 0)
		snprintf(buf, len, "%llu KiB", b >> 10);
	else
		snprintf(buf, len, "%llu bytes", b);
	return buf;
}

int boot_pread(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, p + done, len - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;	/* the file ends early (or shrank) */
		done += (size_t)r;
	}
	return 0;
}

int boot_copy_to_guest(struct guest_mem *mem, int fd, uint64_t off, uint64_t len, uint64_t gpa)
{
	const uint64_t chunk = MIB(64);
	uint8_t *hva;

	if (len == 0)
		return 0;
	hva = gpa_to_hva(mem, gpa, len);
	if (!hva)
		return -EFAULT;
	for (uint64_t done = 0; done < len; done += chunk) {
		uint64_t n = len - done < chunk ? len - done : chunk;
		int ret = boot_pread(fd, hva + done, (size_t)n, off + done);

		if (ret)
			return ret;
	}
	return 0;
}

int boot_fail_memory(struct boot_ctx *ctx, uint64_t start, uint64_t end)
{
	char have[32], need[32];

	boot_size_str(ctx->mem->size, have, sizeof(have));
	boot_size_str(end, need, sizeof(need));
	return boot_fail(ctx, -ENOMEM,
			 "--memory: %s is too small for %s (needs RAM up to 0x%llx (%s); "
			 "the kernel occupies 0x%llx-0x%llx)",
			 have, ctx->req->kernel, (unsigned long long)end, need,
			 (unsigned long long)start, (unsigned long long)end);
}
