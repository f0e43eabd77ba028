"""The Qt window: shows what ``core`` computes, live, and never recomputes it."""
