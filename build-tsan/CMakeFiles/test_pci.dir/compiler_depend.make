# Empty compiler generated dependencies file for test_pci.
# This may be replaced when dependencies are built.
