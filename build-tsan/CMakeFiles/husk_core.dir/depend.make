# Empty dependencies file for husk_core.
# This may be replaced when dependencies are built.
