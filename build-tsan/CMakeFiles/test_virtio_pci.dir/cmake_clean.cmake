file(REMOVE_RECURSE
  "CMakeFiles/test_virtio_pci.dir/tests/unit/test_virtio_pci.c.o"
  "CMakeFiles/test_virtio_pci.dir/tests/unit/test_virtio_pci.c.o.d"
  "tests/test_virtio_pci"
  "tests/test_virtio_pci.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtio_pci.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
