file(REMOVE_RECURSE
  "CMakeFiles/test_pci.dir/tests/unit/test_pci.c.o"
  "CMakeFiles/test_pci.dir/tests/unit/test_pci.c.o.d"
  "tests/test_pci"
  "tests/test_pci.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_pci.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
