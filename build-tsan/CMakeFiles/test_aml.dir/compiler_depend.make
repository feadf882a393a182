# Empty compiler generated dependencies file for test_aml.
# This may be replaced when dependencies are built.
