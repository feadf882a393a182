// SPDX-License-Identifier: MIT
/* Snapshot and restore of a whole VM: the assembly (snapshot.h); the table is snap_devices.c. */
#include "state/snapshot.h"
#include "core/log.h"
#include "state/snapconfig.h"
#include "state/snapfile.h"
#include "state/snapuffd.h"
#include "virtio/virtio_net.h"
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void dev_tag(const struct snap_device *d, unsigned i, char tag[SNAP_TAG_MAX + 1])
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(tag, SNAP_TAG_MAX + 1, d->tag, i);
#pragma GCC diagnostic pop
}

/* Every device of @cfg must have save (or load): else "not supported yet". */
static int snap_check_supported(const struct snap_table *t, const struct husk_config *cfg,
				int loading, char *err, size_t errlen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		if (!d->count(cfg) || (loading ? d->load != NULL : d->save != NULL))
			continue;
		dev_tag(d, 0, tag);
		snprintf(err, errlen, "not supported yet: %s (section \"%s\") has no %s", d->what,
			 tag, loading ? "restore" : "snapshot");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int snap_build(const struct snap_table *t, struct husk_vm *vm, struct snap_builder *b,
		      char *err, size_t errlen)
{
	struct state_writer w;
	struct snap_host host;
	struct husk_config cfg;
	char tag[SNAP_TAG_MAX + 1];
	int ret;

	ret = snap_host_get(vm->kvm.supported, &host, err, errlen);
	if (ret)
		return ret;
	/*
	 * The MACs the guest was shown, not how they were derived: a default
	 * MAC comes from the tap's name, and a clone restored on another tap
	 * (network overrides) must keep the one its guest knows.
	 */
	cfg = vm->cfg;
	for (unsigned i = 0; i < cfg.nnets; i++) {
		if (!vm->nets[i])
			continue;
		virtio_net_mac(vm->nets[i], cfg.nets[i].mac);
		cfg.nets[i].mac_set = true;
	}
	sw_init(&w);
	ret = snap_config_save(&cfg, &w, err, errlen);
	if (!ret)
		snap_builder_add(b, "config", SNAP_CONFIG_VERSION, w.buf, w.len);
	sw_release(&w);
	if (ret)
		return ret;
	snap_host_save(&host, &w);
	snap_builder_add(b, "host", SNAP_HOST_VERSION, w.buf, w.len);
	sw_release(&w);
	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(&vm->cfg); i < n; i++) {
			dev_tag(d, i, tag);
			ret = d->save(vm, i, &w);
			if (!ret)
				snap_builder_add(b, tag, d->version, w.buf, w.len);
			sw_release(&w);
			if (ret) {
				snprintf(err, errlen, "section \"%s\": saving: %s", tag,
					 strerror(-ret));
				return ret;
			}
		}
	}
	if (b->err)
		snprintf(err, errlen, "building the state file: %s", strerror(-b->err));
	return b->err;
}

/*
 * Which pages a snapshot of @vm is to hold: NULL for all (Full), else the
 * pages written since the last snapshot, by the guest (KVM's dirty log)
 * and by husk's devices (guest_mem's bitmap). Either way the dirty state
 * starts over, so the next Diff is relative to this snapshot; on failure
 * the caller gives the pages back (snap_dirty_giveback).
 */
static int snap_dirty_take(struct husk_vm *vm, bool diff, uint64_t **out, char *err,
			   size_t errlen)
{
	uint64_t *bm;
	int ret;

	*out = NULL;
	if (diff && !vm->cfg.track_dirty) {
		snprintf(err, errlen, "Diff: this VM does not track dirty pages (boot it with "
			 "machine-config track_dirty_pages, or load it with track_dirty_pages)");
		return -EINVAL;
	}
	if (diff && !vm->dirty_base) {
		snprintf(err, errlen, "Diff: no snapshot of this VM to be a diff against yet: "
			 "take a Full one first");
		return -EINVAL;
	}
	if (!vm->cfg.track_dirty)
		return 0;
	bm = calloc(guest_mem_dirty_words(&vm->mem), sizeof(uint64_t));
	if (!bm) {
		snprintf(err, errlen, "dirty pages: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = kvm_dirty_log_take(&vm->kvm, &vm->mem, bm);
	if (ret) {
		free(bm);
		snprintf(err, errlen, "KVM_GET_DIRTY_LOG: %s", strerror(-ret));
		return ret;
	}
	guest_mem_dirty_take(&vm->mem, bm);
	*out = bm;
	return 0;
}

/* A failed snapshot: the pages it took are still dirty for the next one. */
static void snap_dirty_giveback(struct husk_vm *vm, const uint64_t *bm)
{
	if (!bm)
		return;
	for (size_t i = 0, n = guest_mem_dirty_words(&vm->mem); i < n; i++)
		if (bm[i])
			__atomic_fetch_or(&vm->mem.dirty[i], bm[i], __ATOMIC_RELAXED);
}

int vm_snapshot_save_table(const struct snap_table *t, struct husk_vm *vm, const char *path,
			   const char *mem_path, bool diff, char *err, size_t errlen)
{
	struct snap_builder b;
	char *mem_tmp = NULL, *tmp = NULL;
	uint64_t *dirty = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (!path || !*path || !mem_path || !*mem_path) {
		snprintf(err, errlen, "snapshot_path and mem_file_path are both required");
		return -EINVAL;
	}
	if (!strcmp(path, mem_path)) {
		snprintf(err, errlen, "snapshot %s: the state and memory files must differ", path);
		return -EINVAL;
	}
	if (!husk_vm_is_paused(vm)) {
		snprintf(err, errlen, "snapshot %s: the microVM must be paused first "
			 "(PATCH /vm {\"state\":\"Paused\"})", path);
		return -EBUSY;
	}
	ret = snap_check_supported(t, &vm->cfg, 0, err, errlen);
	if (ret)
		return ret;
	snap_builder_init(&b);
	ret = snap_build(t, vm, &b, err, errlen);
	if (!ret && (ret = snap_builder_finish(&b, &buf, &len)))
		snprintf(err, errlen, "snapshot %s: %s", path, strerror(-ret));
	snap_builder_release(&b);
	if (!ret)
		ret = snap_dirty_take(vm, diff, &dirty, err, errlen);
	if (!ret)
		ret = snap_write_temp(mem_path, "mem_file_path", vm->mem.hva, vm->mem.size, 1,
				      diff ? dirty : NULL, &mem_tmp, err, errlen);
	if (!ret)
		ret = snap_write_temp(path, "snapshot", buf, len, 0, NULL, &tmp, err, errlen);
	if (!ret)
		ret = snap_commit(mem_tmp, mem_path, "mem_file_path", err, errlen);
	else if (mem_tmp)
		unlink(mem_tmp);
	if (ret && tmp)
		unlink(tmp);
	else if (!ret && (ret = snap_commit(tmp, path, "snapshot", err, errlen)))
		unlink(mem_path);	/* a memory file without its state is of no use */
	if (ret)
		snap_dirty_giveback(vm, dirty);
	else
		vm->dirty_base = true;
	free(dirty);
	free(mem_tmp);
	free(tmp);
	free(buf);
	return ret;
}

static bool snap_tag_expected(const struct snap_table *t, const struct husk_config *cfg,
			      const char *tg)
{
	char tag[SNAP_TAG_MAX + 1];

	if (!strcmp(tg, "config") || !strcmp(tg, "host"))
		return true;
	for (unsigned k = 0; k < t->n; k++)
		for (unsigned i = 0, n = t->dev[k].count(cfg); i < n; i++) {
			dev_tag(&t->dev[k], i, tag);
			if (!strcmp(tag, tg))
				return true;
		}
	return false;
}

/* Every section is "config", "host" or a device of @cfg; every device has one. */
static int snap_check_sections(const struct snap_table *t, const struct snap_file *f,
			       const struct husk_config *cfg, char *why, size_t whylen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned j = 0; j < f->nsections; j++) {
		if (!snap_tag_expected(t, cfg, f->sections[j].tag)) {
			snprintf(why, whylen, "section \"%s\": unknown (not a device of this VM)",
				 f->sections[j].tag);
			return -EINVAL;
		}
	}
	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(cfg); i < n; i++) {
			const struct snap_section *s;

			dev_tag(d, i, tag);
			s = snap_find(f, tag);
			if (!s) {
				snprintf(why, whylen, "section \"%s\" (%s) is missing", tag, d->what);
				return -EINVAL;
			}
			if (s->version != d->version) {
				snprintf(why, whylen, "section \"%s\": version %u, this husk reads "
					 "version %u", tag, s->version, d->version);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * A parsed state file's "config" and "host", checked against this host
 * (and, with @devices, its sections against the device table): nothing
 * built yet. @what names the file in @err.
 */
static int snap_open_parsed(const struct snap_table *t, const char *what, struct snap_file *f,
			    bool devices, struct str_arena *arena, struct husk_config *cfg,
			    char *err, size_t errlen)
{
	const struct snap_section *cs, *hs;
	struct snap_host saved, here;
	struct state_reader r;
	char why[SNAP_WHY_LEN];
	int ret;

	cs = snap_find(f, "config");
	hs = snap_find(f, "host");
	if (!cs || !hs || cs->version != SNAP_CONFIG_VERSION || hs->version != SNAP_HOST_VERSION) {
		snprintf(err, errlen, "%s: section \"%s\": %s", what,
			 !cs || cs->version != SNAP_CONFIG_VERSION ? "config" : "host",
			 !cs || !hs ? "missing" : "unknown version");
		return -EINVAL;
	}
	r = snap_section_reader(f, cs);
	if (snap_config_load(&r, cfg, arena)) {
		snprintf(err, errlen, "%s: section \"config\": %s", what, r.why);
		return -EINVAL;
	}
	r = snap_section_reader(f, hs);
	if (snap_host_load(&r, &saved)) {
		snprintf(err, errlen, "%s: section \"host\": %s", what, r.why);
		return -EINVAL;
	}
	ret = devices ? snap_check_sections(t, f, cfg, why, sizeof(why)) : 0;
	if (!ret && (ret = snap_check_supported(t, cfg, 1, why, sizeof(why))) == 0 &&
	    (ret = snap_host_get(NULL, &here, why, sizeof(why))) == 0)
		ret = snap_host_check(&saved, &here, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "%s: %s", what, why);
	return ret;
}

static int snap_open(const struct snap_table *t, const char *path, struct snap_file *f,
		     struct str_arena *arena, struct husk_config *cfg, char *err, size_t errlen)
{
	char what[300];
	int ret;

	ret = snap_read_file(path, f, err, errlen);
	if (ret)
		return ret;
	snprintf(what, sizeof(what), "snapshot %s", path);
	return snap_open_parsed(t, what, f, true, arena, cfg, err, errlen);
}

static int snap_mem_check(const char *mem_path, uint64_t size, int *fdp, char *err,
			  size_t errlen)
{
	struct stat st;
	int fd = open(mem_path, O_RDONLY | O_CLOEXEC), ret;

	*fdp = -1;
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "memory file %s: %s", mem_path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		snprintf(err, errlen, "memory file %s: %s%llu bytes, the snapshot's VM has %llu",
			 mem_path, S_ISREG(st.st_mode) ? "" : "not a regular file, ",
			 (unsigned long long)st.st_size, (unsigned long long)size);
		close(fd);
		return -EINVAL;
	}
	*fdp = fd;
	return 0;
}

int snap_mem_load(struct guest_mem *m, const char *mem_path, char *err, size_t errlen)
{
	int fd, ret = snap_mem_check(mem_path, m->size, &fd, err, errlen);

	if (ret)
		return ret;
	/* lazy: pages come from the page cache when first touched, writes stay private */
	if (!m->hugepages && mmap(m->hva, m->size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, 0) == m->hva) {
		m->file_private = true;
		close(fd);
		return 0;
	}
	for (uint64_t off = 0; off < m->size;) {
		ssize_t n = pread(fd, m->hva + off, m->size - off, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			snprintf(err, errlen, "memory file %s: reading at byte %llu: %s", mem_path,
				 (unsigned long long)off, n < 0 ? strerror(-ret) : "it shrank");
			close(fd);
			return ret;
		}
		off += (uint64_t)n;
	}
	close(fd);
	return 0;
}

static int snap_load_devices(const struct snap_table *t, struct husk_vm *vm,
			     const struct snap_file *f, const char *what, char *err, size_t errlen)
{
	char tag[SNAP_TAG_MAX + 1];

	for (unsigned k = 0; k < t->n; k++) {
		const struct snap_device *d = &t->dev[k];

		for (unsigned i = 0, n = d->count(&vm->cfg); i < n; i++) {
			struct state_reader r;

			dev_tag(d, i, tag);
			r = snap_section_reader(f, snap_find(f, tag));
			if (d->load(vm, i, &r)) {
				snprintf(err, errlen, "%s: section \"%s\": %s", what, tag,
					 r.why[0] ? r.why : "invalid");
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* The id a disk or NIC answers to: its own, or the default the VM gives it. */
static bool id_is(const char *id, const char *prefix, unsigned i, const char *want)
{
	char def[16];

	if (id)
		return !strcmp(id, want);
	snprintf(def, sizeof(def), "%s%u", prefix, i);
	return !strcmp(def, want);
}

int snap_apply_overrides(const struct snap_restore_opts *o, struct husk_config *c, char *err,
			 size_t errlen)
{
	c->sandbox = o->sandbox;	/* the restoring process's filters, never the saved one's */
	if (o->serial)
		c->serial = o->serial;
	for (unsigned k = 0; k < o->nnets; k++) {
		const struct snap_net_override *n = &o->nets[k];
		unsigned i = 0;

		while (i < c->nnets && !id_is(c->nets[i].id, "net", i, n->iface_id))
			i++;
		if (i == c->nnets) {
			snprintf(err, errlen, "network override: the snapshot has no interface \"%s\"",
				 n->iface_id);
			return -EINVAL;
		}
		c->nets[i].tap = n->host_dev_name;
		c->nets[i].fd = -1;
	}
	for (unsigned k = 0; k < o->ndrives; k++) {
		const struct snap_drive_override *d = &o->drives[k];
		unsigned i = 0;

		while (i < c->ndisks && !id_is(c->disks[i].id, "disk", i, d->drive_id))
			i++;
		if (i == c->ndisks) {
			snprintf(err, errlen, "drive override: the snapshot has no drive \"%s\"",
				 d->drive_id);
			return -EINVAL;
		}
		if (d->path)
			c->disks[i].path = d->path;
		if (d->readonly >= 0)
			c->disks[i].readonly = d->readonly;
	}
	return 0;
}

int vm_snapshot_restore_table(const struct snap_table *t, const char *path, const char *mem_path,
			      const struct snap_restore_opts *opts, struct str_arena *arena,
			      struct husk_config *cfg, struct husk_vm **out, char *err,
			      size_t errlen)
{
	const char *uffd = opts ? opts->uffd_sock : NULL;
	struct timespec t0, t1;
	struct husk_config c;
	struct snap_file f;
	struct husk_vm *vm = NULL;
	int fd, ret;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = snap_open(t, path, &f, arena, &c, err, errlen);
	if (!ret && opts)
		ret = snap_apply_overrides(opts, &c, err, errlen);
	if (!ret && opts && opts->track_dirty)
		c.track_dirty = true;
	if (!ret && !uffd)
		ret = snap_mem_check(mem_path, c.memory, &fd, err, errlen);
	if (!ret && !uffd)
		close(fd);
	if (!ret) {
		c.restore = true;
		ret = husk_vm_create(&c, &vm, err, errlen);
	}
	if (!ret) {
		vm->restore_clock_realtime = opts && opts->clock_realtime;
		vm->dirty_base = true;	/* a Diff of it is relative to this snapshot */
		ret = uffd ? snap_mem_uffd(&vm->mem, uffd, &vm->mem.uffd, err, errlen) :
			     snap_mem_load(&vm->mem, mem_path, err, errlen);
	}
	if (!ret) {
		char what[300];

		snprintf(what, sizeof(what), "snapshot %s", path);
		ret = snap_load_devices(t, vm, &f, what, err, errlen);
		if (!ret)
			vm_resignal_virtio(vm);
	}
	/* the restored VM is a copy: a new generation ID tells the guest so */
	if (!ret && (ret = vmgenid_new(vm->vmgenid)))
		snprintf(err, errlen, "snapshot %s: a new VM generation ID: %s", path,
			 strerror(-ret));
	snap_file_free(&f);
	if (ret) {
		husk_vm_destroy(vm);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pr_info("snapshot %s restored in %.1f ms (memory %s%s)", path,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		uffd ? "from the handler on " : "mapped from ", uffd ? uffd : mem_path);
	*cfg = c;
	*out = vm;
	return 0;
}

int vm_snapshot_save(struct husk_vm *vm, const char *path, const char *mem_path, bool diff,
		     char *err, size_t errlen)
{
	return vm_snapshot_save_table(&snap_default_table, vm, path, mem_path, diff, err, errlen);
}

int vm_snapshot_restore(const char *path, const char *mem_path,
			const struct snap_restore_opts *opts, struct str_arena *arena,
			struct husk_config *cfg, struct husk_vm **out, char *err, size_t errlen)
{
	return vm_snapshot_restore_table(&snap_default_table, path, mem_path, opts, arena, cfg,
					 out, err, errlen);
}

/* ---- the same sections on a stream (migration/) ---------------------- */

int snap_state_encode(struct husk_vm *vm, bool devices, uint8_t **buf, size_t *len, char *err,
		      size_t errlen)
{
	const struct snap_table none = { .dev = snap_default_table.dev, .n = 0 };
	const struct snap_table *t = devices ? &snap_default_table : &none;
	struct snap_builder b;
	int ret;

	*buf = NULL;
	*len = 0;
	ret = devices ? snap_check_supported(t, &vm->cfg, 0, err, errlen) : 0;
	if (ret)
		return ret;
	snap_builder_init(&b);
	ret = snap_build(t, vm, &b, err, errlen);
	if (!ret && (ret = snap_builder_finish(&b, buf, len)))
		snprintf(err, errlen, "building the state: %s", strerror(-ret));
	snap_builder_release(&b);
	return ret;
}

int snap_state_decode(uint8_t *buf, size_t len, const char *what, bool devices,
		      struct snap_file *f, struct str_arena *arena, struct husk_config *cfg,
		      char *err, size_t errlen)
{
	char why[SNAP_WHY_LEN];

	if (snap_parse(buf, len, f, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", what, why);
		return -EINVAL;
	}
	return snap_open_parsed(&snap_default_table, what, f, devices, arena, cfg, err, errlen);
}

int snap_state_load(struct husk_vm *vm, const struct snap_file *f, const char *what, char *err,
		    size_t errlen)
{
	int ret = snap_load_devices(&snap_default_table, vm, f, what, err, errlen);

	if (!ret)
		vm_resignal_virtio(vm);
	return ret;
}
