file(REMOVE_RECURSE
  "CMakeFiles/test_msix.dir/tests/unit/test_msix.c.o"
  "CMakeFiles/test_msix.dir/tests/unit/test_msix.c.o.d"
  "tests/test_msix"
  "tests/test_msix.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_msix.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
