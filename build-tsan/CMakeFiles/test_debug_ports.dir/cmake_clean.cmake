file(REMOVE_RECURSE
  "CMakeFiles/test_debug_ports.dir/tests/unit/test_debug_ports.c.o"
  "CMakeFiles/test_debug_ports.dir/tests/unit/test_debug_ports.c.o.d"
  "tests/test_debug_ports"
  "tests/test_debug_ports.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_debug_ports.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
