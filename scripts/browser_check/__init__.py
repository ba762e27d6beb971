"""Pieces of scripts/sandbox-browser-check.py: its helpers (support) and the merchant's pages (store)."""
