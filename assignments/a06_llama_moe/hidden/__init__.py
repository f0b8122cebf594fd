"""Hidden tests of a06_llama_moe."""
