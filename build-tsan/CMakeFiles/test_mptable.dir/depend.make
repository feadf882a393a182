# Empty dependencies file for test_mptable.
# This may be replaced when dependencies are built.
