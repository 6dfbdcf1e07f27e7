"""Review history: the caller's reviews (service.py), their wire bodies (schemas.py) and ratings
(feedback.py)."""
