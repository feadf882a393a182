file(REMOVE_RECURSE
  "CMakeFiles/test_iobus.dir/tests/unit/test_iobus.c.o"
  "CMakeFiles/test_iobus.dir/tests/unit/test_iobus.c.o.d"
  "tests/test_iobus"
  "tests/test_iobus.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_iobus.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
