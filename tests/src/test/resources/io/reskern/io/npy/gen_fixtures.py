"""Regenerates the NumPy-written fixtures of NpyTest (run here: python3 gen_fixtures.py; numpy >= 1.17)."""
import numpy as np
from numpy.lib import format as fmt

def save(name, a, version=None):
    with open(name, "wb") as f:
        fmt.write_array(f, a, version=version)

a23 = np.arange(6, dtype="<f4").reshape(2, 3) * 0.5 - 1
save("f4_2x3.npy", a23)
save("f4_scalar.npy", np.array(3.25, dtype="<f4"))
save("f4_3.npy", np.array([1.5, -2.0, 7.0], dtype="<f4"))
save("f4_empty.npy", np.zeros((0,), dtype="<f4"))
save("f4_1x2x3x4.npy", np.arange(24, dtype="<f4").reshape(1, 2, 3, 4))
save("f4_bigdim_0.npy", np.zeros((12345678901, 0), dtype="<f4"))
save("f4_be_2x2.npy", np.array([[1.0, -2.5], [np.inf, 1e-40]], dtype=">f4"))
save("f8_4.npy", np.array([0.1, 1e300, -1e-50, np.nan], dtype="<f8"))
save("f8_be_2.npy", np.array([2.0 ** -149, -3.0], dtype=">f8"))
save("f2_6.npy", np.array([1.0, 2.0 ** -24, -np.inf, 65504.0, -0.0, np.nan], dtype="<f2"))
save("u1_2x2x3.npy", np.arange(12, dtype="u1").reshape(2, 2, 3) * 20)
save("f4_fortran_2x3x4.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
save("u1_fortran_3x2.npy", np.asfortranarray(np.arange(6, dtype="u1").reshape(3, 2)))
save("f4_v2_2x3.npy", a23, version=(2, 0))
save("f4_v3_2x3.npy", a23, version=(3, 0))
save("i8_3.npy", np.array([1, 2, 3], dtype="<i8"))
save("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
