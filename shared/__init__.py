"""CodeRevAI Functions: the code every function shares (settings, data, auth, HTTP, services)."""
