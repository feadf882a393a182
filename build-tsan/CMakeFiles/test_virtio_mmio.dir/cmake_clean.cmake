file(REMOVE_RECURSE
  "CMakeFiles/test_virtio_mmio.dir/tests/unit/test_virtio_mmio.c.o"
  "CMakeFiles/test_virtio_mmio.dir/tests/unit/test_virtio_mmio.c.o.d"
  "tests/test_virtio_mmio"
  "tests/test_virtio_mmio.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtio_mmio.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
