# Empty compiler generated dependencies file for test_virtqueue.
# This may be replaced when dependencies are built.
