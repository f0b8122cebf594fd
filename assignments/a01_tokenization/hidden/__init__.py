"""Hidden tests of a01_tokenization, one module per grading.toml task; ``corpus`` draws
their texts, ``expect`` compares results, ``bugs`` recomputes known mistakes."""
