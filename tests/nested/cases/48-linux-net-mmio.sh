# shellcheck shell=bash disable=SC2034
# virtio-net over virtio-mmio (--virtio-transport mmio): the same guest script
# and checks as linux-net, with virtio_mmio instead of virtio_pci loaded.
# shellcheck source-path=SCRIPTDIR source=46-linux-net.sh
source "$(dirname "${BASH_SOURCE[0]}")/46-linux-net.sh"
CASE_DESC="virtio-net on virtio-mmio: Linux's virtio_net pings the outer VM over the tap"
CASE_ARGS=(--virtio-transport mmio --net tap=tap0)
NET_TRANSPORT_MODULE=virtio_mmio
