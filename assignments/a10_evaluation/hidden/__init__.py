"""Hidden tests of a10_evaluation."""
