import os

# Set before NumPy or Qt load: one BLAS thread (2 shared cores) and no display needed.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
