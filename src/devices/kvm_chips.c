// SPDX-License-Identifier: MIT
/* KVM's in-kernel PICs, IOAPIC, PIT and clock: save and load (kvm_chips.h). */
#include "devices/kvm_chips.h"
#include "core/statebuf.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

static int get_chip(int fd, unsigned id, struct kvm_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	return ioctl(fd, KVM_GET_IRQCHIP, c) < 0 ? -errno : 0;
}

int kvm_chips_get(int fd, struct kvm_chips_state *st, const char **what)
{
	struct kvm_irqchip c;
	int ret;

	memset(st, 0, sizeof(*st));
	*what = "KVM_GET_IRQCHIP";
	for (unsigned i = 0; i < 2; i++) {
		ret = get_chip(fd, KVM_IRQCHIP_PIC_MASTER + i, &c);
		if (ret)
			return ret;
		st->pic[i] = c.chip.pic;
	}
	ret = get_chip(fd, KVM_IRQCHIP_IOAPIC, &c);
	if (ret)
		return ret;
	st->ioapic = c.chip.ioapic;
	*what = "KVM_GET_PIT2";
	if (ioctl(fd, KVM_GET_PIT2, &st->pit) < 0)
		return -errno;
	*what = "KVM_GET_CLOCK";
	if (ioctl(fd, KVM_GET_CLOCK, &st->clock) < 0)
		return -errno;
	*what = NULL;
	return 0;
}

int kvm_chips_set(int fd, const struct kvm_chips_state *st, bool clock_realtime,
		  const char **what)
{
	struct kvm_clock_data clock = { .clock = st->clock.clock };
	struct kvm_irqchip c;

	*what = "KVM_SET_IRQCHIP";
	for (unsigned i = 0; i < 2; i++) {
		memset(&c, 0, sizeof(c));
		c.chip_id = KVM_IRQCHIP_PIC_MASTER + i;
		c.chip.pic = st->pic[i];
		if (ioctl(fd, KVM_SET_IRQCHIP, &c) < 0)
			return -errno;
	}
	memset(&c, 0, sizeof(c));
	c.chip_id = KVM_IRQCHIP_IOAPIC;
	c.chip.ioapic = st->ioapic;
	if (ioctl(fd, KVM_SET_IRQCHIP, &c) < 0)
		return -errno;
	*what = "KVM_SET_PIT2";
	if (ioctl(fd, KVM_SET_PIT2, &st->pit) < 0)
		return -errno;
	if (clock_realtime && (st->clock.flags & KVM_CLOCK_REALTIME)) {
		clock.flags = KVM_CLOCK_REALTIME;
		clock.realtime = st->clock.realtime;
	}
	*what = "KVM_SET_CLOCK";
	if (ioctl(fd, KVM_SET_CLOCK, &clock) < 0)
		return -errno;
	*what = NULL;
	return 0;
}

/* struct kvm_pic_state is 16 one-byte registers, in this order. */
static void pic_fields(struct kvm_pic_state *p, uint8_t *f[16])
{
	uint8_t *v[16] = {
		&p->last_irr, &p->irr, &p->imr, &p->isr, &p->priority_add, &p->irq_base,
		&p->read_reg_select, &p->poll, &p->special_mask, &p->init_state, &p->auto_eoi,
		&p->rotate_on_auto_eoi, &p->special_fully_nested_mode, &p->init4, &p->elcr,
		&p->elcr_mask,
	};

	_Static_assert(sizeof(*p) == 16, "every PIC register");
	memcpy(f, v, sizeof(v));
}

static void channel_fields(struct kvm_pit_channel_state *c, uint8_t *f[10])
{
	uint8_t *v[10] = {
		&c->count_latched, &c->status_latched, &c->status, &c->read_state,
		&c->write_state, &c->write_latch, &c->rw_mode, &c->mode, &c->bcd, &c->gate,
	};

	memcpy(f, v, sizeof(v));
}

void kvm_chips_write(const struct kvm_chips_state *cst, struct state_writer *w)
{
	struct kvm_chips_state st = *cst;	/* the field tables take non-const pointers */
	uint8_t *f[16];

	for (unsigned i = 0; i < 2; i++) {
		pic_fields(&st.pic[i], f);
		for (unsigned k = 0; k < 16; k++)
			sw_u8(w, *f[k]);
	}
	sw_u64(w, st.ioapic.base_address);
	sw_u32(w, st.ioapic.ioregsel);
	sw_u32(w, st.ioapic.id);
	sw_u32(w, st.ioapic.irr);
	for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		sw_u64(w, st.ioapic.redirtbl[i].bits);
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &st.pit.channels[i];

		sw_u32(w, c->count);
		sw_u16(w, c->latched_count);
		channel_fields(c, f);
		for (unsigned k = 0; k < 10; k++)
			sw_u8(w, *f[k]);
		sw_u64(w, (uint64_t)c->count_load_time);
	}
	sw_u32(w, st.pit.flags);
	sw_u64(w, st.clock.clock);
	sw_u32(w, st.clock.flags);
	sw_u64(w, st.clock.realtime);
}

int kvm_chips_read(struct state_reader *r, struct kvm_chips_state *st)
{
	uint8_t *f[16];

	memset(st, 0, sizeof(*st));
	for (unsigned i = 0; i < 2; i++) {
		pic_fields(&st->pic[i], f);
		for (unsigned k = 0; k < 16; k++)
			*f[k] = sr_u8(r);
	}
	st->ioapic.base_address = sr_u64(r);
	st->ioapic.ioregsel = sr_u32(r);
	st->ioapic.id = sr_u32(r);
	st->ioapic.irr = sr_u32(r);
	for (unsigned i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		st->ioapic.redirtbl[i].bits = sr_u64(r);
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &st->pit.channels[i];

		c->count = sr_u32(r);
		c->latched_count = sr_u16(r);
		channel_fields(c, f);
		for (unsigned k = 0; k < 10; k++)
			*f[k] = sr_u8(r);
		c->count_load_time = (int64_t)sr_u64(r);
		if (!r->err && c->count > 0x10000)
			return sr_fail(r, "PIT channel %u: count %u", i, c->count);
	}
	st->pit.flags = sr_u32(r);
	st->clock.clock = sr_u64(r);
	st->clock.flags = sr_u32(r);
	st->clock.realtime = sr_u64(r);
	if (sr_done(r))
		return r->err;
	if (st->pit.flags & ~(uint32_t)(KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON))
		return sr_fail(r, "PIT: unknown flags %#x", st->pit.flags);
	return 0;
}
