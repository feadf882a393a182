# Empty dependencies file for test_serial.
# This may be replaced when dependencies are built.
