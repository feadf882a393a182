// SPDX-License-Identifier: MIT
/* A vCPU's KVM state: get, set, and its byte encoding (vcpu_state.h). */
#include "cpu/vcpu_state.h"
#include "core/statebuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define XSAVE_LEGACY	4096	/* struct kvm_xsave without KVM_CAP_XSAVE2 */

void vcpu_state_caps_probe(int vm_fd, struct vcpu_state_caps *caps)
{
	int n;

	memset(caps, 0, sizeof(*caps));
	caps->xsave_len = XSAVE_LEGACY;
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		caps->parts |= VCPU_PART_XSAVE;
	n = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (n > XSAVE_LEGACY && n <= VCPU_STATE_MAX_XSAVE && n % 4 == 0)
		caps->xsave_len = (uint32_t)n;
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		caps->parts |= VCPU_PART_XCRS;
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0)
		caps->parts |= VCPU_PART_DEBUGREGS;
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_VCPU_EVENTS) > 0)
		caps->parts |= VCPU_PART_EVENTS;
	if (ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_TSC_KHZ) > 0)
		caps->parts |= VCPU_PART_TSC_KHZ;
	caps->tsc_control = ioctl(vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0;
}

/* ---- get ------------------------------------------------------------------ */

/*
 * Read the MSRs of @list that KVM lets us read. KVM_GET_MSRS stops at the
 * first one it refuses (returning how many it read before it): keep those,
 * skip the refused one and ask again for the rest.
 */
static int get_msrs(int fd, const struct kvm_msr_list *list, struct vcpu_state *st)
{
	uint32_t n = list ? list->nmsrs : 0, done = 0;
	struct kvm_msrs *m;

	if (n > VCPU_STATE_MAX_MSRS)
		n = VCPU_STATE_MAX_MSRS;
	m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
	if (!m)
		return -ENOMEM;
	while (done < n) {
		int got;

		m->nmsrs = n - done;
		for (uint32_t i = 0; i < m->nmsrs; i++)
			m->entries[i] = (struct kvm_msr_entry){ .index = list->indices[done + i] };
		got = ioctl(fd, KVM_GET_MSRS, m);
		if (got < 0) {
			free(m);
			return -errno;
		}
		for (int k = 0; k < got; k++)
			st->msrs[st->nmsrs++] = m->entries[k];
		done += (uint32_t)got + 1;	/* past the one KVM refused */
	}
	free(m);
	return 0;
}

/* TSC first, its deadline last (and never zero): see vcpu_state.h. */
static void order_msrs(struct vcpu_state *st)
{
	struct kvm_msr_entry tsc = { 0 }, deadline = { 0 };
	bool has_tsc = false, has_deadline = false;
	uint32_t n = 0;

	for (uint32_t i = 0; i < st->nmsrs; i++) {
		if (st->msrs[i].index == MSR_IA32_TSC_INDEX) {
			tsc = st->msrs[i];
			has_tsc = true;
		} else if (st->msrs[i].index == MSR_IA32_TSC_DEADLINE_INDEX) {
			deadline = st->msrs[i];
			has_deadline = true;
		} else {
			st->msrs[n++] = st->msrs[i];
		}
	}
	if (has_tsc) {
		memmove(st->msrs + 1, st->msrs, n * sizeof(st->msrs[0]));
		st->msrs[0] = tsc;
		n++;
	}
	if (has_deadline) {
		if (!deadline.data && has_tsc)
			deadline.data = tsc.data;
		st->msrs[n++] = deadline;
	}
	st->nmsrs = n;
}

int vcpu_state_get(int fd, const struct vcpu_state_caps *caps, const struct kvm_msr_list *msrs,
		   struct vcpu_state *st, const char **what)
{
	int ret;

	memset(st, 0, sizeof(*st));
	st->parts = caps->parts;
#define GET(req, field, name)						\
	do {								\
		*what = name;						\
		if (ioctl(fd, req, field) < 0)				\
			return -errno;					\
	} while (0)
	GET(KVM_GET_MP_STATE, &st->mp, "KVM_GET_MP_STATE");
	GET(KVM_GET_REGS, &st->regs, "KVM_GET_REGS");
	GET(KVM_GET_SREGS, &st->sregs, "KVM_GET_SREGS");
	if (st->parts & VCPU_PART_XSAVE) {
		st->xsave_len = caps->xsave_len;
		if (caps->xsave_len > XSAVE_LEGACY)
			GET(KVM_GET_XSAVE2, st->xsave, "KVM_GET_XSAVE2");
		else
			GET(KVM_GET_XSAVE, st->xsave, "KVM_GET_XSAVE");
	} else {
		GET(KVM_GET_FPU, &st->fpu, "KVM_GET_FPU");
	}
	if (st->parts & VCPU_PART_XCRS)
		GET(KVM_GET_XCRS, &st->xcrs, "KVM_GET_XCRS");
	if (st->parts & VCPU_PART_DEBUGREGS)
		GET(KVM_GET_DEBUGREGS, &st->dregs, "KVM_GET_DEBUGREGS");
	GET(KVM_GET_LAPIC, &st->lapic, "KVM_GET_LAPIC");
	if (st->parts & VCPU_PART_EVENTS)
		GET(KVM_GET_VCPU_EVENTS, &st->events, "KVM_GET_VCPU_EVENTS");
#undef GET
	if (st->parts & VCPU_PART_TSC_KHZ) {
		*what = "KVM_GET_TSC_KHZ";
		ret = ioctl(fd, KVM_GET_TSC_KHZ, 0);
		if (ret <= 0)
			return ret < 0 ? -errno : -EINVAL;
		st->tsc_khz = (uint32_t)ret;
	}
	*what = "KVM_GET_MSRS";
	ret = get_msrs(fd, msrs, st);
	if (ret)
		return ret;
	order_msrs(st);
	*what = NULL;
	return 0;
}

/* ---- set ------------------------------------------------------------------ */

static int set_msrs(int fd, const struct vcpu_state *st, const char **what)
{
	size_t size = sizeof(struct kvm_msrs) + st->nmsrs * sizeof(struct kvm_msr_entry);
	struct kvm_msrs *m = calloc(1, size);
	int got;

	if (!m)
		return -ENOMEM;
	m->nmsrs = st->nmsrs;
	memcpy(m->entries, st->msrs, st->nmsrs * sizeof(struct kvm_msr_entry));
	got = ioctl(fd, KVM_SET_MSRS, m);
	free(m);
	if (got < 0)
		return -errno;
	if ((uint32_t)got != st->nmsrs) {
		static __thread char name[48];

		snprintf(name, sizeof(name), "KVM_SET_MSRS (MSR 0x%x refused)",
			 st->msrs[got].index);
		*what = name;
		return -EINVAL;
	}
	return 0;
}

int vcpu_state_set(int fd, const struct vcpu_state_caps *caps, const struct vcpu_state *st,
		   const char **what)
{
	int ret;

	*what = "the state's parts";
	if (st->parts & ~caps->parts)
		return -EOPNOTSUPP;
	if ((st->parts & VCPU_PART_XSAVE) && st->xsave_len > caps->xsave_len)
		return -EOPNOTSUPP;
	if (st->parts & VCPU_PART_TSC_KHZ) {
		*what = "KVM_GET_TSC_KHZ";
		ret = ioctl(fd, KVM_GET_TSC_KHZ, 0);
		if (ret < 0)
			return -errno;
		/* another TSC rate here: scale the guest's to the saved one */
		if ((uint32_t)ret != st->tsc_khz) {
			*what = "KVM_SET_TSC_KHZ (this host's TSC runs at another rate)";
			if (!caps->tsc_control)
				return -EOPNOTSUPP;
			if (ioctl(fd, KVM_SET_TSC_KHZ, (unsigned long)st->tsc_khz) < 0)
				return -errno;
		}
	}
#define SET(req, field, name)						\
	do {								\
		*what = name;						\
		if (ioctl(fd, req, field) < 0)				\
			return -errno;					\
	} while (0)
	SET(KVM_SET_MP_STATE, &st->mp, "KVM_SET_MP_STATE");
	SET(KVM_SET_REGS, &st->regs, "KVM_SET_REGS");
	SET(KVM_SET_SREGS, &st->sregs, "KVM_SET_SREGS");
	if (st->parts & VCPU_PART_XSAVE) {
		/* KVM reads the size its own caps say: pad a shorter saved area with zeroes */
		uint8_t *x = calloc(1, caps->xsave_len);

		if (!x)
			return -ENOMEM;
		memcpy(x, st->xsave, st->xsave_len);
		*what = "KVM_SET_XSAVE";
		ret = ioctl(fd, KVM_SET_XSAVE, x);
		free(x);
		if (ret < 0)
			return -errno;
	} else {
		SET(KVM_SET_FPU, &st->fpu, "KVM_SET_FPU");
	}
	if (st->parts & VCPU_PART_XCRS)
		SET(KVM_SET_XCRS, &st->xcrs, "KVM_SET_XCRS");
	if (st->parts & VCPU_PART_DEBUGREGS)
		SET(KVM_SET_DEBUGREGS, &st->dregs, "KVM_SET_DEBUGREGS");
	SET(KVM_SET_LAPIC, &st->lapic, "KVM_SET_LAPIC");
	*what = "KVM_SET_MSRS";
	ret = set_msrs(fd, st, what);
	if (ret)
		return ret;
	if (st->parts & VCPU_PART_EVENTS)
		SET(KVM_SET_VCPU_EVENTS, &st->events, "KVM_SET_VCPU_EVENTS");
#undef SET
	*what = NULL;
	return 0;
}

/* ---- encoding --------------------------------------------------------------- */

static void write_seg(struct state_writer *w, const struct kvm_segment *s)
{
	sw_u64(w, s->base);
	sw_u32(w, s->limit);
	sw_u16(w, s->selector);
	sw_u8(w, s->type);
	sw_u8(w, s->present);
	sw_u8(w, s->dpl);
	sw_u8(w, s->db);
	sw_u8(w, s->s);
	sw_u8(w, s->l);
	sw_u8(w, s->g);
	sw_u8(w, s->avl);
	sw_u8(w, s->unusable);
}

static void read_seg(struct state_reader *r, struct kvm_segment *s)
{
	s->base = sr_u64(r);
	s->limit = sr_u32(r);
	s->selector = sr_u16(r);
	s->type = sr_u8(r);
	s->present = sr_u8(r);
	s->dpl = sr_u8(r);
	s->db = sr_u8(r);
	s->s = sr_u8(r);
	s->l = sr_u8(r);
	s->g = sr_u8(r);
	s->avl = sr_u8(r);
	s->unusable = sr_u8(r);
}

static void write_dt(struct state_writer *w, const struct kvm_dtable *d)
{
	sw_u64(w, d->base);
	sw_u16(w, d->limit);
}

static void read_dt(struct state_reader *r, struct kvm_dtable *d)
{
	d->base = sr_u64(r);
	d->limit = sr_u16(r);
}

/* struct kvm_regs is 18 u64s in this order: rax .. r15, rip, rflags. */
#define NREGS (sizeof(struct kvm_regs) / sizeof(uint64_t))

static void write_regs(struct state_writer *w, const struct kvm_regs *regs)
{
	const uint64_t v[] = {
		regs->rax, regs->rbx, regs->rcx, regs->rdx, regs->rsi, regs->rdi, regs->rsp,
		regs->rbp, regs->r8, regs->r9, regs->r10, regs->r11, regs->r12, regs->r13,
		regs->r14, regs->r15, regs->rip, regs->rflags,
	};

	_Static_assert(sizeof(v) == sizeof(*regs), "every register");
	for (size_t i = 0; i < NREGS; i++)
		sw_u64(w, v[i]);
}

static void read_regs(struct state_reader *r, struct kvm_regs *regs)
{
	__u64 *const f[] = {
		&regs->rax, &regs->rbx, &regs->rcx, &regs->rdx, &regs->rsi, &regs->rdi,
		&regs->rsp, &regs->rbp, &regs->r8, &regs->r9, &regs->r10, &regs->r11,
		&regs->r12, &regs->r13, &regs->r14, &regs->r15, &regs->rip, &regs->rflags,
	};

	for (size_t i = 0; i < NREGS; i++)
		*f[i] = sr_u64(r);
}

static void write_sregs(struct state_writer *w, const struct kvm_sregs *s)
{
	const struct kvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss,
					     &s->tr, &s->ldt };

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		write_seg(w, segs[i]);
	write_dt(w, &s->gdt);
	write_dt(w, &s->idt);
	sw_u64(w, s->cr0);
	sw_u64(w, s->cr2);
	sw_u64(w, s->cr3);
	sw_u64(w, s->cr4);
	sw_u64(w, s->cr8);
	sw_u64(w, s->efer);
	sw_u64(w, s->apic_base);
	for (size_t i = 0; i < sizeof(s->interrupt_bitmap) / sizeof(s->interrupt_bitmap[0]); i++)
		sw_u64(w, s->interrupt_bitmap[i]);
}

static void read_sregs(struct state_reader *r, struct kvm_sregs *s)
{
	struct kvm_segment *segs[] = { &s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss,
				       &s->tr, &s->ldt };

	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
		read_seg(r, segs[i]);
	read_dt(r, &s->gdt);
	read_dt(r, &s->idt);
	s->cr0 = sr_u64(r);
	s->cr2 = sr_u64(r);
	s->cr3 = sr_u64(r);
	s->cr4 = sr_u64(r);
	s->cr8 = sr_u64(r);
	s->efer = sr_u64(r);
	s->apic_base = sr_u64(r);
	for (size_t i = 0; i < sizeof(s->interrupt_bitmap) / sizeof(s->interrupt_bitmap[0]); i++)
		s->interrupt_bitmap[i] = sr_u64(r);
}

static void write_fpu(struct state_writer *w, const struct kvm_fpu *f)
{
	sw_bytes(w, f->fpr, sizeof(f->fpr));
	sw_u16(w, f->fcw);
	sw_u16(w, f->fsw);
	sw_u8(w, f->ftwx);
	sw_u16(w, f->last_opcode);
	sw_u64(w, f->last_ip);
	sw_u64(w, f->last_dp);
	sw_bytes(w, f->xmm, sizeof(f->xmm));
	sw_u32(w, f->mxcsr);
}

static void read_fpu(struct state_reader *r, struct kvm_fpu *f)
{
	sr_bytes(r, f->fpr, sizeof(f->fpr));
	f->fcw = sr_u16(r);
	f->fsw = sr_u16(r);
	f->ftwx = sr_u8(r);
	f->last_opcode = sr_u16(r);
	f->last_ip = sr_u64(r);
	f->last_dp = sr_u64(r);
	sr_bytes(r, f->xmm, sizeof(f->xmm));
	f->mxcsr = sr_u32(r);
}

static void write_events(struct state_writer *w, const struct kvm_vcpu_events *e)
{
	const uint8_t b[] = {
		e->exception.injected, e->exception.nr, e->exception.has_error_code,
		e->exception.pending, e->interrupt.injected, e->interrupt.nr,
		e->interrupt.soft, e->interrupt.shadow, e->nmi.injected, e->nmi.pending,
		e->nmi.masked, e->smi.smm, e->smi.pending, e->smi.smm_inside_nmi,
		e->smi.latched_init, e->triple_fault.pending, e->exception_has_payload,
	};

	sw_bytes(w, b, sizeof(b));
	sw_u32(w, e->exception.error_code);
	sw_u32(w, e->sipi_vector);
	sw_u32(w, e->flags);
	sw_u64(w, e->exception_payload);
}

static void read_events(struct state_reader *r, struct kvm_vcpu_events *e)
{
	uint8_t *const b[] = {
		&e->exception.injected, &e->exception.nr, &e->exception.has_error_code,
		&e->exception.pending, &e->interrupt.injected, &e->interrupt.nr,
		&e->interrupt.soft, &e->interrupt.shadow, &e->nmi.injected, &e->nmi.pending,
		&e->nmi.masked, &e->smi.smm, &e->smi.pending, &e->smi.smm_inside_nmi,
		&e->smi.latched_init, &e->triple_fault.pending, &e->exception_has_payload,
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		*b[i] = sr_u8(r);
	e->exception.error_code = sr_u32(r);
	e->sipi_vector = sr_u32(r);
	e->flags = sr_u32(r);
	e->exception_payload = sr_u64(r);
}

void vcpu_state_write(const struct vcpu_state *st, struct state_writer *w)
{
	sw_u32(w, st->parts);
	sw_u32(w, st->mp.mp_state);
	write_regs(w, &st->regs);
	write_sregs(w, &st->sregs);
	if (st->parts & VCPU_PART_XSAVE) {
		sw_u32(w, st->xsave_len);
		sw_bytes(w, st->xsave, st->xsave_len);
	} else {
		write_fpu(w, &st->fpu);
	}
	if (st->parts & VCPU_PART_XCRS) {
		sw_u32(w, st->xcrs.nr_xcrs);
		sw_u32(w, st->xcrs.flags);
		for (uint32_t i = 0; i < st->xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++) {
			sw_u32(w, st->xcrs.xcrs[i].xcr);
			sw_u64(w, st->xcrs.xcrs[i].value);
		}
	}
	if (st->parts & VCPU_PART_DEBUGREGS) {
		for (unsigned i = 0; i < 4; i++)
			sw_u64(w, st->dregs.db[i]);
		sw_u64(w, st->dregs.dr6);
		sw_u64(w, st->dregs.dr7);
		sw_u64(w, st->dregs.flags);
	}
	sw_bytes(w, st->lapic.regs, sizeof(st->lapic.regs));
	if (st->parts & VCPU_PART_EVENTS)
		write_events(w, &st->events);
	if (st->parts & VCPU_PART_TSC_KHZ)
		sw_u32(w, st->tsc_khz);
	sw_u32(w, st->nmsrs);
	for (uint32_t i = 0; i < st->nmsrs; i++) {
		sw_u32(w, st->msrs[i].index);
		sw_u64(w, st->msrs[i].data);
	}
}

int vcpu_state_read(struct state_reader *r, struct vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->parts = sr_u32(r);
	if (!r->err && (st->parts & ~VCPU_PART_ALL))
		return sr_fail(r, "vCPU: unknown state parts %#x", st->parts);
	st->mp.mp_state = sr_u32(r);
	if (!r->err && st->mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD)
		return sr_fail(r, "vCPU: MP state %u", st->mp.mp_state);
	read_regs(r, &st->regs);
	read_sregs(r, &st->sregs);
	if (st->parts & VCPU_PART_XSAVE) {
		st->xsave_len = sr_u32(r);
		if (!r->err && (st->xsave_len < XSAVE_LEGACY || st->xsave_len > VCPU_STATE_MAX_XSAVE ||
				st->xsave_len % 4))
			return sr_fail(r, "vCPU: XSAVE area of %u bytes", st->xsave_len);
		sr_bytes(r, st->xsave, st->xsave_len);
	} else {
		read_fpu(r, &st->fpu);
	}
	if (st->parts & VCPU_PART_XCRS) {
		st->xcrs.nr_xcrs = sr_u32(r);
		st->xcrs.flags = sr_u32(r);
		if (!r->err && st->xcrs.nr_xcrs > KVM_MAX_XCRS)
			return sr_fail(r, "vCPU: %u XCRs", st->xcrs.nr_xcrs);
		for (uint32_t i = 0; i < st->xcrs.nr_xcrs && !r->err; i++) {
			st->xcrs.xcrs[i].xcr = sr_u32(r);
			st->xcrs.xcrs[i].value = sr_u64(r);
		}
	}
	if (st->parts & VCPU_PART_DEBUGREGS) {
		for (unsigned i = 0; i < 4; i++)
			st->dregs.db[i] = sr_u64(r);
		st->dregs.dr6 = sr_u64(r);
		st->dregs.dr7 = sr_u64(r);
		st->dregs.flags = sr_u64(r);
	}
	sr_bytes(r, st->lapic.regs, sizeof(st->lapic.regs));
	if (st->parts & VCPU_PART_EVENTS)
		read_events(r, &st->events);
	if (st->parts & VCPU_PART_TSC_KHZ) {
		st->tsc_khz = sr_u32(r);
		if (!r->err && !st->tsc_khz)
			return sr_fail(r, "vCPU: a TSC rate of 0 kHz");
	}
	st->nmsrs = sr_u32(r);
	if (!r->err && st->nmsrs > VCPU_STATE_MAX_MSRS)
		return sr_fail(r, "vCPU: %u MSRs, at most %u", st->nmsrs, VCPU_STATE_MAX_MSRS);
	for (uint32_t i = 0; i < st->nmsrs && !r->err; i++) {
		st->msrs[i].index = sr_u32(r);
		st->msrs[i].data = sr_u64(r);
	}
	return sr_done(r);
}
