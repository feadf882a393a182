file(REMOVE_RECURSE
  "CMakeFiles/test_e820.dir/tests/unit/test_e820.c.o"
  "CMakeFiles/test_e820.dir/tests/unit/test_e820.c.o.d"
  "tests/test_e820"
  "tests/test_e820.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_e820.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
