"""The lessons: stories, each a config plus what to watch and why."""
