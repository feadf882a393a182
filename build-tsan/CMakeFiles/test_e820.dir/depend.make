# Empty dependencies file for test_e820.
# This may be replaced when dependencies are built.
