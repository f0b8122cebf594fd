"""Stage 4 of the pipeline, report: results.json and what people read."""
