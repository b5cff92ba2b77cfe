"""HW4 reference solution: the completed TwoLayerNet (not given to students)."""
