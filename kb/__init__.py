"""The open knowledge base of MLLM explainability research."""

__version__ = "0.1.0"
