file(REMOVE_RECURSE
  "CMakeFiles/test_console.dir/tests/unit/test_console.c.o"
  "CMakeFiles/test_console.dir/tests/unit/test_console.c.o.d"
  "tests/test_console"
  "tests/test_console.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_console.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
