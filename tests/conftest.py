import os

from core.runtime.setup import configure_process

# Before NumPy or Qt load: one BLAS thread (2 shared cores), the allocator tuned as main.py does; no display needed.
configure_process()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
