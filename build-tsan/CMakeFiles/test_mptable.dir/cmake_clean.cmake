file(REMOVE_RECURSE
  "CMakeFiles/test_mptable.dir/tests/unit/test_mptable.c.o"
  "CMakeFiles/test_mptable.dir/tests/unit/test_mptable.c.o.d"
  "tests/test_mptable"
  "tests/test_mptable.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_mptable.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
