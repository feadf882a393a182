// SPDX-License-Identifier: MIT
/*
 * The split virtqueue walker (virtio/virtqueue.c) against a hostile driver.
 * Guest RAM is exactly sized (fuzz_guest_mem): a descriptor, ring or
 * indirect table one byte past its end is an ASan report. The input:
 *   byte 0      RAM: 64 KiB or 1 MiB + 64 KiB
 *   byte 1      queue size 2^(b % 16)
 *   byte 2      features: bit 0 INDIRECT_DESC, bit 1 EVENT_IDX
 *   byte 3      chain storage: 1 + b % 64 segments (an exactly sized array)
 *   then 3 ring addresses (fz_addr), then operations:
 *     0-5  a ring edit (fz_guest_op)        10  push_batch of n elements
 *     6    pop, and check the chain         11  set_notify / suppress_notify
 *     7    vq_chain_read/write at offsets   12  enable_notify
 *     8    push(head, len)                  13  should_interrupt(old)
 *     9    reconfigure with new addresses   14  save and restore the state
 * Checked besides memory safety: a popped chain's segments lie in RAM, are
 * non-empty, readable before writable, and add up to its lengths; an error
 * leaves the queue broken, and a broken queue pops -EIO and has nothing
 * available.
 */
#include "fuzz_virtio_helpers.h"

#define BIG_RAM		(0x100000ull + 0x10000ull)
#define SMALL_RAM	0x10000ull

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_logs();
	return 0;
}

static void check_chain(const struct fz_guest *g, const struct vq_chain *c)
{
	uint64_t rl = 0, wl = 0;

	if (c->nsegs > c->max_segs || c->nreadable > c->nsegs)
		__builtin_trap();
	for (uint32_t i = 0; i < c->nsegs; i++) {
		const struct vq_seg *s = &c->segs[i];

		if (!s->len || s->hva < g->ram.base || s->hva > g->ram.base + g->ram.size ||
		    s->len > (size_t)(g->ram.base + g->ram.size - s->hva))
			__builtin_trap();
		if (s->writable != (i >= c->nreadable))
			__builtin_trap();
		*(s->writable ? &wl : &rl) += s->len;
	}
	if (rl != c->readable_len || wl != c->writable_len)
		__builtin_trap();
}

static void chain_rw(struct fuzz_in *in, const struct vq_chain *c)
{
	uint64_t off = fuzz_u8(in) & 1 ? fuzz_u64(in) : fuzz_u16(in);
	size_t len = fuzz_u16(in) % 8193;
	uint8_t *buf = malloc(len ? len : 1);
	uint64_t total = fuzz_bool(in) ? c->writable_len : c->readable_len;
	bool fits = off <= total && len <= total - off;
	int r;

	if (!buf)
		fuzz_die("malloc");
	memset(buf, 0x5a, len);
	if (total == c->writable_len)
		r = vq_chain_write(c, off, buf, len);
	else
		r = vq_chain_read(c, off, buf, len);
	if (fits ? r != 0 : r != -ERANGE)
		__builtin_trap();
	free(buf);
}

static int configure(struct fuzz_in *in, struct fz_guest *g, struct virtqueue *vq,
		     unsigned size, uint64_t features)
{
	uint64_t desc = fz_addr(in, g) & ~15ull;
	uint64_t avail = fz_addr(in, g) & ~1ull;
	uint64_t used = fz_addr(in, g) & ~3ull;

	if (fuzz_u8(in) == 0xff)	/* now and then misaligned */
		desc |= 8;
	fz_guest_queue(g, size, desc, avail, used);
	return virtqueue_configure(vq, &g->mem, size, desc, avail, used, features);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = fuzz_in_init(data, size);
	struct fz_guest g;
	struct virtqueue vq;
	struct vq_chain chain;
	struct vq_seg *segs;
	uint64_t ram = fuzz_u8(&in) & 1 ? BIG_RAM : SMALL_RAM;
	unsigned qsize = 1u << (fuzz_u8(&in) % 16);
	uint8_t fb = fuzz_u8(&in);
	uint64_t features = ((fb & 1) ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0) |
			    ((fb & 2) ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0);
	uint32_t max_segs = 1 + fuzz_u8(&in) % 64;
	bool have_chain = false;

	fz_guest_init(&g, ram);
	segs = malloc(max_segs * sizeof(*segs));
	if (!segs)
		fuzz_die("malloc");
	vq_chain_init(&chain, segs, max_segs);
	virtqueue_init(&vq);
	configure(&in, &g, &vq, qsize, features);
	while (fuzz_left(&in)) {
		uint8_t op = fuzz_u8(&in) % 15;
		int r;

		switch (op) {
		case 6:
			r = virtqueue_pop(&vq, &chain);
			if (r > 0) {
				check_chain(&g, &chain);
				have_chain = true;
			} else if (r < 0 && !vq.st.broken) {
				__builtin_trap();
			}
			if (vq.st.broken && (virtqueue_pop(&vq, &chain) != -EIO ||
					     virtqueue_has_avail(&vq)))
				__builtin_trap();
			break;
		case 7:
			if (have_chain)
				chain_rw(&in, &chain);
			break;
		case 8:
			virtqueue_push(&vq, fuzz_u16(&in), fuzz_u32(&in));
			break;
		case 9:
			qsize = 1u << (fuzz_u8(&in) % 16);
			configure(&in, &g, &vq, qsize, features);
			have_chain = false;
			break;
		case 10: {
			struct virtq_used_elem e[8];
			unsigned n = fuzz_u8(&in) % 9;

			for (unsigned i = 0; i < n; i++)
				e[i] = (struct virtq_used_elem){ .id = fuzz_u16(&in) % (qsize + 1),
								 .len = fuzz_u32(&in) };
			virtqueue_push_batch(&vq, e, n);
			break;
		}
		case 11:
			if (fuzz_bool(&in))
				virtqueue_suppress_notify(&vq);
			else
				virtqueue_set_notify(&vq, fuzz_bool(&in));
			break;
		case 12:
			virtqueue_enable_notify(&vq);
			break;
		case 13:
			virtqueue_should_interrupt(&vq, fuzz_u16(&in));
			break;
		case 14: {
			struct virtqueue_state st = vq.st;

			if (fuzz_bool(&in)) {
				st.last_avail_idx = fuzz_u16(&in);
				st.used_idx = fuzz_u16(&in);
				st.size = fuzz_u16(&in);
			}
			if (virtqueue_restore(&vq, &g.mem, &st) == 0 && st.ready)
				fz_guest_queue(&g, vq.st.size, vq.st.desc_gpa, vq.st.avail_gpa,
					       vq.st.used_gpa);
			have_chain = false;
			break;
		}
		default:
			fz_guest_op(&in, &g, op);
			break;
		}
	}
	free(segs);
	fz_guest_free(&g);
	return 0;
}
