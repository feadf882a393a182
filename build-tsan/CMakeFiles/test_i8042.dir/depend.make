# Empty dependencies file for test_i8042.
# This may be replaced when dependencies are built.
