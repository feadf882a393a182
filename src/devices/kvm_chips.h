/* SPDX-License-Identifier: MIT */
#ifndef HUSK_KVM_CHIPS_H
#define HUSK_KVM_CHIPS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

/*
 * The devices KVM emulates for the whole VM: the two 8259 PICs, the IOAPIC,
 * the 8254 PIT, and the kvm-clock reference (KVM_GET/SET_IRQCHIP, _PIT2,
 * _CLOCK). One plain struct, its save and load: the VM's "vm" snapshot
 * section. The LAPICs belong to the vCPUs (cpu/vcpu_state.h).
 *
 * The clock: a restore sets kvm-clock to the saved value, so the guest sees
 * no time pass while it was saved (Firecracker's default); with
 * @clock_realtime it is advanced by the wall-clock time since the save
 * (KVM_CLOCK_REALTIME, Firecracker's clock_realtime), where KVM can.
 */
#define KVM_CHIPS_STATE_VERSION	1

struct kvm_chips_state {
	struct kvm_pic_state pic[2];	/* master, slave */
	struct kvm_ioapic_state ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* Read the VM's chips (its vCPUs stopped). Returns 0 or -errno, @what the ioctl. */
int kvm_chips_get(int vm_fd, struct kvm_chips_state *st, const char **what);
/* Put them back; @clock_realtime: advance kvm-clock by the time since the save. */
int kvm_chips_set(int vm_fd, const struct kvm_chips_state *st, bool clock_realtime,
		  const char **what);

struct state_writer;
struct state_reader;
void kvm_chips_write(const struct kvm_chips_state *st, struct state_writer *w);
/* Read and check one encoded state (a whole section: sr_done included). */
int kvm_chips_read(struct state_reader *r, struct kvm_chips_state *st);

#endif
