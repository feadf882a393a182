# Empty dependencies file for test_console.
# This may be replaced when dependencies are built.
