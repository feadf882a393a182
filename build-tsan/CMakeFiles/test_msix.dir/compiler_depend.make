# Empty compiler generated dependencies file for test_msix.
# This may be replaced when dependencies are built.
