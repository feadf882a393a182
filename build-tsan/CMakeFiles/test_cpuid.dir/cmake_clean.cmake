file(REMOVE_RECURSE
  "CMakeFiles/test_cpuid.dir/tests/unit/test_cpuid.c.o"
  "CMakeFiles/test_cpuid.dir/tests/unit/test_cpuid.c.o.d"
  "tests/test_cpuid"
  "tests/test_cpuid.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_cpuid.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
