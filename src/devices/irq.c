// SPDX-License-Identifier: MIT
#include "devices/irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

int irq_line_set(struct irq_line *line, int level)
{
	struct kvm_irq_level irq = { .level = level ? 1 : 0 };

	if (!line)
		return -EINVAL;
	line->level = level ? 1 : 0;
	if (line->vm_fd < 0)
		return 0;
	irq.irq = line->gsi;
	if (ioctl(line->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		return -errno;
	return 0;
}
