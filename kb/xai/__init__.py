"""Reference implementations of MLLM explainability methods and a ground-truth benchmark for them.

Importing this package is light; torch and transformers load with the modules that need them.
The catalog of methods is `kb.xai.catalog.METHODS`; the benchmark is `kb.xai.benchmark.ensure_results`.
"""
