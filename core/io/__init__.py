"""Files: the one write path, the format registry, the bounded JSON reader, experiments and statistics on disk."""
