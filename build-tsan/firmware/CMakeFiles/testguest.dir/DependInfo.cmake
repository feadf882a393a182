
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  "ASM"
  )
# The set of files for implicit dependencies of each language:
set(CMAKE_DEPENDS_CHECK_ASM
  "/work/main/firmware/testguest/head.S" "/work/main/build-tsan/firmware/CMakeFiles/testguest.dir/testguest/head.S.o"
  "/work/main/firmware/testguest/intr.S" "/work/main/build-tsan/firmware/CMakeFiles/testguest.dir/testguest/intr.S.o"
  "/work/main/firmware/testguest/trampoline.S" "/work/main/build-tsan/firmware/CMakeFiles/testguest.dir/testguest/trampoline.S.o"
  )
set(CMAKE_ASM_COMPILER_ID "GNU")

# The include file search paths:
set(CMAKE_ASM_TARGET_INCLUDE_PATH
  "/work/main/firmware/testguest"
  "/work/main/src/memory"
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/firmware/testguest/apic.c" "firmware/CMakeFiles/testguest.dir/testguest/apic.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/apic.c.o.d"
  "/work/main/firmware/testguest/boot.c" "firmware/CMakeFiles/testguest.dir/testguest/boot.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/boot.c.o.d"
  "/work/main/firmware/testguest/cmdline.c" "firmware/CMakeFiles/testguest.dir/testguest/cmdline.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/cmdline.c.o.d"
  "/work/main/firmware/testguest/lib.c" "firmware/CMakeFiles/testguest.dir/testguest/lib.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/lib.c.o.d"
  "/work/main/firmware/testguest/main.c" "firmware/CMakeFiles/testguest.dir/testguest/main.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/main.c.o.d"
  "/work/main/firmware/testguest/memtest.c" "firmware/CMakeFiles/testguest.dir/testguest/memtest.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/memtest.c.o.d"
  "/work/main/firmware/testguest/paging.c" "firmware/CMakeFiles/testguest.dir/testguest/paging.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/paging.c.o.d"
  "/work/main/firmware/testguest/serial.c" "firmware/CMakeFiles/testguest.dir/testguest/serial.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/serial.c.o.d"
  "/work/main/firmware/testguest/smp.c" "firmware/CMakeFiles/testguest.dir/testguest/smp.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/smp.c.o.d"
  "/work/main/firmware/testguest/time.c" "firmware/CMakeFiles/testguest.dir/testguest/time.c.o" "gcc" "firmware/CMakeFiles/testguest.dir/testguest/time.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
