# shellcheck shell=bash disable=SC2034
# virtio-rng over the virtio-mmio v2 transport. husk describes the device in
# the DSDT (LNRO0005, which Debian's virtio_mmio binds: it is built without
# CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES) and on the command line
# (virtio_mmio.device=4K@0xf0000000:5, for kernels without ACPI); the inner
# guest loads virtio_mmio and virtio-rng and reads 64 bytes from /dev/hwrng.
# Same guest script and checks as virtio-rng, plus the command line and no
# ACPI or virtio_mmio errors.
RNG_TRANSPORT=virtio_mmio
# shellcheck source-path=SCRIPTDIR source=12-virtio-rng.sh
source "$(dirname "${BASH_SOURCE[0]}")/12-virtio-rng.sh"
CASE_DESC="virtio-rng on virtio-mmio: described in ACPI (LNRO0005), bound by Linux, /dev/hwrng reads"
CASE_ARGS=(--virtio-transport mmio)

eval "pci_$(declare -f case_check)"
case_check() {
	pci_case_check
	expect_output '^CMDLINE=.* virtio_mmio\.device=4K@0xf0000000:5' "the cmdline announcing the device"
	expect_no_output 'ACPI (Error|Warning)|virtio_mmio.*(probe|failed)' "ACPI or virtio_mmio errors"
}
