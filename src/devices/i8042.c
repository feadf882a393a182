// SPDX-License-Identifier: MIT
/*
 * A minimal i8042 keyboard controller: port 0x60 (data) and 0x64 (status
 * on read, command on write). Port 0x61 is KVM's (KVM_CREATE_PIT2 emulates
 * it in the kernel), so it is not ours.
 *
 * It exists so that Linux's i8042 probe finishes quickly and quietly and so
 * that reboot=k works: command 0xfe (pulse the reset line) stops the VM.
 * There is no keyboard and no AUX (mouse) device and no interrupt line:
 * bytes written for the keyboard are dropped, and the controller never
 * produces keyboard data of its own.
 *
 * Linux's AUX probe runs the AUX loopback (0xd3) and, when that fails, the
 * AUX interface test (0xa9). Our loopback answers as keyboard data (no AUX
 * bit in the status), which Linux takes as "no AUX data", and the interface
 * test reports 0x02 (clock line stuck high), so Linux concludes there is no
 * AUX port at once instead of waiting for timeouts.
 */
#include "devices/devices.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64

#define STR_OBF			0x01	/* output buffer full */
#define STR_SYS			0x04	/* system flag: self-test passed */
#define STR_CMD			0x08	/* last write was a command */
#define STR_UNLOCKED		0x10	/* keylock off */
#define STR_AUXDATA		0x20	/* output buffer holds AUX data */

#define CTR_KBDINT		0x01
#define CTR_SYS			0x04
#define CTR_KBDDIS		0x10
#define CTR_AUXDIS		0x20
#define CTR_XLATE		0x40

#define CMD_READ_CTR		0x20
#define CMD_WRITE_CTR		0x60
#define CMD_AUX_DISABLE		0xa7
#define CMD_AUX_ENABLE		0xa8
#define CMD_AUX_TEST		0xa9
#define CMD_SELF_TEST		0xaa
#define CMD_KBD_TEST		0xab
#define CMD_KBD_DISABLE		0xad
#define CMD_KBD_ENABLE		0xae
#define CMD_READ_INPUT		0xc0
#define CMD_READ_OUTPORT	0xd0
#define CMD_WRITE_OUTPORT	0xd1
#define CMD_KBD_LOOP		0xd2
#define CMD_AUX_LOOP		0xd3
#define CMD_AUX_SEND		0xd4
#define CMD_PULSE_FIRST		0xf0	/* 0xf0-0xff: pulse output lines */

#define SELF_TEST_OK		0x55
#define KBD_TEST_OK		0x00
#define AUX_TEST_CLOCK_HIGH	0x02
#define OUTPORT_RESET		0x01	/* low: CPU held in reset */
#define OUTPORT_A20		0x02

/* Guest-visible state: plain data, saved and restored as a whole. */
struct i8042_state {
	uint8_t status;
	uint8_t ctr;		/* controller command byte */
	uint8_t outport;
	uint8_t obuf;		/* output buffer (valid while STR_OBF) */
	uint8_t pending;	/* command waiting for its data byte, 0 if none */
};

struct i8042 {
	pthread_mutex_t lock;
	struct i8042_state st;
	struct io_bus *pio;
	struct stop_hook stop;
};

static void i8042_reply(struct i8042_state *st, uint8_t v, bool aux)
{
	st->obuf = v;
	st->status |= STR_OBF;
	if (aux)
		st->status |= STR_AUXDATA;
	else
		st->status &= ~STR_AUXDATA;
}

/* Returns true when the guest asked for a reset. */
static bool i8042_write_outport(struct i8042_state *st, uint8_t v)
{
	st->outport = v;
	return !(v & OUTPORT_RESET);
}

/* A data byte that completes a pending command. */
static bool i8042_command_data(struct i8042_state *st, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case CMD_WRITE_CTR:
		st->ctr = v;
		if (v & CTR_SYS)
			st->status |= STR_SYS;
		else
			st->status &= ~STR_SYS;
		break;
	case CMD_WRITE_OUTPORT:
		return i8042_write_outport(st, v);
	case CMD_KBD_LOOP:
		i8042_reply(st, v, false);
		break;
	case CMD_AUX_LOOP:
		i8042_reply(st, v, false);	/* no AUX: see the top of the file */
		break;
	default:			/* AUX send, controller RAM: dropped */
		break;
	}
	return false;
}

static bool i8042_takes_data(uint8_t cmd)
{
	return (cmd >= CMD_WRITE_CTR && cmd <= 0x7f) || cmd == CMD_WRITE_OUTPORT ||
	       cmd == CMD_KBD_LOOP || cmd == CMD_AUX_LOOP || cmd == CMD_AUX_SEND;
}

/* Returns true when the guest asked for a reset. */
static bool i8042_command(struct i8042_state *st, uint8_t cmd)
{
	st->status |= STR_CMD;
	st->pending = 0;
	if (i8042_takes_data(cmd)) {
		st->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE_FIRST)
		return !(cmd & OUTPORT_RESET);	/* 0xfe: pulse reset */
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_reply(st, st->ctr, false);
		break;
	case CMD_AUX_DISABLE:
		st->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		st->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
		i8042_reply(st, AUX_TEST_CLOCK_HIGH, false);
		break;
	case CMD_SELF_TEST:
		st->status |= STR_SYS;
		i8042_reply(st, SELF_TEST_OK, false);
		break;
	case CMD_KBD_TEST:
		i8042_reply(st, KBD_TEST_OK, false);
		break;
	case CMD_KBD_DISABLE:
		st->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		st->ctr &= ~CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		i8042_reply(st, 0x00, false);
		break;
	case CMD_READ_OUTPORT:
		i8042_reply(st, st->outport, false);
		break;
	default:
		if (cmd > CMD_READ_CTR && cmd < CMD_WRITE_CTR)
			i8042_reply(st, 0x00, false);	/* controller RAM reads */
		break;
	}
	return false;
}

/* Returns true when the guest asked for a reset. */
static bool i8042_write_data(struct i8042_state *st, uint8_t v)
{
	uint8_t cmd = st->pending;

	st->status &= ~STR_CMD;
	st->pending = 0;
	if (cmd)
		return i8042_command_data(st, cmd, v);
	return false;		/* a keyboard command: there is no keyboard */
}

static uint8_t i8042_read_data(struct i8042_state *st)
{
	st->status &= ~(STR_OBF | STR_AUXDATA);
	return st->obuf;
}

static void i8042_reset_request(struct i8042 *k)
{
	pr_debug("i8042: guest requested a reset");
	stop_hook_request(&k->stop, STOP_RESET_I8042, 0);
}

static void i8042_fill(uint8_t *data, uint32_t len, uint8_t v)
{
	if (!len)
		return;
	data[0] = v;
	if (len > 1)
		memset(data + 1, 0xff, len - 1);
}

static void i8042_data_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	(void)offset;
	pthread_mutex_lock(&k->lock);
	v = i8042_read_data(&k->st);
	pthread_mutex_unlock(&k->lock);
	i8042_fill(data, len, v);
}

static void i8042_data_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	(void)offset;
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	reset = i8042_write_data(&k->st, data[0]);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042_reset_request(k);
}

static void i8042_status_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	uint8_t v;

	(void)offset;
	pthread_mutex_lock(&k->lock);
	v = k->st.status;
	pthread_mutex_unlock(&k->lock);
	i8042_fill(data, len, v);
}

static void i8042_cmd_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct i8042 *k = opaque;
	bool reset;

	(void)offset;
	if (!len)
		return;
	pthread_mutex_lock(&k->lock);
	reset = i8042_command(&k->st, data[0]);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		i8042_reset_request(k);
}

static const struct io_region_ops i8042_data_ops = {
	.read = i8042_data_read,
	.write = i8042_data_write,
};

static const struct io_region_ops i8042_cmd_ops = {
	.read = i8042_status_read,
	.write = i8042_cmd_write,
};

static void i8042_reset(struct i8042_state *st)
{
	memset(st, 0, sizeof(*st));
	st->status = STR_SYS | STR_UNLOCKED;
	st->ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE;
	st->outport = OUTPORT_RESET | OUTPORT_A20;
}

struct i8042 *i8042_create(struct io_bus *pio, const struct stop_hook *stop)
{
	struct i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return NULL;
	i8042_reset(&k->st);
	k->pio = pio;
	if (stop)
		k->stop = *stop;
	ret = pthread_mutex_init(&k->lock, NULL);
	if (ret)
		goto fail_free;
	ret = -iobus_register(pio, I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042 data");
	if (ret)
		goto fail_mutex;
	ret = -iobus_register(pio, I8042_CMD_PORT, 1, &i8042_cmd_ops, k, "i8042 cmd");
	if (ret) {
		iobus_unregister(pio, I8042_DATA_PORT);
		goto fail_mutex;
	}
	return k;

fail_mutex:
	pthread_mutex_destroy(&k->lock);
fail_free:
	free(k);
	errno = ret;
	return NULL;
}

/* Call only once no vCPU can be inside the handlers (vCPUs stopped). */
void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	iobus_unregister(k->pio, I8042_CMD_PORT);
	iobus_unregister(k->pio, I8042_DATA_PORT);
	pthread_mutex_destroy(&k->lock);
	free(k);
}

/* Status bits the model can set; the rest (input full, timeout, parity) stay 0. */
#define STR_KNOWN	(STR_OBF | STR_SYS | STR_CMD | STR_UNLOCKED | STR_AUXDATA)

/* Saved state, field by field (core/statebuf.h). */
int i8042_save(struct i8042 *k, struct state_writer *w)
{
	struct i8042_state st;

	pthread_mutex_lock(&k->lock);
	st = k->st;
	pthread_mutex_unlock(&k->lock);
	sw_u8(w, st.status);
	sw_u8(w, st.ctr);
	sw_u8(w, st.outport);
	sw_u8(w, st.obuf);
	sw_u8(w, st.pending);
	return w->err;
}

int i8042_load(struct i8042 *k, struct state_reader *r)
{
	struct i8042_state st;

	st.status = sr_u8(r);
	st.ctr = sr_u8(r);
	st.outport = sr_u8(r);
	st.obuf = sr_u8(r);
	st.pending = sr_u8(r);
	if (sr_done(r))
		return r->err;
	if (st.status & ~STR_KNOWN)
		return sr_fail(r, "i8042: status 0x%02x has bits the controller never sets",
			       st.status);
	if ((st.status & STR_AUXDATA) && !(st.status & STR_OBF))
		return sr_fail(r, "i8042: status 0x%02x: AUX data without a full buffer",
			       st.status);
	if (st.pending && !i8042_takes_data(st.pending))
		return sr_fail(r, "i8042: pending command 0x%02x takes no data byte", st.pending);
	pthread_mutex_lock(&k->lock);
	k->st = st;
	pthread_mutex_unlock(&k->lock);
	return 0;
}
