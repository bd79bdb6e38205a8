"""Accounts, login, second factor and role assignment."""
