# Empty compiler generated dependencies file for husk.
# This may be replaced when dependencies are built.
