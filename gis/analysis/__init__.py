"""Analyses: each a plain function over an engine returning typed results."""
