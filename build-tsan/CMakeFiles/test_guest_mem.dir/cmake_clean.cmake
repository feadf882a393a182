file(REMOVE_RECURSE
  "CMakeFiles/test_guest_mem.dir/tests/unit/test_guest_mem.c.o"
  "CMakeFiles/test_guest_mem.dir/tests/unit/test_guest_mem.c.o.d"
  "tests/test_guest_mem"
  "tests/test_guest_mem.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_guest_mem.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
