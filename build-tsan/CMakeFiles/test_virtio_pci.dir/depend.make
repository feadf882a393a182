# Empty dependencies file for test_virtio_pci.
# This may be replaced when dependencies are built.
