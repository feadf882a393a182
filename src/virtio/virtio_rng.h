/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_RNG_H
#define HUSK_VIRTIO_RNG_H

#include "virtio/virtio_transport.h"

/* virtio-rng (virtio 1.2, 5.4) fed from getrandom(), rate-limited: see virtio_rng.c. */
struct virtio_rng;
struct virtio_transport;
int virtio_rng_create(const struct virtio_env *env, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *rng);
struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng);
/* Its transport (snapshots save the transport's state apart). */
struct virtio_transport *virtio_rng_transport(struct virtio_rng *rng);
/* VM pause: park the I/O thread / release it. */
void virtio_rng_pause(struct virtio_rng *rng);
void virtio_rng_resume(struct virtio_rng *rng);

/*
 * Saved state (core/statebuf.h): the virtio core and the rate limiter's
 * tokens. The pause puts a chain that waits for tokens back in the avail
 * ring; a save of a started device that is not paused is -EBUSY. Load
 * refuses more tokens than the bucket holds and restarts the I/O thread
 * when the device was running.
 */
#define VIRTIO_RNG_STATE_VERSION	1
struct state_reader;
struct state_writer;
int virtio_rng_save(struct virtio_rng *rng, struct state_writer *w);
int virtio_rng_load(struct virtio_rng *rng, struct state_reader *r);

#endif
