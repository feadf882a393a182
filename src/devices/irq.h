/* SPDX-License-Identifier: MIT */
#ifndef HUSK_IRQ_H
#define HUSK_IRQ_H

#include <stdint.h>

/*
 * An interrupt line of the in-kernel PIC/IOAPIC (KVM_IRQ_LINE on the VM fd).
 * ISA lines (serial IRQ 4, ...) are edge-triggered in the MP table: raising
 * a line that is low makes an edge. vm_fd < 0 makes a line that only records
 * its level (unit tests).
 */
struct irq_line {
	int vm_fd;
	uint32_t gsi;
	int level;		/* last level set, for tests and state saving */
};

int irq_line_set(struct irq_line *line, int level);

#endif
