"""Pivotal: the public API of the customer-onboarding platform."""
