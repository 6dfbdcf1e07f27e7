"""coderevai: CodeRevAI reviews from a terminal or a CI job."""

__version__ = "0.1.0"
