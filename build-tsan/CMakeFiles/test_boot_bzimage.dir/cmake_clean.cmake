file(REMOVE_RECURSE
  "CMakeFiles/test_boot_bzimage.dir/tests/unit/test_boot_bzimage.c.o"
  "CMakeFiles/test_boot_bzimage.dir/tests/unit/test_boot_bzimage.c.o.d"
  "tests/test_boot_bzimage"
  "tests/test_boot_bzimage.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_boot_bzimage.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
