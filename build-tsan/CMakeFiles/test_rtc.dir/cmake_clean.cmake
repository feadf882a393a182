file(REMOVE_RECURSE
  "CMakeFiles/test_rtc.dir/tests/unit/test_rtc.c.o"
  "CMakeFiles/test_rtc.dir/tests/unit/test_rtc.c.o.d"
  "tests/test_rtc"
  "tests/test_rtc.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_rtc.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
