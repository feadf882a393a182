file(REMOVE_RECURSE
  "CMakeFiles/test_virtqueue.dir/tests/unit/test_virtqueue.c.o"
  "CMakeFiles/test_virtqueue.dir/tests/unit/test_virtqueue.c.o.d"
  "tests/test_virtqueue"
  "tests/test_virtqueue.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtqueue.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
