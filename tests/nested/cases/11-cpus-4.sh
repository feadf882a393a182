# shellcheck shell=bash disable=SC2034
# Case 2b: --cpus 4 (see cpus.inc). The outer VM has one emulated CPU, so the
# four vCPU threads share it; the case only needs a little more time.
NCPUS=4
CASE_TIMEOUT=90
# shellcheck source-path=SCRIPTDIR source=cpus.inc
source "$(dirname "${BASH_SOURCE[0]}")/cpus.inc"
