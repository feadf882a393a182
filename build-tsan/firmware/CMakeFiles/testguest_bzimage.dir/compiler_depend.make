# Empty custom commands generated dependencies file for testguest_bzimage.
# This may be replaced when dependencies are built.
