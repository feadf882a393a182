# Empty compiler generated dependencies file for mkbzimage.
# This may be replaced when dependencies are built.
