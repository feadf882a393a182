// SPDX-License-Identifier: MIT
/*
 * husk-uffd: a page-fault handler for the Uffd memory backend of a restore
 * (state/snapuffd.h; Firecracker's protocol, so it serves either VMM).
 *
 *   husk-uffd SOCKET MEMORY_FILE
 *
 * Listens on the unix socket SOCKET, takes one VMM's userfaultfd and region
 * table ([{"base_host_virt_addr","size","offset","page_size"}, ...] as
 * JSON), then serves every missing page the VM touches by copying it from
 * MEMORY_FILE (a snapshot's memory file) with UFFDIO_COPY. It runs until
 * the VMM that connected exits (its pidfd, from the socket's peer
 * credentials) or it is killed. Exit status:
 * 0 when the VM went away, 1 on a usage or setup error, 2 when a fault
 * could not be served (the VM then waits on that page).
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REGIONS	8

struct region {
	uint64_t base, size, offset, page;
};

static int die(const char *what, const char *why)
{
	fprintf(stderr, "husk-uffd: %s: %s\n", what, why);
	return 1;
}

/*
 * Accept one VMM on @path; its message into @buf, its userfaultfd into
 * *@uffd, a pidfd of the VMM process into *@pidfd (-1 if none).
 */
static int take_uffd(const char *path, char *buf, size_t len, int *uffd, int *pidfd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = buf, .iov_len = len - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n;
	int s, conn;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	unlink(path);	/* a stale socket of an earlier run */
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0) {
		n = -errno;
		close(s);
		return (int)n;
	}
	printf("husk-uffd: listening on %s\n", path);
	fflush(stdout);
	conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	close(s);
	unlink(path);
	if (conn < 0)
		return -errno;
	*pidfd = -1;
	{
		struct ucred cred;
		socklen_t cl = sizeof(cred);

		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
			*pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	}
	n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	close(conn);
	if (n <= 0)
		return n < 0 ? -errno : -ECONNRESET;
	buf[n] = 0;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EPROTO;
	memcpy(uffd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static int get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	*out = (uint64_t)json_object_get_int64(v);
	return 0;
}

/* The region table; every region inside the @file_size bytes of the file. */
static int parse_regions(const char *json, uint64_t file_size, struct region *r, unsigned *n)
{
	struct json_object *a = json_tokener_parse(json);
	int ret = 0;

	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > MAX_REGIONS) {
		json_object_put(a);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(a) && !ret; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		struct region *x = &r[(*n)++];

		if (get_u64(e, "base_host_virt_addr", &x->base) || get_u64(e, "size", &x->size) ||
		    get_u64(e, "offset", &x->offset) || get_u64(e, "page_size", &x->page) ||
		    (x->page != 4096 && x->page != (2u << 20)) || x->size % x->page ||
		    x->base % x->page || x->offset > file_size || x->size > file_size - x->offset)
			ret = -1;
	}
	json_object_put(a);
	return ret;
}

static int serve_fault(int uffd, const struct region *r, unsigned n, const uint8_t *file,
		       uint64_t addr)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t page = addr & ~(r[i].page - 1);
		struct uffdio_copy cp;

		if (addr < r[i].base || addr - r[i].base >= r[i].size)
			continue;
		cp = (struct uffdio_copy){
			.dst = page, .len = r[i].page,
			.src = (uint64_t)(uintptr_t)(file + r[i].offset + (page - r[i].base)),
		};
		while (ioctl(uffd, UFFDIO_COPY, &cp) < 0) {
			if (errno == EEXIST)
				return 0;	/* another fault on the page won */
			if (errno != EAGAIN)
				return -errno;
			cp.copy = 0;
		}
		return 0;
	}
	return -EFAULT;
}

int main(int argc, char **argv)
{
	struct region reg[MAX_REGIONS];
	char buf[4096];
	uint64_t faults = 0;
	const uint8_t *file;
	struct stat st;
	unsigned nreg;
	int fd, uffd = -1, pidfd = -1, ret;

	if (argc != 3) {
		fprintf(stderr, "usage: husk-uffd SOCKET MEMORY_FILE\n");
		return 1;
	}
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return die(argv[2], strerror(errno));
	file = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		return die(argv[2], strerror(errno));
	ret = take_uffd(argv[1], buf, sizeof(buf), &uffd, &pidfd);
	if (ret)
		return die(argv[1], strerror(-ret));
	if (parse_regions(buf, (uint64_t)st.st_size, reg, &nreg))
		return die(argv[1], "a region table that is not one, or larger than the file");
	/* a userfaultfd polls only when non-blocking (else POLLERR) */
	if (fcntl(uffd, F_SETFL, fcntl(uffd, F_GETFL) | O_NONBLOCK) < 0)
		return die("userfaultfd", strerror(errno));
	for (;;) {
		struct pollfd p[2] = { { .fd = uffd, .events = POLLIN },
				       { .fd = pidfd, .events = POLLIN } };
		struct uffd_msg m;
		ssize_t got;

		if (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return die("poll", strerror(errno));
		}
		if (p[0].revents & (POLLERR | POLLHUP))
			return die("userfaultfd", "error or hang-up");
		if (!(p[0].revents & POLLIN) && (p[1].revents & POLLIN))
			break;	/* the VMM exited and no fault is left */
		got = read(uffd, &m, sizeof(m));
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got != sizeof(m))
			break;
		if (m.event != UFFD_EVENT_PAGEFAULT)
			continue;
		ret = serve_fault(uffd, reg, nreg, file, m.arg.pagefault.address);
		if (ret) {
			fprintf(stderr, "husk-uffd: fault at %#llx: %s\n",
				(unsigned long long)m.arg.pagefault.address, strerror(-ret));
			return 2;
		}
		faults++;
	}
	printf("husk-uffd: served %llu faults\n", (unsigned long long)faults);
	return 0;
}
