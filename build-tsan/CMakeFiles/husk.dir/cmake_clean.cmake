file(REMOVE_RECURSE
  "CMakeFiles/husk.dir/src/main.c.o"
  "CMakeFiles/husk.dir/src/main.c.o.d"
  "husk"
  "husk.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/husk.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
