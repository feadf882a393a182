// SPDX-License-Identifier: MIT
/* The Uffd memory backend of a restore (snapuffd.h). */
#include "state/snapuffd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define HUGE_2M	(2u << 20)

char *snap_uffd_regions(const struct guest_mem *m)
{
	unsigned page = m->hugepages ? HUGE_2M : 4096;
	char *s = malloc(256);

	if (s)
		snprintf(s, 256, "[{\"base_host_virt_addr\":%llu,\"size\":%llu,\"offset\":0,"
			 "\"page_size\":%u,\"page_size_kib\":%u}]",
			 (unsigned long long)(uintptr_t)m->hva, (unsigned long long)m->size, page,
			 page / 1024);
	return s;
}

/*
 * A userfaultfd that also sees the kernel's (KVM's) faults: the syscall, or
 * /dev/userfaultfd. Non-blocking: the handler polls it (a blocking one polls
 * as an error).
 */
static int open_uffd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int dev;

	if (fd >= 0 || (errno != EPERM && errno != ENOSYS))
		return fd;
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	return fd;
}

static int send_uffd(const char *sock_path, int uffd, const char *json)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)json, .iov_len = strlen(json) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c;
	int s, ret = 0;

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	memset(ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &uffd, sizeof(int));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    sendmsg(s, &msg, MSG_NOSIGNAL) != (ssize_t)iov.iov_len)
		ret = -errno;
	close(s);
	return ret;
}

int snap_uffd_register(struct guest_mem *m, int *uffdp, char *err, size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)m->hva, .len = m->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	int uffd = open_uffd(), ret;

	*uffdp = -1;
	if (uffd < 0) {
		ret = -errno;
		snprintf(err, errlen, "userfaultfd: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(uffd, UFFDIO_API, &api) < 0 || ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		ret = -errno;
		snprintf(err, errlen, "userfaultfd on guest RAM: %s", strerror(-ret));
		close(uffd);
		return ret;
	}
	*uffdp = uffd;
	return 0;
}

int snap_mem_uffd(struct guest_mem *m, const char *sock_path, int *uffdp, char *err,
		  size_t errlen)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)m->hva, .len = m->size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	const char *what = "userfaultfd";
	char *json = NULL;
	int uffd, ret = 0;

	*uffdp = -1;
	/* RAM starts empty: what husk wrote at build time (the VM generation ID) goes */
	if (m->fd >= 0 && fallocate(m->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				    (off_t)m->size) < 0) {
		ret = -errno;
		snprintf(err, errlen, "mem_backend Uffd: emptying guest RAM: %s", strerror(-ret));
		return ret;
	}
	uffd = open_uffd();
	if (uffd < 0) {
		ret = -errno;
		snprintf(err, errlen, "mem_backend Uffd: userfaultfd: %s", strerror(-ret));
		return ret;
	}
	if (ioctl(uffd, UFFDIO_API, &api) < 0) {
		what = "UFFDIO_API";
		ret = -errno;
	} else if (ioctl(uffd, UFFDIO_REGISTER, &reg) < 0) {
		what = "UFFDIO_REGISTER";
		ret = -errno;
	} else if (!(json = snap_uffd_regions(m))) {
		ret = -ENOMEM;
	} else if ((ret = send_uffd(sock_path, uffd, json))) {
		what = sock_path;
	}
	free(json);
	if (ret) {
		snprintf(err, errlen, "mem_backend Uffd: %s: %s", what, strerror(-ret));
		close(uffd);
		return ret;
	}
	*uffdp = uffd;
	return 0;
}
