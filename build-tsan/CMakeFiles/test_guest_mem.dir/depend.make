# Empty dependencies file for test_guest_mem.
# This may be replaced when dependencies are built.
