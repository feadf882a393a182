# Empty compiler generated dependencies file for test_virtqueue_smp.
# This may be replaced when dependencies are built.
