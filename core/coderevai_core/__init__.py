"""What the CodeRevAI server (`shared/`) and its command line (`cli/`) share, one module an idea.
Empty on purpose: a function imports the modules it uses and nothing else (cold start)."""
