# shellcheck shell=bash disable=SC2034
# Case 2a: --cpus 2 (see cpus.inc).
NCPUS=2
CASE_TIMEOUT=60
# shellcheck source-path=SCRIPTDIR source=cpus.inc
source "$(dirname "${BASH_SOURCE[0]}")/cpus.inc"
