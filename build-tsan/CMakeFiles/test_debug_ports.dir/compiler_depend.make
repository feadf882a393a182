# Empty compiler generated dependencies file for test_debug_ports.
# This may be replaced when dependencies are built.
