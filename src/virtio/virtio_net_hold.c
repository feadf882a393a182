// SPDX-License-Identifier: MIT
/*
 * Output commit for replication (virtio_net.h, virtio_net_hold_*): while a
 * VM is replicated, the frames its guest sends are held here, each tagged
 * with the checkpoint epoch it belongs to, and written to the tap only
 * once the standby has that checkpoint: the outside world never sees a
 * frame from a state a failover would lose. The guest sees its TX complete
 * at once (as on a link that queues). Beyond NET_HOLD_MAX bytes held, frames
 * are dropped and counted, as a saturated link would (TCP sends again).
 */
#include "virtio/virtio_net_internal.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define NET_HOLD_MAX (16u << 20)

struct held_frame {
	struct held_frame *next;
	uint64_t epoch;
	size_t len;
	uint8_t data[];		/* the vnet header and the frame */
};

struct net_hold {
	pthread_mutex_t lock;
	bool active;			/* between hold_start and hold_stop */
	uint64_t epoch;			/* of frames sent from now on */
	struct held_frame *head, **tail;
	size_t bytes;
	uint64_t dropped;
};

bool net_hold_frame(struct virtio_net *net, const struct iovec *iov, unsigned n)
{
	struct net_hold *h = __atomic_load_n(&net->hold, __ATOMIC_ACQUIRE);
	struct held_frame *f;
	size_t len = 0, off = 0;

	if (!h)
		return false;
	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	pthread_mutex_lock(&h->lock);
	if (!h->active) {
		pthread_mutex_unlock(&h->lock);
		return false;
	}
	if (h->bytes + len > NET_HOLD_MAX || !(f = malloc(sizeof(*f) + len))) {
		h->dropped++;
		pthread_mutex_unlock(&h->lock);
		return true;
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(f->data + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	f->len = len;
	f->epoch = h->epoch;
	f->next = NULL;
	*h->tail = f;
	h->tail = &f->next;
	h->bytes += len;
	pthread_mutex_unlock(&h->lock);
	return true;
}

int virtio_net_hold_start(struct virtio_net *net, uint64_t epoch)
{
	struct net_hold *h = net->hold;

	if (!h) {
		/* kept until the device goes: a pair thread may hold a pointer to it */
		h = calloc(1, sizeof(*h));
		if (!h)
			return -ENOMEM;
		pthread_mutex_init(&h->lock, NULL);
		h->tail = &h->head;
		__atomic_store_n(&net->hold, h, __ATOMIC_RELEASE);
	}
	pthread_mutex_lock(&h->lock);
	h->epoch = epoch;
	h->dropped = 0;
	h->active = true;
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void virtio_net_hold_epoch(struct virtio_net *net, uint64_t epoch)
{
	struct net_hold *h = net->hold;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->epoch = epoch;
	pthread_mutex_unlock(&h->lock);
}

/* Write out and free the frames of epochs <= @upto (all: UINT64_MAX). */
static void release(struct virtio_net *net, struct net_hold *h, uint64_t upto)
{
	struct held_frame *list, *f;

	pthread_mutex_lock(&h->lock);
	list = h->head;
	f = NULL;
	/* detach the released prefix; frames are in epoch order */
	while (h->head && h->head->epoch <= upto) {
		f = h->head;
		h->head = f->next;
		h->bytes -= f->len;
	}
	if (!h->head)
		h->tail = &h->head;
	if (f)
		f->next = NULL;
	else
		list = NULL;
	pthread_mutex_unlock(&h->lock);
	while (list) {
		f = list;
		list = f->next;
		/* a full tap queue drops the frame, as the engine's TX would */
		if (write(net->tap.fds[0], f->data, f->len) < 0)
			pr_debug("%s: a held frame: %s", net->name, strerror(errno));
		free(f);
	}
}

void virtio_net_hold_release(struct virtio_net *net, uint64_t upto)
{
	if (net->hold)
		release(net, net->hold, upto);
}

uint64_t virtio_net_hold_stop(struct virtio_net *net)
{
	struct net_hold *h = net->hold;
	uint64_t dropped;

	if (!h)
		return 0;
	/* frames the guest sends from now on go to the tap */
	pthread_mutex_lock(&h->lock);
	h->active = false;
	dropped = h->dropped;
	pthread_mutex_unlock(&h->lock);
	release(net, h, UINT64_MAX);
	return dropped;
}

void net_hold_free(struct virtio_net *net)
{
	struct net_hold *h = net->hold;

	if (!h)
		return;
	while (h->head) {
		struct held_frame *f = h->head;

		h->head = f->next;
		free(f);
	}
	pthread_mutex_destroy(&h->lock);
	free(h);
	net->hold = NULL;
}
