# Empty custom commands generated dependencies file for tiny_kernels.
# This may be replaced when dependencies are built.
