"""The review engine: a static pass with real analysers, then Gemini with structured output, behind
a cache. Start at `engine.py`; each other module holds one idea (modes, findings, static analysers,
the secrets check, prompts, the Gemini call, the cache, the markdown report, code fixes)."""
