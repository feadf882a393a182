file(REMOVE_RECURSE
  "CMakeFiles/testguest_bzimage"
  "testguest.bzImage"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/testguest_bzimage.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
