# Empty dependencies file for test_virtio_mmio.
# This may be replaced when dependencies are built.
