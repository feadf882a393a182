file(REMOVE_RECURSE
  "CMakeFiles/test_irq_routing.dir/tests/unit/test_irq_routing.c.o"
  "CMakeFiles/test_irq_routing.dir/tests/unit/test_irq_routing.c.o.d"
  "tests/test_irq_routing"
  "tests/test_irq_routing.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_irq_routing.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
