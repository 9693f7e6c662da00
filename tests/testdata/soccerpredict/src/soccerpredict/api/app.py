"""FastAPI application.

    uvicorn soccerpredict.api.app:app --host 0.0.0.0 --port 8000

Endpoints: ``GET /livez`` (liveness), ``GET /healthz`` (readiness: 503 until a model is usable),
``POST /predict``. The model is read from ``$MODEL_PATH`` (default models/model.pkl); when that
file does not exist a deterministic Elo baseline answers, so the contract holds without a model.
``$MODEL_VERSION`` overrides the reported version.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from soccerpredict import __version__
from soccerpredict.features import features_from_request
from soccerpredict.model import ModelLoadError, Predictor, load_predictor
from soccerpredict.schemas import PredictRequest, PredictResponse

logger = logging.getLogger("soccerpredict.api")


def create_app(predictor: Predictor | None = None) -> FastAPI:
    """Build the app around ``predictor`` (default: :func:`load_predictor` from the environment)."""
    load_error: str | None = None
    if predictor is None:
        try:
            predictor = load_predictor()
        except ModelLoadError as exc:
            load_error = str(exc)
            logger.error("model not ready: %s", exc)

    app = FastAPI(title="SoccerPredictAI", version=__version__)

    @app.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        if predictor is None:
            return JSONResponse(
                status_code=503, content={"status": "not ready", "reason": load_error}
            )
        return JSONResponse(
            content={
                "status": "ready",
                "model_version": predictor.version,
                "model_source": predictor.source,
            }
        )

    @app.post("/predict", response_model=PredictResponse)
    def predict(request: PredictRequest) -> PredictResponse | JSONResponse:
        if predictor is None:
            return JSONResponse(status_code=503, content={"detail": "model not ready"})
        row = features_from_request(
            request.home_elo, request.away_elo, request.home_form, request.away_form
        )
        home, draw, away = predictor.predict_proba([row])[0]
        return PredictResponse(
            home_win=home, draw=draw, away_win=away, model_version=predictor.version
        )

    return app


app = create_app()
