"""Training, evaluation and the steps the Airflow DAG runs."""
