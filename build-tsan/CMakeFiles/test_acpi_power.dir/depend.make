# Empty dependencies file for test_acpi_power.
# This may be replaced when dependencies are built.
