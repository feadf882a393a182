// SPDX-License-Identifier: MIT
/*
 * Destroying a virtio device unbinds its notify ioeventfds while their
 * eventfds are still open: KVM looks the eventfd up by fd on KVM_IOEVENTFD
 * with DEASSIGN and refuses a closed one (EBADF), which would leave the
 * binding in the kernel. The fake KVM here does the same check.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "fake_vm_ioctl.h"
#include "pci_test_helpers.h"
#include "virtio/virtio_mmio.h"
#include "virtio/virtio_rng.h"
#include "vq_driver.h"

static int bound, unbound, bad_unbind;

static int fake_vm_ioctl(unsigned long request, void *arg)
{
	if (request == KVM_IOEVENTFD) {
		struct kvm_ioeventfd *io = arg;

		if (fcntl(io->fd, F_GETFD) < 0) {
			if (io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
				bad_unbind++;
			errno = EBADF;
			return -1;
		}
		if (io->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
			unbound++;
		else
			bound++;
		return 0;
	}
	if (request == KVM_CHECK_EXTENSION)
		return 0;
	return 0;	/* irqfds, routing, lines: accepted */
}

static void test_rng_mmio_unbinds_with_open_fds(void **state)
{
	struct drv *d = drv_new(8, 0);
	struct io_bus *mmio = iobus_create("mmio");
	struct virtio_mmio_bus bus = { .mmio = mmio, .vm_fd = FAKE_VM_FD };
	struct virtio_env env = {
		.mem = &d->mem, .kind = HUSK_VIRTIO_MMIO, .mmio = &bus, .vm_fd = FAKE_VM_FD,
	};
	struct virtio_rng *rng;

	(void)state;
	assert_int_equal(virtio_rng_create(&env, &rng), 0);
	assert_true(bound > 0);
	virtio_rng_destroy(rng);
	assert_int_equal(bad_unbind, 0);
	assert_int_equal(unbound, bound);
	iobus_destroy(mmio);
	drv_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_mmio_unbinds_with_open_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
