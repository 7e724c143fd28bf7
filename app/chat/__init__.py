"""Conversations, messages and the customer's turn."""
