"""FastAPI application.

    uvicorn soccerpredict.api.app:app --host 0.0.0.0 --port 8000

Endpoints: ``GET /livez`` (liveness), ``GET /healthz`` (readiness), ``POST /predict``.

At start the service loads the champion model from ``$MODEL_PATH`` (default models/model.pkl;
the API image bakes the model its build trained with ``train --full`` at /app/models/model.pkl).
Loading runs in the background: until it finishes ``/healthz`` answers 503 ``loading``, and when
it fails (no file, an unusable file) 503 with the reason, so Kubernetes sends no traffic to a
service without its model. There is no fallback: the service serves the model it loaded and
reports that model's own version, in ``/healthz`` and in every prediction.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from soccerpredict import __version__
from soccerpredict.features import features_from_request
from soccerpredict.model import DEFAULT_MODEL_PATH, Predictor, load_model
from soccerpredict.schemas import PredictRequest, PredictResponse

logger = logging.getLogger("soccerpredict.api")


def load_served_model() -> Predictor:
    """The model at ``$MODEL_PATH`` (default models/model.pkl); ModelLoadError when unusable."""
    path = Path(os.environ.get("MODEL_PATH") or DEFAULT_MODEL_PATH)
    return load_model(path)


class ModelState:
    """The served model: loading, loaded, or failed with a reason."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.predictor: Predictor | None = None
        self.error: str | None = None

    def load(self, loader: Callable[[], Predictor]) -> None:
        try:
            predictor = loader()
        except Exception as exc:  # any failure leaves the service unready, with the reason
            logger.error("model not ready: %s", exc)
            with self._lock:
                self.error = f"{type(exc).__name__}: {exc}"
            return
        logger.info("model %s loaded from %s", predictor.version, predictor.source)
        with self._lock:
            self.predictor = predictor

    def load_in_background(self, loader: Callable[[], Predictor]) -> threading.Thread:
        thread = threading.Thread(
            target=self.load, args=(loader,), name="model-loader", daemon=True
        )
        thread.start()
        return thread

    def snapshot(self) -> tuple[Predictor | None, str | None]:
        with self._lock:
            return self.predictor, self.error


def create_app(
    predictor: Predictor | None = None, loader: Callable[[], Predictor] | None = None
) -> FastAPI:
    """Build the app around ``predictor``, or load one in the background with ``loader``
    (default :func:`load_served_model`)."""
    state = ModelState()
    app = FastAPI(title="SoccerPredictAI", version=__version__)
    app.state.model = state
    if predictor is not None:
        state.predictor = predictor
    else:
        app.state.model_loader = state.load_in_background(loader or load_served_model)

    @app.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        served, error = state.snapshot()
        if served is None:
            body = {"status": "not ready", "reason": error} if error else {"status": "loading"}
            return JSONResponse(status_code=503, content=body)
        return JSONResponse(
            content={
                "status": "ready",
                "model_version": served.version,
                "model_source": served.source,
            }
        )

    @app.post("/predict", response_model=PredictResponse)
    def predict(request: PredictRequest) -> PredictResponse | JSONResponse:
        served, _ = state.snapshot()
        if served is None:
            return JSONResponse(status_code=503, content={"detail": "model not ready"})
        row = features_from_request(
            request.home_elo, request.away_elo, request.home_form, request.away_form
        )
        home, draw, away = served.predict_proba([row])[0]
        return PredictResponse(
            home_win=home, draw=draw, away_win=away, model_version=served.version
        )

    return app


app = create_app()
