file(REMOVE_RECURSE
  "CMakeFiles/test_virtqueue_smp.dir/tests/unit/test_virtqueue_smp.c.o"
  "CMakeFiles/test_virtqueue_smp.dir/tests/unit/test_virtqueue_smp.c.o.d"
  "tests/test_virtqueue_smp"
  "tests/test_virtqueue_smp.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtqueue_smp.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
