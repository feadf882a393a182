# Empty compiler generated dependencies file for test_virtqueue_fuzz.
# This may be replaced when dependencies are built.
