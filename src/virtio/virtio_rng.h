/* SPDX-License-Identifier: MIT */
#ifndef HUSK_VIRTIO_RNG_H
#define HUSK_VIRTIO_RNG_H

#include "virtio/virtio_transport.h"

/* virtio-rng (virtio 1.2, 5.4) fed from getrandom(), rate-limited: see virtio_rng.c. */
struct virtio_rng;
int virtio_rng_create(const struct virtio_env *env, struct virtio_rng **out);
void virtio_rng_destroy(struct virtio_rng *rng);
struct virtio_dev *virtio_rng_dev(struct virtio_rng *rng);
/* VM pause: park the I/O thread / release it. */
void virtio_rng_pause(struct virtio_rng *rng);
void virtio_rng_resume(struct virtio_rng *rng);

#endif
