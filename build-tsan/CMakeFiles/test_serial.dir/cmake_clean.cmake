file(REMOVE_RECURSE
  "CMakeFiles/test_serial.dir/tests/unit/test_serial.c.o"
  "CMakeFiles/test_serial.dir/tests/unit/test_serial.c.o.d"
  "tests/test_serial"
  "tests/test_serial.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_serial.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
