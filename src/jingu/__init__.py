"""jingu: a small autograd library on NumPy, and on CuPy where an NVIDIA GPU is present."""
