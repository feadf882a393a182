file(REMOVE_RECURSE
  "CMakeFiles/test_acpi.dir/tests/unit/test_acpi.c.o"
  "CMakeFiles/test_acpi.dir/tests/unit/test_acpi.c.o.d"
  "tests/test_acpi"
  "tests/test_acpi.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_acpi.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
