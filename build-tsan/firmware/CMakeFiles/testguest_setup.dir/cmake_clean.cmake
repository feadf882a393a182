file(REMOVE_RECURSE
  "CMakeFiles/testguest_setup.dir/testguest/setup.S.o"
  "testguest-setup.elf"
  "testguest-setup.elf.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang ASM)
  include(CMakeFiles/testguest_setup.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
