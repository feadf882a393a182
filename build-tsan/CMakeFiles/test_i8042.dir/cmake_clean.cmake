file(REMOVE_RECURSE
  "CMakeFiles/test_i8042.dir/tests/unit/test_i8042.c.o"
  "CMakeFiles/test_i8042.dir/tests/unit/test_i8042.c.o.d"
  "tests/test_i8042"
  "tests/test_i8042.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_i8042.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
