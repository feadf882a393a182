# Empty compiler generated dependencies file for test_irq_routing.
# This may be replaced when dependencies are built.
