# shellcheck shell=bash disable=SC2034
# Case 15: Firecracker's flow on a real guest. husk starts with only
# --api-sock (CASE_API_BOOT: no kernel flags) and waits; a driver in the outer
# VM (api-client; the outer VM has no curl) sends PUT /boot-source (kernel,
# initrd, boot_args), PUT /machine-config (2 vCPUs, 256 MiB), PUT
# /drives/rootfs, then InstanceStart. Checks: every call answered 204, a
# pre-boot call after the start is 400, GET /vm/config shows the config, the
# guest sees 2 CPUs and the command line given through the API with
# root=/dev/vda rw after it (the drive is is_root_device, as in Firecracker),
# powers off, and husk exits 0.
CASE_DESC="API: boot-source, machine-config, drives, InstanceStart boot Linux; pre-boot call after it is 400"
CASE_TIMEOUT=120
CASE_API_BOOT=1
CASE_ARGS=(--api-sock /tmp/husk-api-boot.sock --events /dev/stderr)

case_prepare() {
	local dir=$1
	cp "$BUILD_DIR/tests/api-client" "$dir/api-client"
	# shellcheck disable=SC2016 # runs in the outer VM
	cat >"$dir/driver" <<'DRIVER'
dir=$1 log=$2
S=/tmp/husk-api-boot.sock
C="$dir/api-client $S"
say() { echo "| DRIVER $*"; }
kernel=$(sed -n 1p "$dir/boot") initrd=$(sed -n 2p "$dir/boot") cmdline=$(sed -n 3p "$dir/boot")
until [ -S $S ]; do usleep 100000; done
dd if=/dev/zero of=/tmp/rootfs.img bs=1M count=4 2>/dev/null
say "info: $($C GET /)"
say "boot-source: $($C PUT /boot-source "{\"kernel_image_path\":\"$kernel\",\"initrd_path\":\"$initrd\",\"boot_args\":\"$cmdline\"}")"
say "machine-config: $($C PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256,"smt":false}')"
say "drives: $($C PUT /drives/rootfs '{"drive_id":"rootfs","path_on_host":"/tmp/rootfs.img","is_root_device":true,"is_read_only":false}')"
say "start: $($C PUT /actions '{"action_type":"InstanceStart"}')"
say "after: $($C PUT /boot-source "{\"kernel_image_path\":\"$kernel\"}")"
say "config: $($C GET /vm/config | head -c 120)"
DRIVER
}

case_init() {
	cat <<'INIT'
echo "CPUS=$(grep -c ^processor /proc/cpuinfo)"
echo "CMDLINE=$(cat /proc/cmdline)"
sleep 2
poweroff -f
INIT
}

case_check() {
	expect_rc 0
	expect_output '^DRIVER info: 200 .*"state":"Not started"' "GET / saying Not started"
	expect_output '^DRIVER boot-source: 204' "204 for PUT /boot-source"
	expect_output '^DRIVER machine-config: 204' "204 for PUT /machine-config"
	expect_output '^DRIVER drives: 204' "204 for PUT /drives/rootfs"
	expect_output '^DRIVER start: 204' "204 for InstanceStart"
	expect_output '^DRIVER after: 400 .*not supported after starting' "400 for a pre-boot call after the start"
	expect_output '^DRIVER config: 200 \{"boot-source":\{"kernel_image_path":"/nested/vmlinuz"' "GET /vm/config"
	expect_value CPUS 2
	expect_value CMDLINE "$CASE_CMDLINE root=/dev/vda rw"
	expect_output '^husk: .*guest powered off' "'guest powered off' from husk"
	expect_output '"event":"shutdown","reason":"guest powered off","exit_status":0' "the shutdown event"
}
