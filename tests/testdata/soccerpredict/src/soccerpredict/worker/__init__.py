"""Celery worker for batch predictions."""
