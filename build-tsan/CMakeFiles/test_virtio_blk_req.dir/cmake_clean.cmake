file(REMOVE_RECURSE
  "CMakeFiles/test_virtio_blk_req.dir/tests/unit/test_virtio_blk_req.c.o"
  "CMakeFiles/test_virtio_blk_req.dir/tests/unit/test_virtio_blk_req.c.o.d"
  "tests/test_virtio_blk_req"
  "tests/test_virtio_blk_req.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtio_blk_req.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
