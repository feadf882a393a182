# Empty compiler generated dependencies file for test_boot_bzimage.
# This may be replaced when dependencies are built.
