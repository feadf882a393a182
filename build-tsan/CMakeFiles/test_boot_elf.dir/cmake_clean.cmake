file(REMOVE_RECURSE
  "CMakeFiles/test_boot_elf.dir/tests/unit/test_boot_elf.c.o"
  "CMakeFiles/test_boot_elf.dir/tests/unit/test_boot_elf.c.o.d"
  "tests/test_boot_elf"
  "tests/test_boot_elf.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_boot_elf.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
