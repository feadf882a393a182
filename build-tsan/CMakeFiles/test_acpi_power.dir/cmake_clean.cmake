file(REMOVE_RECURSE
  "CMakeFiles/test_acpi_power.dir/tests/unit/test_acpi_power.c.o"
  "CMakeFiles/test_acpi_power.dir/tests/unit/test_acpi_power.c.o.d"
  "tests/test_acpi_power"
  "tests/test_acpi_power.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_acpi_power.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
