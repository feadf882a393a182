file(REMOVE_RECURSE
  "CMakeFiles/mkbzimage.dir/testguest/mkbzimage.c.o"
  "CMakeFiles/mkbzimage.dir/testguest/mkbzimage.c.o.d"
  "mkbzimage"
  "mkbzimage.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/mkbzimage.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
