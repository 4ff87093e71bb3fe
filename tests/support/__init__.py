"""Test support: a real local IAM endpoint (moto's server) and what it lacks."""
