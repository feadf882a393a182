# Empty dependencies file for test_iobus.
# This may be replaced when dependencies are built.
