"""The HTTP API (`../shared/spec/api.md`): FastAPI routers over the control plane."""
