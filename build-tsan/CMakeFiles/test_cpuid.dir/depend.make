# Empty dependencies file for test_cpuid.
# This may be replaced when dependencies are built.
