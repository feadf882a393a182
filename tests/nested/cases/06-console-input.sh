# shellcheck shell=bash disable=SC2034
# Case 5: console input. The guest starts a shell on its console and says so;
# the outer runner then writes a command into husk's stdin (a FIFO). The
# command's output (INPUT-42; the echoed command line reads INPUT-$((6*7)))
# must appear, then "exit" ends the shell and the guest powers off.
CASE_DESC="a command written to husk's stdin runs in the guest's shell (INPUT-42)"
CASE_TIMEOUT=60
CASE_INPUT_AFTER="NESTED-INPUT-READY"
CASE_INPUT=$'echo INPUT-$((6*7))\nexit\n'

case_init() {
	cat <<'INIT'
echo "NESTED-INPUT-READY"
setsid cttyhack sh
echo "NESTED-SHELL-EXITED"
poweroff -f
INIT
}

case_check() {
	expect_output 'INPUT-42$' "'INPUT-42' (the output of the command sent to stdin)"
	expect_output '^NESTED-SHELL-EXITED' "'NESTED-SHELL-EXITED' (the shell read 'exit' from stdin)"
	expect_rc 0
}
