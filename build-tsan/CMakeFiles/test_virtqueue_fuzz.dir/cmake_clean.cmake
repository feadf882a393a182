file(REMOVE_RECURSE
  "CMakeFiles/test_virtqueue_fuzz.dir/tests/unit/test_virtqueue_fuzz.c.o"
  "CMakeFiles/test_virtqueue_fuzz.dir/tests/unit/test_virtqueue_fuzz.c.o.d"
  "tests/test_virtqueue_fuzz"
  "tests/test_virtqueue_fuzz.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_virtqueue_fuzz.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
