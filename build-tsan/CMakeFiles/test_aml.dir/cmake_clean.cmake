file(REMOVE_RECURSE
  "CMakeFiles/test_aml.dir/tests/unit/test_aml.c.o"
  "CMakeFiles/test_aml.dir/tests/unit/test_aml.c.o.d"
  "tests/test_aml"
  "tests/test_aml.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_aml.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
