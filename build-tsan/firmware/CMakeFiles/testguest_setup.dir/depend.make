# Empty dependencies file for testguest_setup.
# This may be replaced when dependencies are built.
