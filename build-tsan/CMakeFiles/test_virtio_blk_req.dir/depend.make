# Empty dependencies file for test_virtio_blk_req.
# This may be replaced when dependencies are built.
