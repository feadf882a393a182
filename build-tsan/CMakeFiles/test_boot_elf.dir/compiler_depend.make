# Empty compiler generated dependencies file for test_boot_elf.
# This may be replaced when dependencies are built.
