"""Request and response schemas shared by the API and the batch worker (pydantic 1.10 API)."""

from __future__ import annotations

from pydantic import BaseModel, Field, validator

ELO_MIN, ELO_MAX = 500.0, 3000.0
FORM_MIN, FORM_MAX = -10.0, 10.0
TEAM_MAX_LENGTH = 64


class PredictRequest(BaseModel):
    """One fixture: team names, pre-match Elo ratings and recent form (mean goal difference)."""

    home_team: str = Field(..., min_length=1, max_length=TEAM_MAX_LENGTH)
    away_team: str = Field(..., min_length=1, max_length=TEAM_MAX_LENGTH)
    home_elo: float = Field(..., ge=ELO_MIN, le=ELO_MAX)
    away_elo: float = Field(..., ge=ELO_MIN, le=ELO_MAX)
    home_form: float = Field(..., ge=FORM_MIN, le=FORM_MAX)
    away_form: float = Field(..., ge=FORM_MIN, le=FORM_MAX)

    class Config:
        extra = "forbid"

    @validator("home_team", "away_team")
    def _team_name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("team name must not be blank")
        return value

    @validator("away_team")
    def _different_teams(cls, value: str, values: dict) -> str:
        home = values.get("home_team")
        if home is not None and home.casefold() == value.casefold():
            raise ValueError("home_team and away_team must differ")
        return value


class PredictResponse(BaseModel):
    """Outcome probabilities (each in [0, 1], summing to 1) and the model that produced them."""

    home_win: float = Field(..., ge=0.0, le=1.0)
    draw: float = Field(..., ge=0.0, le=1.0)
    away_win: float = Field(..., ge=0.0, le=1.0)
    model_version: str
