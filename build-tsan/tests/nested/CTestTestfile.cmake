# CMake generated Testfile for 
# Source directory: /work/main/tests/nested
# Build directory: /work/main/build-tsan/tests/nested
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[nested/run]=] "bash" "/work/main/scripts/nested/run.sh" "--run-only" "--timeout" "540")
set_tests_properties([=[nested/run]=] PROPERTIES  COST "2000" ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "linux_kernel" FIXTURES_SETUP "nested_results" LABELS "nested" RESOURCE_LOCK "nested_outer" RUN_SERIAL "TRUE" TIMEOUT "600" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;28;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/boot-shell]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "boot-shell")
set_tests_properties([=[nested/boot-shell]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/cpus-2]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "cpus-2")
set_tests_properties([=[nested/cpus-2]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/memory-512m]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "memory-512m")
set_tests_properties([=[nested/memory-512m]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/reboot]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "reboot")
set_tests_properties([=[nested/reboot]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/dmesg-clean]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "dmesg-clean")
set_tests_properties([=[nested/dmesg-clean]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/console-input]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "console-input")
set_tests_properties([=[nested/console-input]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/not-a-kernel]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "not-a-kernel")
set_tests_properties([=[nested/not-a-kernel]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/corrupt-initrd]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "corrupt-initrd")
set_tests_properties([=[nested/corrupt-initrd]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/kernel-warnings]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "kernel-warnings")
set_tests_properties([=[nested/kernel-warnings]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/power-button]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "power-button")
set_tests_properties([=[nested/power-button]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/cpus-4]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "cpus-4")
set_tests_properties([=[nested/cpus-4]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/virtio-rng]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "virtio-rng")
set_tests_properties([=[nested/virtio-rng]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
add_test([=[nested/virtio-rng-mmio]=] "bash" "/work/main/scripts/nested/run.sh" "--check-only" "virtio-rng-mmio")
set_tests_properties([=[nested/virtio-rng-mmio]=] PROPERTIES  ENVIRONMENT "HUSK=/work/main/build-tsan/husk;BUILD_DIR=/work/main/build-tsan" FIXTURES_REQUIRED "nested_results" LABELS "nested" TIMEOUT "60" _BACKTRACE_TRIPLES "/work/main/tests/nested/CMakeLists.txt;40;add_test;/work/main/tests/nested/CMakeLists.txt;0;")
