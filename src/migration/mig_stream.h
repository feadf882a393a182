/* SPDX-License-Identifier: MIT */
#ifndef HUSK_MIG_STREAM_H
#define HUSK_MIG_STREAM_H

/*
 * The live-migration stream (docs/migration.md): husk's own, versioned.
 * All integers little-endian.
 *
 *   hello   8 bytes magic "HUSKMIGR", u32 version (MIG_VERSION), u32 flags (0)
 *   records, each: u32 type, u32 CRC-32 (zlib's) of the payload, u64
 *           payload length, payload
 *
 * source -> destination:
 *   STATE_PRE  a state file (state/snapfile.h) of only "config" and "host":
 *              the destination builds the VM from it
 *   PAGES      u64 offset in guest RAM, u32 page count (1..MIG_MAX_RUN),
 *              u32 0, then count * 4096 bytes
 *   ZERO       u64 offset, u64 page count (1..guest RAM): these pages are zero
 *   STATE      the full state file, every device (the VM is paused)
 *   END        empty: nothing follows but GO
 *   GO         u32 flags (MIG_GO_RESUME), u32 rounds, u64 downtime_ms,
 *              u64 total_ms, u64 bytes: the destination runs the VM
 * destination -> source:
 *   READY      empty: everything loaded, waiting for GO
 *   ERROR      a one-line message (at most MIG_MAX_MSG bytes)
 *
 * Replication (hello flag MIG_HELLO_REPLICATION, to husk --standby): the
 * same first part (with DISK records: the disks' contents), but END is
 * answered with ACK 0 instead of READY, and checkpoints follow, each
 *   CKPT       u64 epoch (1, 2, ...), then PAGES, ZERO, DISK, one STATE, END
 * answered with ACK (u64 epoch) once the standby has it all; between them
 *   HEARTBEAT  empty: the primary is alive
 *   BYE        empty: replication ends on purpose (the VM stopped, or it was
 *              cancelled): the standby exits, it does not take over
 *   DISK       u32 disk index, u32 flags (MIG_DISK_ZERO: the range reads
 *              back zeros, no data), u64 byte offset, u64 length (both
 *              multiples of 512; data at most MIG_MAX_DISK_DATA), the data
 *
 * Post-copy: after STATE and instead of END, DISCARD (one bit per 4 KiB
 * page of guest RAM, u64 words) names the pages the destination lacks; it runs
 * the VM after GO (flag MIG_GO_POSTCOPY) and asks for a page it faults on
 * with REQ (u64 offset, destination -> source) while the source sends them
 * all (PAGES, ZERO), the asked ones first; END again when none is left.
 *
 * With MIG_HELLO_AUTH, three AUTH records (32, 64, 32 bytes) follow the
 * hello before anything else: the peers' mutual authentication (mig_auth.h).
 *
 * Every length is checked against its type's limit before a byte of the
 * payload is read, every offset and count against guest RAM, every
 * payload's CRC after it is read: a stream that is cut, corrupt, hostile
 * or of another version is refused with one line, never trusted.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define MIG_MAGIC	"HUSKMIGR"
#define MIG_VERSION	1
#define MIG_HELLO_LEN	16
#define MIG_REC_LEN	16
#define MIG_PAGE	4096u
#define MIG_MAX_RUN	256u		/* pages in one PAGES record (1 MiB) */
#define MIG_MAX_MSG	1024u
#define MIG_PAGES_HDR	16u		/* offset, count, 0 */
#define MIG_GO_LEN	32u
#define MIG_GO_RESUME	1u
#define MIG_GO_POSTCOPY	2u		/* the pages in DISCARD come after GO */
#define MIG_HELLO_REPLICATION	1u
#define MIG_HELLO_AUTH		2u	/* AUTH records follow the hello (mig_auth.h) */
#define MIG_DISK_HDR	24u		/* disk, flags, offset, length */
#define MIG_DISK_ZERO	1u
#define MIG_MAX_DISK_DATA	(1u << 20)

enum mig_rec_type {
	MIG_REC_STATE_PRE = 1,
	MIG_REC_PAGES,
	MIG_REC_ZERO,
	MIG_REC_STATE,
	MIG_REC_END,
	MIG_REC_READY,
	MIG_REC_ERROR,
	MIG_REC_GO,
	MIG_REC_DISK,
	MIG_REC_CKPT,
	MIG_REC_ACK,
	MIG_REC_HEARTBEAT,
	MIG_REC_BYE,
	MIG_REC_AUTH,
	MIG_REC_DISCARD,
	MIG_REC_REQ,
	MIG_REC_MAX = MIG_REC_REQ,
};

struct mig_rec {
	uint32_t type;
	uint32_t crc;
	uint64_t len;
};

struct mig_go {
	uint32_t flags;
	uint32_t rounds;
	uint64_t downtime_ms, total_ms, bytes;
};

const char *mig_rec_name(uint32_t type);

void mig_hello_encode(uint8_t b[MIG_HELLO_LEN], uint32_t flags);
/*
 * 0 with *flags, or -EINVAL with why (not a migration stream, another
 * version, unknown flags).
 */
int mig_hello_check(const uint8_t b[MIG_HELLO_LEN], uint32_t *flags, char *why, size_t whylen);

void mig_rec_encode(uint8_t b[MIG_REC_LEN], uint32_t type, uint32_t crc, uint64_t len);
/*
 * Decode a record header and check its type and length against the
 * type's limits (@mem_size: guest RAM; 0 before it is known). 0 or -EINVAL.
 */
int mig_rec_decode(const uint8_t b[MIG_REC_LEN], uint64_t mem_size, struct mig_rec *r,
		   char *why, size_t whylen);
/*
 * The payload header of PAGES (16 bytes, @len: the record's payload length)
 * or the whole payload of ZERO: the range [*off, *off + *npages * 4096) must
 * lie inside @mem_size, page-aligned, and PAGES' count must match @len.
 */
int mig_pages_decode(uint32_t type, const uint8_t b[MIG_PAGES_HDR], uint64_t len,
		     uint64_t mem_size, uint64_t *off, uint64_t *npages, char *why, size_t whylen);
void mig_pages_encode(uint8_t b[MIG_PAGES_HDR], uint32_t type, uint64_t off, uint64_t npages);

void mig_go_encode(uint8_t b[MIG_GO_LEN], const struct mig_go *g);
int mig_go_decode(const uint8_t *b, size_t len, struct mig_go *g, char *why, size_t whylen);

/*
 * Blocking I/O on the stream's socket: the whole of it, or -errno
 * (-EPIPE: the peer closed the stream, -EAGAIN: the peer took or sent
 * nothing for the socket's timeout, or MIG_IDLE_MS). A write with
 * @deadline_ms (CLOCK_MONOTONIC, 0: none) gives up then: -ETIMEDOUT.
 */
#define MIG_IDLE_MS	30000
int mig_write_all(int fd, struct iovec *iov, int n, uint64_t deadline_ms);
int mig_read_all(int fd, void *buf, size_t len);
/* A record with a payload from one buffer (CRC computed here). */
int mig_send(int fd, uint32_t type, const void *payload, size_t len, uint64_t deadline_ms);
/* A record header from @fd, decoded and checked. */
int mig_recv_rec(int fd, uint64_t mem_size, struct mig_rec *r, char *why, size_t whylen);
/* DISK's header: the range must be sector-aligned and its data length match @len. */
struct mig_disk {
	uint32_t disk, flags;
	uint64_t offset, len;
};
void mig_disk_encode(uint8_t b[MIG_DISK_HDR], const struct mig_disk *d);
int mig_disk_decode(const uint8_t b[MIG_DISK_HDR], uint64_t len, struct mig_disk *d, char *why,
		    size_t whylen);

/*
 * The order the destination takes records in: STATE_PRE first, then
 * PAGES and ZERO (and DISK, replicating), one STATE, END; replicating,
 * then HEARTBEATs and checkpoints (CKPT, PAGES/ZERO/DISK, one STATE, END).
 * 0, or -EPROTO with why.
 */
enum mig_phase { MIG_PH_START, MIG_PH_SYNC, MIG_PH_SYNC_STATE, MIG_PH_IDLE, MIG_PH_CKPT,
		 MIG_PH_CKPT_STATE, MIG_PH_END };
struct mig_order {
	bool replication;
	enum mig_phase phase;
};
int mig_order_check(struct mig_order *o, uint32_t type, char *why, size_t whylen);

/* What a failed read or write says: "the stream was cut", ... */
const char *mig_io_error(int err);

#endif
