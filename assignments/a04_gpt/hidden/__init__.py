"""Hidden tests of a04_gpt, one module per grading.toml task."""
