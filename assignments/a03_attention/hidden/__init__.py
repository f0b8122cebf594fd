"""Hidden tests of a03_attention, one module per grading.toml task."""
