file(REMOVE_RECURSE
  "CMakeFiles/testguest.dir/testguest/apic.c.o"
  "CMakeFiles/testguest.dir/testguest/apic.c.o.d"
  "CMakeFiles/testguest.dir/testguest/boot.c.o"
  "CMakeFiles/testguest.dir/testguest/boot.c.o.d"
  "CMakeFiles/testguest.dir/testguest/cmdline.c.o"
  "CMakeFiles/testguest.dir/testguest/cmdline.c.o.d"
  "CMakeFiles/testguest.dir/testguest/head.S.o"
  "CMakeFiles/testguest.dir/testguest/intr.S.o"
  "CMakeFiles/testguest.dir/testguest/lib.c.o"
  "CMakeFiles/testguest.dir/testguest/lib.c.o.d"
  "CMakeFiles/testguest.dir/testguest/main.c.o"
  "CMakeFiles/testguest.dir/testguest/main.c.o.d"
  "CMakeFiles/testguest.dir/testguest/memtest.c.o"
  "CMakeFiles/testguest.dir/testguest/memtest.c.o.d"
  "CMakeFiles/testguest.dir/testguest/paging.c.o"
  "CMakeFiles/testguest.dir/testguest/paging.c.o.d"
  "CMakeFiles/testguest.dir/testguest/serial.c.o"
  "CMakeFiles/testguest.dir/testguest/serial.c.o.d"
  "CMakeFiles/testguest.dir/testguest/smp.c.o"
  "CMakeFiles/testguest.dir/testguest/smp.c.o.d"
  "CMakeFiles/testguest.dir/testguest/time.c.o"
  "CMakeFiles/testguest.dir/testguest/time.c.o.d"
  "CMakeFiles/testguest.dir/testguest/trampoline.S.o"
  "testguest.elf"
  "testguest.elf.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang ASM C)
  include(CMakeFiles/testguest.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
