"""The training loop and what it measures as it goes: trainer, statistics, histories, the session, A/B comparison."""
