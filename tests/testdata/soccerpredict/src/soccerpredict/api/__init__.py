"""HTTP API serving match-outcome predictions."""
