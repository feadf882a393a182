# shellcheck shell=bash disable=SC2034
# virtio-rng over the modern virtio-pci transport (on by default). The inner
# guest loads virtio_pci, virtio-rng and their dependencies (in order), then
# reads 64 bytes from /dev/hwrng. Checks: the device was bound (rng_current
# names virtio_rng), the read returned 64 bytes that are not all zero, and
# the guest powers off cleanly.
CASE_DESC="virtio-rng on virtio-pci: Linux binds it and reads /dev/hwrng"
CASE_TIMEOUT=60
CASE_INITRD=initrd
# the transport's module (13-virtio-rng-mmio.sh sets virtio_mmio before sourcing this)
RNG_TRANSPORT=${RNG_TRANSPORT:-virtio_pci}

case_prepare() {
	local dir=$1 mods f
	mods=$(mktemp -d)
	: >"$dir/body"
	while read -r f; do
		f=$(basename "${f%%.ko*}")
		nested_ko_cat "$(nested_module_file "$f")" >"$mods/$f.ko"
		echo "insmod /$f.ko" >>"$dir/body"
	done < <(nested_resolve_modules "$RNG_TRANSPORT" virtio_rng)
	cat >>"$dir/body" <<'INIT'
echo "CMDLINE=$(cat /proc/cmdline)"
# up to 30 s: under TCG the probe of a virtio-mmio device took over 5 s once
i=0
while { [ ! -e /dev/hwrng ] || ! grep -q virtio_rng /sys/class/misc/hw_random/rng_current; } &&
	[ $i -lt 300 ]; do
	[ -e /sys/class/misc/hw_random/dev ] && [ ! -e /dev/hwrng ] && mknod /dev/hwrng c 10 183
	sleep 0.1
	i=$((i + 1))
done
echo "RNG-WAITED=${i}"
echo "RNG-CURRENT=$(cat /sys/class/misc/hw_random/rng_current)"
n=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -s ' \n' '\n\n' | grep -c .)
nz=$(dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -s ' \n' '\n\n' | grep . | grep -vc '^00$')
echo "RNG-BYTES=$n RNG-NONZERO=$nz"
[ "$nz" -gt 0 ] && echo "NESTED-RNG-OK"
poweroff -f
INIT
	nested_inner_initrd "$dir/initrd" "$dir/body"
	nested_cpio "$mods" "$mods.cpio"
	cat "$mods.cpio" >>"$dir/initrd"
	rm -rf "$mods" "$mods.cpio" "$dir/body"
}

case_check() {
	expect_rc 0
	expect_output '^RNG-CURRENT=virtio_rng' "rng_current names virtio_rng"
	expect_output '^RNG-BYTES=64 ' "64 bytes read from /dev/hwrng"
	expect_output '^NESTED-RNG-OK' "the bytes are not all zero"
}
