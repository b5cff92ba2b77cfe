"""HW4 starter package: a two-layer neural network written with numpy."""
