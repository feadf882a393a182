# shellcheck shell=bash disable=SC2034
# Case 4: the guest's dmesg has no ACPI errors or warnings and no MSR noise
# (an MSR access that faulted where the kernel did not expect it). The guest
# prints its whole dmesg between markers; the host greps it. The outer
# kernel's log is checked too: KVM logs the MSRs it did not handle, except
# the legacy AMD performance counters (0xc0010000-0xc0010007), which the
# guest probes with the fault-safe accessors and which KVM only offers when
# the host has a PMU (the emulated outer CPU has none).
CASE_DESC="no ACPI errors/warnings and no unchecked/unhandled MSR lines in the guest's dmesg"
CASE_TIMEOUT=60
CASE_ARGS=(--cpus 2)

case_init() {
	cat <<'INIT'
echo "NESTED-DMESG-BEGIN"
dmesg
echo "NESTED-DMESG-END"
poweroff -f
INIT
}

case_check() {
	sed -n '/^NESTED-DMESG-BEGIN$/,/^NESTED-DMESG-END$/p' output.log >guest-dmesg.log
	if ! grep -q '^NESTED-DMESG-END$' guest-dmesg.log; then
		check_fail "the guest did not print its dmesg"
	fi
	expect_no_output 'ACPI (BIOS )?(Error|Warning)|ACPI:.*(Error|Warning):' "ACPI errors/warnings" guest-dmesg.log
	expect_no_output 'unchecked MSR|[Uu]nhandled (RD|WR|rd|wr)[Mm][Ss][Rr]|ignored (rd|wr)msr' "MSR noise" guest-dmesg.log
	grep -E '[Uu]nhandled (RD|WR|rd|wr)[Mm][Ss][Rr]' outer-dmesg.log |
		grep -vE '(RD|WR|rd|wr)[Mm][Ss][Rr]\(?(0x)?c001000[0-7]\b' >outer-msr.log || true
	expect_no_output '.' "MSRs KVM did not handle" outer-msr.log
}
