file(REMOVE_RECURSE
  "CMakeFiles/tiny_kernels"
  "tiny/badfetch.elf"
  "tiny/exit0.elf"
  "tiny/exit42.elf"
  "tiny/exit511.elf"
  "tiny/halt.elf"
  "tiny/i8042.elf"
  "tiny/loop.elf"
  "tiny/triple.elf"
)

# Per-language clean rules from dependency scanning.
foreach(lang )
  include(CMakeFiles/tiny_kernels.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
