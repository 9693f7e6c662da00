"""SoccerPredictAI: match-outcome prediction (home win / draw / away win)."""

__version__ = "0.4.0"
