"""The work-order backend: FastAPI + SQLAlchemy, the system of record of every work order."""
