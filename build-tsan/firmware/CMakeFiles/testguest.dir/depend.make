# Empty dependencies file for testguest.
# This may be replaced when dependencies are built.
