"""Billing: the caller's subscription, Checkout and the portal (service.py), Stripe's webhook events
(stripe_events.py) and the plan copied to Clerk (clerk_sync.py)."""
