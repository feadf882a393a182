# shellcheck shell=bash disable=SC2034
# virtio-net with 2 queue pairs (--net tap=tap0,queues=2, a multi-queue tap)
# and 2 vCPUs: Linux's virtio_net negotiates MQ and sends VQ_PAIRS_SET 2 on
# the control queue at probe. Same guest script and checks as linux-net, plus:
# the driver set up two RX and two TX queues and husk saw VQ_PAIRS_SET 2
# (its debug log).
# shellcheck source-path=SCRIPTDIR source=46-linux-net.sh
source "$(dirname "${BASH_SOURCE[0]}")/46-linux-net.sh"
CASE_DESC="virtio-net, 2 queue pairs, 2 vCPUs: MQ + VQ_PAIRS_SET with Linux, ping over the tap"
CASE_ARGS=(--cpus 2 --net tap=tap0,queues=2 --log-level debug)

eval "single_$(declare -f case_check)"
case_check() {
	single_case_check
	expect_output '^NET-QUEUES=rx-0 rx-1 tx-0 tx-1 ' "two RX and two TX queues on eth0"
	expect_output '^husk: .*net0: the driver uses 2 of 2 queue pairs' "VQ_PAIRS_SET 2 from the driver"
}
